"""``ccm evidence``: verify packs offline, audit the ledger, checkpoint it, build a sample pack."""

import io
import os
import tempfile
import zipfile
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from cryptography import x509
from rich.console import Console
from rich.markup import escape

from ccm.cli.app import app, fail, guarded, settings

__all__ = ["audit", "checkpoint", "evidence_app", "sample", "verify"]

evidence_app = typer.Typer(
    help="Evidence ledger and packs: verify, audit, checkpoint, sample.", no_args_is_help=True
)
app.add_typer(evidence_app, name="evidence")
out = Console(highlight=False, soft_wrap=True)

TrustOption = Annotated[
    Path | None,
    typer.Option(
        "--trust",
        help="PEM file of the root certificate(s) to trust (the operator's CA; ICP-Brasil "
        "roots in production).",
    ),
]


def _pack_roots(pack: Path) -> list[x509.Certificate]:
    """Self-signed certificates the pack carries (trust asserted by the pack itself)."""
    from ccm.evidence.verify import certificates_in

    roots: list[x509.Certificate] = []
    with zipfile.ZipFile(pack) as archive:
        for info in archive.infolist():
            if info.filename.startswith("certs/") and info.file_size <= 1_000_000:
                for cert in certificates_in(archive.read(info)):
                    if cert.subject == cert.issuer:
                        roots.append(cert)
    return roots


@evidence_app.command()
def verify(
    pack: Annotated[Path, typer.Argument(help="The evidence pack (.zip).")],
    trust: TrustOption = None,
    signer: Annotated[
        str | None,
        typer.Option(
            "--signer",
            help="Text the sealer's and signers' certificate subjects must contain, e.g. the "
            "operator's CNPJ: the trust anchors alone admit anyone they certify.",
        ),
    ] = None,
) -> None:
    """Verify an evidence pack offline: hashes, events, proofs, seals, PDF signatures.

    Exit 0 when everything holds, 1 when anything fails (each failure names its file or
    event), 2 when the pack is not a readable ZIP or the trust file cannot be read.
    """
    from ccm.bootstrap import load_trust_anchors, offline_verifier
    from ccm.evidence.verify import verify_pack

    with guarded():
        try:
            data = pack.read_bytes()
        except OSError as error:
            fail(f"cannot read {pack}: {error.strerror or error}")
        if not zipfile.is_zipfile(io.BytesIO(data)):
            fail(f"cannot read {pack}: not a ZIP file")
        if trust is not None:
            roots = load_trust_anchors(trust)
            anchor = f"trusting {trust}"
        else:
            try:
                roots = _pack_roots(pack)
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError):
                roots = []
            anchor = (
                "WARNING: no --trust given; trusting the root certificate inside the pack, "
                "which proves integrity but not who sealed it"
            )
        report = verify_pack(data, verifier=offline_verifier(roots), signer=signer)
    out.print(f"[bold]{escape(str(pack))}[/]  ({escape(anchor)})")
    for check in report.checks:
        mark = "[green]✓[/]" if check.ok else "[bold red]✗[/]"
        out.print(f" {mark} {escape(check.subject)}: {escape(check.detail)}")
    if report.legal_proof:
        out.print(f"legal proof: {escape(report.legal_proof)}")
    if report.ok:
        out.print(f"[bold green]VERIFIED[/]: {len(report.checks)} checks passed")
        return
    out.print(f"[bold red]FAILED[/]: {len(report.failures)} of {len(report.checks)} checks")
    for check in report.failures:
        out.print(f"  - {escape(check.subject)}: {escape(check.detail)}")
    raise typer.Exit(1)


