"""A real service per module: SQLite, the development PKI, the in-process worker, sandbox
channels with short delays, and API keys for every role."""

import copy
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from api.main import build_services, create_app
from ccm.bootstrap import build_database, build_runtime
from ccm.cli import app
from ccm.config import Settings
from ccm.service.keys import Role, create_key

REQUEST = Path(__file__).parents[2] / "api" / "examples" / "delinquency-notice-request.json"


@dataclass
class Service:
    client: TestClient
    settings: Settings
    engine: Engine
    keys: dict[str, str]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def cli(self, *args: str) -> Result:
        """``ccm ARGS`` on this service's home and database."""
        env = {"CCM_HOME": str(self.settings.home),
               "CCM_DATABASE_URL": self.settings.resolved_database_url}  # fmt: skip
        return CliRunner().invoke(app, list(args), env=env)

    def wait_for(
        self, communication_id: str, status: str, *, who: str = "admin", seconds: float = 40
    ) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while True:
            body: dict[str, Any] = self.client.get(
                f"/v1/communications/{communication_id}", headers=self.auth(who)
            ).json()
            if body["status"] == status or time.monotonic() > deadline:
                return body
            time.sleep(0.1)


@contextmanager
def running_service(folder: Path, home: Path, **overrides: Any) -> Iterator[Service]:
    """The API and its in-process worker on SQLite under ``folder``, with a key per role.

    ``overrides`` are settings (e.g. ``smtp_url``); the session's development PKI is reused.
    """
    settings = Settings(
        home=folder,
        database_url=f"sqlite:///{folder / 'ccm.db'}",
        sandbox_delivery_delay_seconds=0.2,
        sandbox_proof_delay_seconds=0.3,
        relay_interval_seconds=0.05,
        **overrides,
    )
    (folder / "pki").symlink_to(home / "pki")
    engine = build_database(settings)
    runtime = build_runtime(settings, engine)
    runtime.start()
    keys = {}
    for who, roles in {
        "admin": {Role.ADMIN},
        "submitter": {Role.SUBMITTER},
        "other": {Role.SUBMITTER},
        "legal": {Role.LEGAL},
        "editor": {Role.EDITOR},
        "approver": {Role.APPROVER},
        "editor_approver": {Role.EDITOR, Role.APPROVER},
        "gateway": {Role.GATEWAY},
        "agent": {Role.AGENT},
    }.items():
        keys[who] = create_key(engine, name=who, roles=roles)[1]
    app = create_app(build_services(settings, engine))
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield Service(client, settings, engine, keys)
    finally:
        runtime.stop()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, pki: Any, home: Path) -> Iterator[Service]:
    with running_service(tmp_path_factory.mktemp("service"), home) as running:
        yield running


@pytest.fixture
def request_body() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(REQUEST.read_text(encoding="utf-8"))
    return copy.deepcopy(loaded)


@pytest.fixture
def submit(service: Service) -> Callable[..., Any]:
    def post(body: dict[str, Any], who: str = "submitter", **headers: str) -> Any:
        return service.client.post(
            "/v1/communications", json=body, headers={**service.auth(who), **headers}
        )

    return post
