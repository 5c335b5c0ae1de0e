"""Kill the server in the middle of a batch, restart it: every notice completes, once."""

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from ccm.bootstrap import build_database, build_ledger
from ccm.config import Settings
from ccm.evidence.audit import audit_ledger
from ccm.persistence.tables import jobs
from ccm.service.keys import Role, create_key
from tests.servers import free_port, post_notices, wait_proven, wait_ready

pytestmark = pytest.mark.xdist_group("servers")


def _start(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "ccm.cli", "serve", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz", process)
    except AssertionError as error:
        process.kill()
        raise AssertionError(f"{error}: {log.read_text()[-2000:]}") from error
    return process


def test_killing_the_server_mid_batch_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path, home: Path, pki: Any
) -> None:
    (tmp_path / "pki").symlink_to(home / "pki")
    env = {
        **os.environ,
        "CCM_HOME": str(tmp_path),
        "CCM_SANDBOX_DELIVERY_DELAY_SECONDS": "0.5",
        "CCM_SANDBOX_PROOF_DELAY_SECONDS": "0.5",
        "CCM_RELAY_INTERVAL_SECONDS": "0.05",
    }
    settings = Settings(home=tmp_path)
    token = create_key(build_database(settings), name="batch", roles={Role.SUBMITTER})[1]
    port, log = free_port(), tmp_path / "server.log"
    headers = {"Authorization": f"Bearer {token}"}

    server = _start(env, port, log)
    ids = post_notices(f"http://127.0.0.1:{port}", headers, 8, key="row")
    server.send_signal(signal.SIGKILL)  # mid-batch: jobs pending, running and half-sent
    server.wait()
    with build_database(settings).connect() as connection:
        unfinished = connection.execute(
            select(func.count()).select_from(jobs).where(jobs.c.state != "done")
        ).scalar_one()
    assert unfinished > 0  # the kill really interrupted work

    server = _start(env, port, log)
    try:
        pending = wait_proven(f"http://127.0.0.1:{port}", ids, headers)
        assert not pending, f"not proven after restart: {pending}; log: {log.read_text()[-3000:]}"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    for communication_id in ids:
        sent = list((settings.outbox_dir / communication_id).glob("*.eml"))
        assert len(sent) == 1, communication_id
    ledger = build_ledger(settings, build_database(settings))
    per_type = Counter(
        (r.communication_id, r.body["type"]) for r in ledger.records() if r.communication_id in ids
    )
    for communication_id in ids:
        for kind in (
            "submission_accepted",
            "document_signed",
            "relay_accepted",
            "content_accessed",
        ):
            assert per_type[(communication_id, kind)] == 1, (communication_id, kind)
    assert audit_ledger(ledger, verifier=None).ok
