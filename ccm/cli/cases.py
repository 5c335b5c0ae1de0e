"""``ccm cases``: import RN 593 delinquency cases, follow them, export the follow-up sheet."""

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ccm.cli.app import app, fail, guarded, settings

__all__ = ["advance", "cases_app", "export", "import_file", "list_all", "show"]

out = Console(highlight=False, soft_wrap=True)
cases_app = typer.Typer(
    help="RN 593 delinquency cases: import, escalation ladder, follow-up sheet.",
    no_args_is_help=True,
)
app.add_typer(cases_app, name="cases")


@cases_app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="CSV, XLSX or JSON (ccm/rn593/import-layout.md).")],
    profile: Annotated[
        Path | None,
        typer.Option(help="The operator's RN 593 profile (JSON); default CCM_RN593_PROFILE."),
    ] = None,
    start: Annotated[
        bool, typer.Option(help="Advance each case's ladder at once (the worker does it later).")
    ] = True,
) -> None:
    """Import cases; nothing is stored unless the whole file is valid."""
    from ccm.bootstrap import (
        build_artifact_store,
        build_database,
        build_ladder,
        build_ledger,
        build_protocol_issuer,
    )
    from ccm.rn593.importing import read_cases
    from ccm.rn593.ladder import load_profile
    from ccm.service.cases import get_case, import_cases, local_date

    try:
        data = file.read_bytes()
    except OSError as error:
        fail(f"cannot read {file}: {error.strerror or error}")
    config = settings()
    with guarded():
        files = read_cases(data, filename=file.name)
        chosen = load_profile(profile or config.rn593_profile)
        engine = build_database(config)
        ladder = build_ladder(config, engine)
        ladder.check(files, chosen, local_date(datetime.now(UTC)))
        result = import_cases(
            engine,
            build_ledger(config, engine),
            build_artifact_store(config),
            files,
            profile=chosen,
            imported_by="cli",
            now=datetime.now(UTC),
            protocols=build_protocol_issuer(config, engine),
        )
        for case_id in (*result.created, *result.updated):
            before = get_case(engine, case_id)
            stored = ladder.advance(case_id) if start else None
            verb = "created" if case_id in result.created else "updated"
            state = f" ({stored.state})" if stored else ""
            if stored and before and stored.round > before.round:
                state += f", round {stored.round + 1} on new contact data"
            out.print(f"{verb} {case_id}{state}")
    out.print(f"{len(result.created)} created, {len(result.updated)} updated")


@cases_app.command("list")
def list_all() -> None:
    """One line per case: id, contract, state, protocol, payer."""
    from ccm.bootstrap import build_database
    from ccm.service.cases import list_cases

    config = settings()
    with guarded():
        for stored in list_cases(build_database(config)):
            out.print(
                f"{stored.id}  {stored.contract_id}  {stored.state}  {stored.protocol or '-'}  "
                f"{stored.file.case.payer.name}"
            )


@cases_app.command()
def show(
    case_id: Annotated[str, typer.Argument(help="The case id (ccm cases list).")],
    at: Annotated[str | None, typer.Option(help="Evaluate the clock at YYYY-MM-DD.")] = None,
) -> None:
    """The case's clock and attempts, as JSON."""
    from ccm.bootstrap import build_database, build_ledger
    from ccm.service.case_clock import (
        attempt_outcomes,
        certificate_section,
        clock_reading,
    )
    from ccm.service.case_disputes import sync_disputes
    from ccm.service.cases import get_case, local_date

    try:
        day = date.fromisoformat(at) if at else local_date(datetime.now(UTC))
    except ValueError:
        fail(f"--at: must be a date YYYY-MM-DD, got {at!r}")
    config = settings()
    with guarded():
        engine = build_database(config)
        ledger = build_ledger(config, engine)
        sync_disputes(engine, ledger, case_id, now=datetime.now(UTC))
        stored = get_case(engine, case_id)
        if stored is None:
            fail(f"no case {case_id}", code=1)
        evaluation, eligible_on = clock_reading(engine, ledger, stored, day)
        section = certificate_section(stored, evaluation, attempt_outcomes(engine, stored))
    view = {
        "id": stored.id,
        "state": str(stored.state),
        "protocol": stored.protocol,
        "clock": evaluation.as_json(),
        "eligible_from": eligible_on.isoformat() if eligible_on else None,
        "attempts": section["attempts"],
    }
    typer.echo(json.dumps(view, indent=2, ensure_ascii=False))


@cases_app.command()
def advance() -> None:
    """Advance every open case's ladder once (the worker does it every
    CCM_RN593_INTERVAL_SECONDS)."""
    from ccm.bootstrap import build_database, build_ladder

    config = settings()
    with guarded():
        count = build_ladder(config, build_database(config)).tick()
    out.print(f"{count} case(s) looked at")


@cases_app.command()
def export(
    out_path: Annotated[Path, typer.Option("--out", help="Where to write the .xlsx.")],
) -> None:
    """Write the operator's follow-up sheet and the compliance summary (XLSX)."""
    from ccm.bootstrap import build_database, build_ledger
    from ccm.rn593.report import follow_up_workbook
    from ccm.service.case_report import case_rows, from_sandbox
    from ccm.service.cases import BRASILIA, local_date

    config = settings()
    now = datetime.now(UTC)
    with guarded():
        engine = build_database(config)
        ledger = build_ledger(config, engine)
        rows = case_rows(engine, ledger, at=local_date(now))
        data = follow_up_workbook(
            rows, generated_at=now.astimezone(BRASILIA), sandbox=from_sandbox(ledger, rows)
        )
    try:
        out_path.write_bytes(data)
    except OSError as error:
        fail(f"cannot write {out_path}: {error.strerror or error}")
    out.print(f"{len(rows)} case(s) written to {out_path}")
