"""The ``ccm`` command line: ``templates``, ``render``, ``samples``, ``pki``, ``db``."""

from ccm.cli import db, pki, render, templates  # noqa: F401  (each registers its commands)
from ccm.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    app(prog_name="ccm")
