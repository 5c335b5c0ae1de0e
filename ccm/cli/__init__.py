"""The ``ccm`` command line: templates, render, samples, evidence, pki, db."""

from ccm.cli import db, evidence, pki, render, service, templates  # noqa: F401  (each registers)
from ccm.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    app(prog_name="ccm")
