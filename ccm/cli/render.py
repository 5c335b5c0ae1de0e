"""``ccm render`` (one template, one channel) and ``ccm samples`` (everything)."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Column, Table

from ccm.cli.app import app, fail, guarded, settings
from ccm.composition.channels import Channel

if TYPE_CHECKING:
    from ccm.composition import Composer, Composition
    from ccm.config import Settings
    from ccm.identifiers import ProtocolIssuer

__all__ = ["EXTENSIONS", "render", "samples", "write_channel"]

EXTENSIONS = {
    Channel.DOCUMENT: ".pdf",
    Channel.EMAIL: ".eml",
    Channel.SMS: ".txt",
    Channel.WHATSAPP: ".txt",
    Channel.VOICE: ".json",
    Channel.AGENT_SCRIPT: ".html",
}
out = Console(highlight=False)


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a failure never leaves a partial file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as error:
        fail(f"cannot write {path}: {error.strerror or error}")
    finally:
        tmp.unlink(missing_ok=True)


def _bytes_of(
    composer: Composer,
    composition: Composition,
    channel: Channel,
    *,
    sign: bool,
    document_pdf: bytes | None,
) -> bytes:
    from ccm.composition.mime import build_email
    from ccm.composition.outputs import (
        AgentScriptRendering,
        DocumentRendering,
        EmailRendering,
        TextRendering,
        VoiceRendering,
    )

    rendering = composer.render(composition, channel, sign=sign)
    if isinstance(rendering, DocumentRendering):
        return rendering.pdf
    if isinstance(rendering, EmailRendering):
        attachment = None
        if Channel.DOCUMENT in composition.variant.spec.channels:
            pdf = document_pdf or _bytes_of(
                composer, composition, Channel.DOCUMENT, sign=sign, document_pdf=None
            )
            attachment = (f"{composition.variant.manifest.id}-{composition.doc.id}.pdf", pdf)
        return build_email(composition, rendering, attachment=attachment).as_bytes()
    if isinstance(rendering, TextRendering):
        return (rendering.text + "\n").encode("utf-8")
    if isinstance(rendering, VoiceRendering):
        script = {
            "template": rendering.template,
            "document_id": rendering.document_id,
            "identity_items": list(rendering.identity_items),
            "max_attempts": rendering.max_attempts,
            "steps": [
                {
                    "id": s.id,
                    "text": s.text,
                    "gather_digits": s.gather_digits,
                    "discloses": s.discloses,
                }
                for s in rendering.steps
            ],
        }
        return (json.dumps(script, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    if isinstance(rendering, AgentScriptRendering):
        return rendering.html.encode("utf-8")
    raise TypeError(f"no file form for {type(rendering).__name__}")  # pragma: no cover


def write_channel(
    composer: Composer,
    composition: Composition,
    channel: Channel,
    path: Path,
    *,
    sign: bool,
    document_pdf: bytes | None = None,
) -> bytes:
    """Render ``channel`` into ``path`` atomically and return the bytes written.

    An e-mail attaches ``document_pdf`` when given, so that the PDF sent is the PDF
    archived; otherwise it renders the document once for the attachment.
    """
    data = _bytes_of(composer, composition, channel, sign=sign, document_pdf=document_pdf)
    _atomic_write(path, data)
    return data


def _read_data(path: Path) -> dict[str, Any]:
    try:
        raw = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror}")
    except UnicodeDecodeError:
        fail(f"{path}: the data must be UTF-8 encoded JSON")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as error:
        fail(f"{path}: invalid JSON at line {error.lineno} column {error.colno}: {error.msg}")
    except RecursionError:
        fail(f"{path}: the JSON is nested too deeply")
    if not isinstance(data, dict):
        fail(f"{path}: the data must be a JSON object")
    return data


class _Protocols:
    """Issues call protocol numbers (RN 623: the call's first act); one database per command."""

    def __init__(self, config: Settings) -> None:
        self._config = config
        self._issuer: ProtocolIssuer | None = None

    def issue(self, data: dict[str, Any]) -> str | None:
        from ccm.bootstrap import build_protocol_issuer, today

        ans = (data.get("operator") or {}).get("ans_registration")
        if not ans:
            return None
        if self._issuer is None:
            self._issuer = build_protocol_issuer(self._config)
        return self._issuer.issue(ans_registration=ans, day=today())


@app.command()
def render(
    template: Annotated[str, typer.Argument(help="Template id, e.g. delinquency_notice.")],
    data: Annotated[Path, typer.Option("--data", help="JSON data file ('-' for stdin).")],
    out_path: Annotated[Path, typer.Option("--out", help="Where to write the output.")],
    locale: Annotated[
        str | None, typer.Option(help="pt-BR or pt-PT; the template's first by default.")
    ] = None,
    channel: Annotated[Channel, typer.Option(help="Which variant to render.")] = Channel.DOCUMENT,
    sign: Annotated[
        bool, typer.Option("--sign/--no-sign", help="Sign the PDF (PAdES B-T).")
    ] = True,
    document_id: Annotated[
        str | None, typer.Option(help="Document id; derived from the data by default.")
    ] = None,
    protocol: Annotated[
        str | None, typer.Option(help="Call protocol for agent scripts; issued when omitted.")
    ] = None,
) -> None:
    """Render one channel of a template with the given data.

    Exit 2 with ``path: rule`` lines when the data is invalid.
    """
    from ccm.bootstrap import build_composer

    payload = _read_data(data)
    config = settings()
    with guarded():
        if protocol is not None:
            config.protocol_format.validate(protocol)
        composer = build_composer(
            config, sign=sign and channel in (Channel.DOCUMENT, Channel.EMAIL)
        )
        composition = composer.prepare(template, payload, locale=locale, document_id=document_id)
        if channel is Channel.AGENT_SCRIPT:
            protocol = protocol or _Protocols(config).issue(payload)
        if protocol is not None:
            composition = composition.with_protocol(protocol)
        written = write_channel(composer, composition, channel, out_path, sign=sign)
    out.print(
        f"{out_path}  {composition.variant.ref}  {channel}  document {composition.doc.id}",
        markup=False,
        soft_wrap=True,
    )
    out.print(f"sha256 {hashlib.sha256(written).hexdigest()}", markup=False)


@app.command()
def samples(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the rendered samples.")] = Path(
        "out"
    ),
    sign: Annotated[bool, typer.Option("--sign/--no-sign", help="Sign the PDFs.")] = True,
) -> None:
    """Render every sample of every template, in every channel, into ``--out``."""
    from ccm.bootstrap import build_composer

    config = settings()
    table = Table("template", "locale", "sample", "channel", Column("file", overflow="fold"))
    protocols = _Protocols(config)
    with guarded():
        composer = build_composer(config, sign=sign)
        for template_id in composer.library.ids():
            manifest = composer.library.manifest(template_id)
            for locale in manifest.locales:
                variant = composer.library.variant(template_id, locale)
                for sample_name, payload in variant.samples():
                    composition = composer.prepare(template_id, payload, locale=locale)
                    if Channel.AGENT_SCRIPT in variant.spec.channels:
                        composition = composition.with_protocol(protocols.issue(payload) or "")
                    stem = Path(sample_name).stem
                    document_pdf = None
                    # The document first: the e-mail attaches the very PDF that was written.
                    ordered = sorted(variant.spec.channels, key=lambda c: c is not Channel.DOCUMENT)
                    for channel in ordered:
                        name = f"{stem}.{channel}{EXTENSIONS[channel]}"
                        path = out_dir / template_id / locale / name
                        written = write_channel(
                            composer,
                            composition,
                            channel,
                            path,
                            sign=sign,
                            document_pdf=document_pdf,
                        )
                        if channel is Channel.DOCUMENT:
                            document_pdf = written
                        table.add_row(template_id, locale, stem, channel, escape(str(path)))
    out.print(table)
    out.print(
        f"Rendered {table.row_count} files into {out_dir.resolve()}", markup=False, soft_wrap=True
    )
