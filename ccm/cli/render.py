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
from rich.table import Column, Table

from ccm.cli.app import app, fail, guarded, settings
from ccm.composition.channels import Channel

if TYPE_CHECKING:
    from ccm.composition import Composer, Composition
    from ccm.config import Settings

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
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _bytes_of(
    composer: Composer, composition: Composition, channel: Channel, *, sign: bool
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
            document = composer.render(composition, Channel.DOCUMENT, sign=sign)
            assert isinstance(document, DocumentRendering)
            name = f"{composition.variant.manifest.id}-{composition.doc.id}.pdf"
            attachment = (name, document.pdf)
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
    assert isinstance(rendering, AgentScriptRendering)
    return rendering.html.encode("utf-8")


def write_channel(
    composer: Composer, composition: Composition, channel: Channel, path: Path, *, sign: bool
) -> str:
    """Render ``channel`` into ``path`` atomically; return its SHA-256."""
    data = _bytes_of(composer, composition, channel, sign=sign)
    _atomic_write(path, data)
    return hashlib.sha256(data).hexdigest()


def _read_data(path: Path) -> dict[str, Any]:
    try:
        raw = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror}")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as error:
        fail(f"{path}: invalid JSON at line {error.lineno} column {error.colno}: {error.msg}")
    if not isinstance(data, dict):
        fail(f"{path}: the data must be a JSON object")
    return data


def _protocol(config: Settings, data: dict[str, Any]) -> str | None:
    """Issue a protocol number for a call script: the first act of the call (RN 623)."""
    from ccm.bootstrap import build_protocol_issuer, today

    ans = (data.get("operator") or {}).get("ans_registration")
    if not ans:
        return None
    return build_protocol_issuer(config).issue(ans_registration=ans, day=today())


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
        composer = build_composer(
            config, sign=sign and channel in (Channel.DOCUMENT, Channel.EMAIL)
        )
        if channel is Channel.AGENT_SCRIPT and protocol is None:
            composer.prepare(template, payload, locale=locale, document_id=document_id)
            protocol = _protocol(config, payload)
        composition = composer.prepare(
            template, payload, locale=locale, document_id=document_id, protocol=protocol
        )
        digest = write_channel(composer, composition, channel, out_path, sign=sign)
    out.print(f"{out_path}  {composition.variant.ref}  {channel}  document {composition.doc.id}")
    out.print(f"sha256 {digest}")


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
    with guarded():
        composer = build_composer(config, sign=sign)
        for template_id in composer.library.ids():
            manifest = composer.library.manifest(template_id)
            for locale in manifest.locales:
                variant = composer.library.variant(template_id, locale)
                for sample_name, payload in variant.samples():
                    protocol = None
                    if Channel.AGENT_SCRIPT in variant.spec.channels:
                        protocol = _protocol(config, payload)
                    composition = composer.prepare(
                        template_id, payload, locale=locale, protocol=protocol
                    )
                    stem = Path(sample_name).stem
                    for channel in variant.spec.channels:
                        name = f"{stem}.{channel}{EXTENSIONS[channel]}"
                        path = out_dir / template_id / locale / name
                        write_channel(composer, composition, channel, path, sign=sign)
                        table.add_row(template_id, locale, stem, channel, str(path))
    out.print(table)
    out.print(f"Rendered {table.row_count} files into {out_dir.resolve()}")
