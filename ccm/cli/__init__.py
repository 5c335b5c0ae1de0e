"""The ``ccm`` command line: templates, render, samples, evidence, pki, db."""

from ccm.cli import (  # noqa: F401
    cases,
    db,
    evidence,
    inbound,
    mail,
    pki,
    render,
    rn593,
    service,
    templates,
)
from ccm.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    app(prog_name="ccm")
