"""``ccm serve``, ``ccm worker`` and ``ccm keys create``."""

import os
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import Engine

from ccm.cli.app import app, fail, guarded, settings
from ccm.config import Settings

__all__ = ["create_key", "keys_app", "serve", "worker"]

out = Console(highlight=False, soft_wrap=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def create_key(
    role: Annotated[
        list[str],
        typer.Option("--role", help="submitter, editor, approver, legal, agent or admin (repeat)."),
    ],
    name: Annotated[str, typer.Option("--name", help="Who or what uses the key.")] = "api client",
) -> None:
    """Create an API key; the key itself is printed once, on the last line."""
    from ccm.bootstrap import build_database
    from ccm.service.keys import Role
    from ccm.service.keys import create_key as make

    valid = {r.value for r in Role}
    unknown = [r for r in role if r not in valid]
    if unknown:
        fail(f"--role: {unknown[0]!r} is not one of {', '.join(sorted(valid))}")
    config = settings()
    with guarded():
        key, token = make(build_database(config), name=name, roles={Role(r) for r in role})
    out.print(f"key {key.id} ({name}) with roles {', '.join(sorted(key.roles))}:")
    print(token)


def _demo_key(home: Path) -> str:
    """The demo admin key, created once and kept in CCM_HOME/demo-api-key."""
    from ccm.bootstrap import build_database
    from ccm.config import Settings
    from ccm.service.keys import Role, authenticate
    from ccm.service.keys import create_key as make

    path = home / "demo-api-key"
    engine = build_database(Settings(home=home))
    if path.exists():
        token = path.read_text().strip()
        if authenticate(engine, token) is not None:
            return token
    _, token = make(engine, name="demo", roles={Role.ADMIN})
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    return token


def _demo_case(config: Settings, engine: Engine) -> str:
    """Import the demo RN 593 case (dated from today) unless its contract has one open."""
    from ccm.bootstrap import build_artifact_store, build_ledger, build_protocol_issuer
    from ccm.rn593.demo import demo_case, demo_profile
    from ccm.rn593.ladder import load_profile
    from ccm.service.cases import import_cases, list_cases, local_date

    now = datetime.now(UTC)
    case = demo_case(local_date(now))
    for stored in list_cases(engine):
        if stored.contract_id == case.case.contract.id and stored.closed_at is None:
            return stored.id
    result = import_cases(
        engine,
        build_ledger(config, engine),
        build_artifact_store(config),
        [case],
        profile=demo_profile(load_profile(config.rn593_profile)),
        imported_by="demo",
        now=now,
        protocols=build_protocol_issuer(config, engine),
    )
    return result.created[0]


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
    demo: Annotated[bool, typer.Option(help="Print a demo admin key and a first request.")] = False,
) -> None:
    """The API with an in-process worker (embedded default), or the API alone when
    CCM_BROKER_URL points at Redis or RabbitMQ (then run `ccm worker` processes)."""
    import uvicorn

    from api.main import build_services, create_app
    from ccm.bootstrap import build_database, build_runtime

    config = settings()
    if demo and "CCM_RN593_INTERVAL_SECONDS" not in os.environ:
        config = config.model_copy(update={"rn593_interval_seconds": 5.0})
    with guarded():
        engine = build_database(config)
        runtime = build_runtime(config, engine)
        in_process = config.broker_url is None or config.broker_url.startswith("memory://")
        runtime.start(consume=in_process, sole_worker=in_process)
        application = create_app(build_services(config, engine), on_shutdown=[runtime.stop])
        token = _demo_key(config.home) if demo else None
        case_id = _demo_case(config, engine) if demo else None
    base = f"http://{host}:{port}"
    out.print(f"ccm API on {base}  (docs: {base}/docs)")
    out.print("worker: " + ("in this process" if in_process else f"via {config.broker_url}"))
    if token:
        out.print(f"demo API key (admin): {token}")
        out.print("send the sample notice (then follow the README's walk-through):")
        out.print(f"  export CCM_KEY={token}")
        out.print(
            f"  curl -s {base}/v1/communications -H 'Authorization: Bearer '$CCM_KEY "
            "-H 'Content-Type: application/json' -d @api/examples/delinquency-notice-request.json"
        )
        out.print(f"RN 593 demo case {case_id}: its ladder climbs in about a minute; follow it:")
        out.print(f"  curl -s {base}/v1/cases/{case_id} -H 'Authorization: Bearer '$CCM_KEY")
    uvicorn.run(application, host=host, port=port, log_level="warning")


@app.command()
def worker() -> None:
    """A worker process for scale-out: consumes jobs from CCM_BROKER_URL until stopped."""
    from ccm.bootstrap import build_database, build_runtime

    config = settings()
    if config.broker_url is None or config.broker_url.startswith("memory://"):
        fail(
            "ccm worker needs CCM_BROKER_URL=redis://... or amqp://... (embedded mode runs "
            "the worker inside `ccm serve`)"
        )
    with guarded():
        runtime = build_runtime(config, build_database(config))
        runtime.start(consume=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    out.print(f"ccm worker consuming from {config.broker_url}")
    stop.wait()
    runtime.stop()
