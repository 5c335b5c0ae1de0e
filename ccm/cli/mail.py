"""``ccm mail``: print batches of registered letters and the AR returns."""

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ccm.cli.app import app, fail, guarded, settings

__all__ = ["export", "import_ar", "mail_app"]

mail_app = typer.Typer(
    help="Registered letters with AR: print batches for the print house, AR returns.",
    no_args_is_help=True,
)
app.add_typer(mail_app, name="mail")
out = Console(highlight=False, soft_wrap=True)


def _write(path: Path, data: bytes) -> None:
    """Write via a temporary file: a failure leaves nothing half-written."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


@mail_app.command()
def export(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the batch's PDF and CSV.")],
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many letters.")] = None,
) -> None:
    """Export the queued letters: one merged print-ready PDF (duplex, each letter on a
    new sheet) and a manifest CSV (tracking code, AR service, addressee, pages, SHA-256)."""
    from ccm.bootstrap import build_artifact_store, build_database
    from ccm.service.mail import export_batch

    config = settings()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        fail(f"cannot create {out_dir}: {error.strerror or error}")
    with guarded():
        batch = export_batch(
            build_database(config),
            build_artifact_store(config),
            ar_service=config.correios_ar_service,
            now=datetime.now(UTC),
            limit=limit,
        )
        if batch is None:
            out.print("no letters waiting")
            return
        _write(out_dir / f"{batch.id}.csv", batch.manifest_csv)
        _write(out_dir / f"{batch.id}.pdf", batch.pdf)
    out.print(f"batch {batch.id}: {batch.letters} letters, {batch.pages} pages")
    out.print(f"  {out_dir / (batch.id + '.pdf')}")
    out.print(f"  {out_dir / (batch.id + '.csv')}")


@mail_app.command("import-ar")
def import_ar(
    file: Annotated[Path, typer.Argument(help="CSV of AR returns.")],
    images: Annotated[
        Path | None,
        typer.Option(help="Folder of scanned ARs named <tracking_code>.<jpg|png|tif|pdf>."),
    ] = None,
) -> None:
    """Record AR returns: delivered is the legal proof (dated with the AR, rule R17);
    refused, unknown_address and not_claimed are returned letters. The whole file is
    checked first; with any bad row nothing is recorded (exit 2)."""
    from ccm.bootstrap import build_artifact_store, build_database
    from ccm.service.mail import import_ar as record
    from ccm.service.mail import read_ar_file

    config = settings()
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"cannot read {file}: {getattr(error, 'strerror', None) or error}")
    if images is not None and not images.is_dir():
        fail(f"--images {images}: not a folder")
    with guarded():
        returns = read_ar_file(text, images=images)
        ids = record(
            build_database(config), build_artifact_store(config), returns, now=datetime.now(UTC)
        )
    delivered = sum(r.status == "delivered" for r in returns)
    with_images = sum(r.image is not None for r in returns)
    out.print(
        f"{len(ids)} AR returns recorded: {delivered} delivered, {len(ids) - delivered} returned; "
        f"{with_images} with images"
    )
