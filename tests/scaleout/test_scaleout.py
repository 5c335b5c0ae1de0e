"""Scale-out for real: PostgreSQL, Redis, the API and two `ccm worker` processes.

Given the same code configured for PostgreSQL and a Redis broker, when notices are posted
to the API one by one and as a batch upload, then every one reaches `proven`, each was
sent exactly once, the work was shared by both workers, and the ledger audits clean.
"""

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from ccm.config import Settings
from ccm.evidence.audit import audit_ledger
from ccm.evidence.ledger import Ledger
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


def test_api_and_two_workers_on_postgresql_and_redis(
    tmp_path: Path, home: Path, pki: Any, postgres_url: str, redis_url: str
) -> None:
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
    }
    upgraded = _ccm("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    created = _ccm("keys", "create", "--role", "submitter", "--name", "batch", env=env)
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
    base, headers = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {token}"}
    try:
        wait_ready(f"{base}/readyz", processes["api"])
        ids = post_notices(base, headers, 4, key="scale")  # single requests
        ids += _post_batch(base, headers, 6)  # and a JSONL upload
        pending = wait_proven(base, ids, headers, seconds=180)
        assert not pending, (tmp_path / "w1.log").read_text()[-2000:]
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
        states = dict(
            connection.execute(text("SELECT state, count(*) FROM jobs GROUP BY state")).all()
        )
        workers = {r[0] for r in connection.execute(text("SELECT DISTINCT worker FROM jobs"))}
    assert states == {"done": 10 * 4}  # compose, send and two signals each
    assert len(workers) == 2, workers  # both worker processes took jobs
    engine.dispose()