@evidence_app.command()
def audit(trust: TrustOption = None) -> None:
    """Re-verify the whole ledger; exit 1 naming every altered, inserted, deleted or moved event."""
    from ccm.bootstrap import build_ledger, build_verifier
    from ccm.evidence.audit import audit_ledger

    config = settings()
    with guarded():
        report = audit_ledger(build_ledger(config), verifier=build_verifier(config, trust=trust))
    out.print(
        f"{report.events} events, {report.checkpoints} signed checkpoints, "
        f"{report.unanchored} events after the latest checkpoint"
    )
    if report.ok:
        out.print("[bold green]ledger intact[/]")
        return
    for finding in report.findings:
        out.print(f" [bold red]✗[/] {finding.kind}: {escape(finding.message)}")
    out.print(f"[bold red]TAMPERED[/]: {len(report.findings)} findings")
    raise typer.Exit(1)


@evidence_app.command()
def checkpoint(
    if_older_than: Annotated[
        float | None,
        typer.Option(
            "--if-older-than",
            min=0,
            help="Hours: only checkpoint when new events wait and the latest checkpoint is "
            "older (for cron; 24 or less keeps rule R32).",
        ),
    ] = None,
) -> None:
    """Sign and timestamp the ledger's current Merkle root (now, or when due)."""
    from ccm.bootstrap import build_ledger, build_sealer

    config = settings()
    with guarded():
        ledger = build_ledger(config)
        if if_older_than is not None and not ledger.checkpoint_due(timedelta(hours=if_older_than)):
            out.print("no checkpoint needed")
            return
        head = ledger.checkpoint(build_sealer(config))
    out.print(f"checkpoint: {head.tree_size} events, root {head.root_hash}, {head.issued_at}")


@evidence_app.command()
def sample(
    out_path: Annotated[Path, typer.Option("--out", help="Where to write the pack (.zip).")],
) -> None:
    """Build a complete evidence pack offline from the sample notice, "sent" by the sandbox."""
    import templates
    from ccm.bootstrap import (
        build_composer,
        build_database,
        build_ledger,
        build_sandbox_email,
        build_sealer,
        development_trust_anchor,
        uses_development_pki,
    )
    from ccm.evidence.certificate import certificate_renderer
    from ccm.evidence.pack import PackSubject, build_pack
    from ccm.evidence.sample import record_sample_notice, sample_notice_data
    from ccm.persistence.artifacts import FileArtifactStore

    config = settings()
    now = datetime.now(UTC)
    with guarded(), tempfile.TemporaryDirectory(prefix="ccm-sample-") as folder:
        # The trail goes into a throwaway ledger and store, never the operator's own.
        scratch = config.model_copy(
            update={"database_url": f"sqlite:///{Path(folder) / 'sample.db'}"}
        )
        ledger = build_ledger(scratch, build_database(scratch))
        store = FileArtifactStore(Path(folder) / "artifacts")
        composer = build_composer(config)
        communication = f"sample-{now:%Y%m%d-%H%M%S}"
        # "Sent" 20 minutes ago, so the simulated delivery and read receipt are in the past.
        sent_at = now - timedelta(minutes=20)
        parties = record_sample_notice(
            composer=composer,
            ledger=ledger,
            store=store,
            mailer=build_sandbox_email(
                config, outbox=Path(folder) / "outbox", clock=lambda: sent_at
            ),
            data=sample_notice_data(
                templates.ROOT / "delinquency_notice" / "pt-BR" / "sample.json"
            ),
            communication_id=communication,
            signature="development" if uses_development_pki(config) else "icp_brasil",
            now=sent_at,
        )
        pack = build_pack(
            ledger=ledger,
            store=store,
            sealer=build_sealer(config),
            subject=PackSubject(kind="communication", id=communication),
            parties=parties,
            render_certificate=certificate_renderer(composer),
            created_at=now,
        )
        _write(out_path, pack)
    out.print(f"evidence pack: {out_path} ({len(pack):,} bytes, communication {communication})")
    anchor = development_trust_anchor(config) or config.trust_anchors or "<your CA bundle>"
    out.print(f"verify it:     ccm evidence verify {out_path} --trust {anchor}")


def _write(path: Path, data: bytes) -> None:
    """Write via a temporary file so a failure leaves no half-written pack."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as error:
        fail(f"cannot write {path}: {error.strerror or error}")
