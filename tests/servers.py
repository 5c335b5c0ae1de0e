"""Helpers for tests that run ccm as real server processes."""

import socket
import subprocess
import time
from collections.abc import Iterable

import httpx

__all__ = ["free_port", "post_notices", "wait_proven", "wait_ready"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[bytes], *, seconds: float = 60) -> None:
    """Wait until ``url`` answers 200; fail if the process dies or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {seconds} s")


def wait_proven(
    base: str, ids: Iterable[str], headers: dict[str, str], *, seconds: float = 120
) -> set[str]:
    """Poll until every communication is ``proven``; return those that are not."""
    pending, deadline = set(ids), time.monotonic() + seconds
    while pending and time.monotonic() < deadline:
        for communication_id in list(pending):
            status = httpx.get(
                f"{base}/v1/communications/{communication_id}", headers=headers, timeout=10
            ).json()["status"]
            if status == "proven":
                pending.discard(communication_id)
        time.sleep(0.3)
    return pending


def post_notices(base: str, headers: dict[str, str], count: int, *, key: str) -> list[str]:
    """POST the example notice ``count`` times (distinct recipients and idempotency keys)."""
    import json

    from tests.api.conftest import REQUEST

    body = json.loads(REQUEST.read_text(encoding="utf-8"))
    ids = []
    for row in range(count):
        body["recipient"]["id"] = f"BEN-{row}"
        response = httpx.post(
            f"{base}/v1/communications",
            json=body,
            headers={**headers, "Idempotency-Key": f"{key}-{row}"},
            timeout=30,
        )
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
    return ids
