"""Scale-out for real: PostgreSQL, Redis, the API and two `ccm worker` processes.

Given the same code configured for PostgreSQL and a Redis broker, when notices are posted
to the API one by one and as a batch upload, then every one reaches `proven`, each was
sent exactly once, the work was shared by both workers, and the ledger audits clean.
When RN 593 cases are imported, both workers' ladder timers advance them at once: each
attempt is launched once, every case ends proved, and a case pack verifies offline.
"""

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from ccm.config import Settings
from ccm.evidence.audit import audit_ledger
from ccm.evidence.ledger import Ledger
from ccm.rn593.ladder import LadderStep, load_profile
from tests.api.case_files import SAMPLES, case_file
from tests.api.conftest import REQUEST
from tests.servers import free_port, post_notices, wait_proven, wait_ready

pytestmark = pytest.mark.xdist_group("servers")


def _ccm(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ccm.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _post_batch(base: str, headers: dict[str, str], count: int) -> list[str]:
    """Upload ``count`` notices as one JSONL batch; return their communication ids."""
    body = json.loads(REQUEST.read_text(encoding="utf-8"))
    lines = []
    for row in range(count):
        body["recipient"]["id"] = f"BATCH-{row}"
        lines.append(json.dumps(body))
    created = httpx.post(
        f"{base}/v1/batches",
        content="\n".join(lines).encode(),
        headers={**headers, "Content-Type": "application/x-ndjson"},
        timeout=60,
    )
    assert created.status_code == 202 and created.json()["accepted"] == count, created.text
    listed = httpx.get(f"{base}{created.json()['links']['rows']}", headers=headers, timeout=10)
    return [row["communication_id"] for row in listed.json()["rows"]]


@contextmanager
def _cluster(
    tmp_path: Path, home: Path, postgres_url: str, redis_url: str, **extra: str
) -> Iterator[tuple[str, dict[str, str], dict[str, str]]]:
    """The API and two ``ccm worker`` processes on PostgreSQL and Redis; yields the base
    URL, an admin key's headers and the environment, and stops every process on the way out."""
    (tmp_path / "pki").symlink_to(home / "pki")
    env = {
        **os.environ,
        "CCM_HOME": str(tmp_path),
        "CCM_DATABASE_URL": postgres_url,
        "CCM_BROKER_URL": redis_url,
        "CCM_SANDBOX_DELIVERY_DELAY_SECONDS": "0.2",
        "CCM_SANDBOX_PROOF_DELAY_SECONDS": "0.3",
        "CCM_RELAY_INTERVAL_SECONDS": "0.1",
        "CCM_WORKER_THREADS": "1",
        **extra,
    }
    upgraded = _ccm("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    created = _ccm("keys", "create", "--role", "admin", "--name", "scale", env=env)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]

    port = free_port()
    logs = {name: (tmp_path / f"{name}.log").open("wb") for name in ("api", "w1", "w2")}
    processes = {
        "api": subprocess.Popen(
            [sys.executable, "-m", "ccm.cli", "serve", "--port", str(port)],
            env=env, stdout=logs["api"], stderr=subprocess.STDOUT,
        ),
        **{
            name: subprocess.Popen(
                [sys.executable, "-m", "ccm.cli", "worker"],
                env=env, stdout=logs[name], stderr=subprocess.STDOUT,
            )
            for name in ("w1", "w2")
        },
    }  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{base}/readyz", processes["api"])
        yield base, {"Authorization": f"Bearer {token}"}, env
    finally:
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        for handle in logs.values():
            handle.close()


def test_api_and_two_workers_on_postgresql_and_redis(
    tmp_path: Path, home: Path, pki: Any, postgres_url: str, redis_url: str
) -> None:
    with _cluster(tmp_path, home, postgres_url, redis_url) as (base, headers, _):
        ids = post_notices(base, headers, 4, key="scale")  # single requests
        ids += _post_batch(base, headers, 6)  # and a JSONL upload
        pending = wait_proven(base, ids, headers, seconds=180)
        assert not pending, (tmp_path / "w1.log").read_text()[-2000:]

    settings = Settings(home=tmp_path)
    for communication_id in ids:
        assert len(list((settings.outbox_dir / communication_id).glob("*.eml"))) == 1
    engine = create_engine(postgres_url)
    ledger = Ledger(engine)
    counts = Counter((r.communication_id, r.body["type"]) for r in ledger.records())
    for communication_id in ids:
        for kind in (
            "submission_accepted",
            "document_signed",
            "relay_accepted",
            "content_accessed",
        ):
            assert counts[(communication_id, kind)] == 1, (communication_id, kind)
    assert audit_ledger(ledger, verifier=None).ok
    with engine.connect() as connection:
        states: dict[str, int] = dict(
            connection.execute(text("SELECT state, count(*) FROM jobs GROUP BY state")).all()
        )
        workers = {r[0] for r in connection.execute(text("SELECT DISTINCT worker FROM jobs"))}
    assert states == {"done": 10 * 4}  # compose, send and two signals each
    assert len(workers) == 2, workers  # both worker processes took jobs
    engine.dispose()


def _wait_cases(
    base: str, headers: dict[str, str], ids: list[str], seconds: float
) -> dict[str, Any]:
    """Poll until no case is open or notifying; return each case as last read."""
    deadline, read = time.monotonic() + seconds, dict[str, Any]()
    while time.monotonic() < deadline:
        read = {
            case_id: httpx.get(f"{base}/v1/cases/{case_id}", headers=headers, timeout=10).json()
            for case_id in ids
        }
        if all(case["state"] not in {"open", "notifying"} for case in read.values()):
            break
        time.sleep(0.5)
    return read


def test_rn593_ladders_on_two_workers(
    tmp_path: Path, home: Path, pki: Any, postgres_url: str, redis_url: str
) -> None:
    profile = load_profile(SAMPLES / "operator-profile.json").model_copy(
        update={
            "quiet_hours": None,
            "steps": (
                LadderStep(channels=("email", "whatsapp|sms")),
                LadderStep(channels=("ivr",), after=timedelta(seconds=20)),
                LadderStep(channels=("agent_call", "registered_mail"), after=timedelta(hours=1)),
            ),
        }
    )
    (tmp_path / "profile.json").write_text(profile.model_dump_json(), encoding="utf-8")
    climbing = [case_file(f"SCALE-C{n}") for n in range(3)]  # never read, never answered
    answering = [
        case_file(f"SCALE-A{n}", email=f"pagador{n}@example.com", phone=f"+551198765432{n}")
        for n in range(2)
    ]
    with _cluster(
        tmp_path, home, postgres_url, redis_url.rsplit("/", 1)[0] + "/1",
        CCM_RN593_PROFILE=str(tmp_path / "profile.json"),
        CCM_RN593_INTERVAL_SECONDS="0.3",
    ) as (base, headers, env):  # fmt: skip
        response = httpx.post(
            f"{base}/v1/cases/import",
            content=json.dumps(climbing + answering).encode(),
            headers={**headers, "Content-Type": "application/json"},
            timeout=60,
        )
        assert response.status_code == 201, response.text
        ids = response.json()["created"]
        read = _wait_cases(base, headers, ids, seconds=180)
        assert {case["state"] for case in read.values()} == {"proved"}, (
            tmp_path / "w1.log"
        ).read_text()[-3000:]
        first = ids[0]
        refused = httpx.post(
            f"{base}/v1/cases/{first}/termination", json={"kind": "termination"},
            headers=headers, timeout=30,
        )  # fmt: skip
        assert refused.status_code == 409, refused.text
        assert "payment_window_open" in refused.json()["blocks"]
        pack = httpx.get(f"{base}/v1/cases/{first}/evidence-pack", headers=headers, timeout=60)
        assert pack.status_code == 200, pack.text
        (tmp_path / "case-pack.zip").write_bytes(pack.content)
        verified = _ccm(
            "evidence", "verify", str(tmp_path / "case-pack.zip"),
            "--trust", str(tmp_path / "pki" / "ca.pem"), env=env,
        )  # fmt: skip
        assert verified.returncode == 0, verified.stdout + verified.stderr

    by_contract = {case["contract_id"]: case for case in read.values()}
    for n in range(3):  # proved by the IVR call of the second step
        channels = [a["channel"] for a in by_contract[f"SCALE-C{n}"]["attempts"]]
        assert sorted(channels) == ["email", "ivr", "whatsapp"], channels
        assert by_contract[f"SCALE-C{n}"]["clock"]["proof"]["channel"] == "ivr"
    for n in range(2):  # proved at the first step: no call
        channels = [a["channel"] for a in by_contract[f"SCALE-A{n}"]["attempts"]]
        assert sorted(channels) == ["email", "whatsapp"], channels
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        sent = Counter(
            (row.case_id, row.channel)
            for row in connection.execute(
                text(
                    "SELECT c.case_id, d.channel FROM communications c "
                    "JOIN deliveries d ON d.communication_id = c.id"
                )
            )
        )
        workers = {r[0] for r in connection.execute(text("SELECT DISTINCT worker FROM jobs"))}
    assert sent and set(sent.values()) == {1}, sent  # every attempt sent exactly once
    for contract, called in [(f"SCALE-C{n}", True) for n in range(3)] + [
        (f"SCALE-A{n}", False) for n in range(2)
    ]:  # an answered first step may cancel its other message before it goes: not counted
        assert ((by_contract[contract]["id"], "ivr") in sent) is called, contract
    assert len(workers) == 2, workers
    assert audit_ledger(Ledger(engine), verifier=None).ok
    engine.dispose()
