"""The ``ccm`` command line: templates, render, samples, evidence, pki, db."""

from ccm.cli import db, evidence, inbound, mail, pki, render, service, templates  # noqa: F401
from ccm.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    app(prog_name="ccm")
