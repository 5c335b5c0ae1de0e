"""``ccm rn593``: the RN 593 clock of a delinquency case, from the command line."""

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from ccm.cli.app import app, fail, guarded

__all__ = ["evaluate_case", "rn593_app", "schema"]

rn593_app = typer.Typer(
    help="RN 593 delinquency clock: notice deadline, proof, termination eligibility.",
    no_args_is_help=True,
)
app.add_typer(rn593_app, name="rn593")


@rn593_app.command("evaluate")
def evaluate_case(
    case_file: Annotated[Path, typer.Argument(help="CASE.json (see `ccm rn593 schema`).")],
    at: Annotated[str, typer.Option("--at", help="Evaluation date, YYYY-MM-DD.")],
) -> None:
    """Print the clock of a case at a date, as JSON."""
    from ccm.rn593 import evaluate, read_case

    try:
        day = date.fromisoformat(at)
    except ValueError:
        fail(f"--at: must be a date YYYY-MM-DD, got {at!r}")
    try:
        text = case_file.read_bytes()
    except OSError as error:
        fail(f"cannot read {case_file}: {error.strerror or error}")
    with guarded():
        result = evaluate(read_case(text), day)
    typer.echo(json.dumps(result.as_json(), indent=2, ensure_ascii=False))


@rn593_app.command()
def schema() -> None:
    """Print the JSON Schema of CASE.json."""
    from ccm.rn593 import case_schema

    typer.echo(json.dumps(case_schema(), indent=2, ensure_ascii=False))
