"""``ccm pki init``: the development PKI, and where its trust anchor is."""

from rich.console import Console

from ccm.cli.app import app, guarded, settings

__all__ = ["pki_init"]

out = Console(highlight=False)


@app.command("pki")
def pki_init() -> None:
    """Create the development CA, signer and timestamp authority (if missing) and show them."""
    from signing import DEVELOPMENT_MARK, ensure_development_pki

    config = settings()
    with guarded():
        pki = ensure_development_pki(config.pki_dir)
        signer = pki.signer()
    out.print(f"development PKI in {pki.root.resolve()} ({DEVELOPMENT_MARK})")
    out.print(f"trust anchor (CA certificate): {pki.ca_certificate.resolve()}")
    out.print(f"document signer: {signer.subject}")
    out.print(f"valid until: {signer.certificate.not_valid_after_utc:%Y-%m-%d}")
