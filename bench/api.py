"""Benchmark of the service: acceptance throughput and latency, and end-to-end notices.

    .venv/bin/python -m bench.api --requests 400 --notices 30

Starts ``ccm serve`` (embedded: SQLite, in-process worker, sandbox channels) and, as the
baseline, a bare FastAPI endpoint taking the same JSON body, both under uvicorn in their
own processes. Posts the same request with ``--clients`` concurrent clients to each and
prints accepted requests per second and p50/p99 latency, and the ratio ccm / bare; then
the time for ``--notices`` notices to go from POST to ``proven`` (compose, sign, sandbox
send, simulated read receipt, evidence), as notices per minute.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.report import publish

__all__ = ["main", "run"]

REQUEST = (
    Path(__file__).resolve().parents[1] / "api" / "examples" / "delinquency-notice-request.json"
)
BARE_APP = """
from fastapi import FastAPI, Request
app = FastAPI()
@app.post("/v1/communications", status_code=202)
async def accept(request: Request) -> dict:
    body = await request.json()
    return {"id": "bare", "template": body["template"]}
"""


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def _load(
    url: str, body: dict[str, Any], headers: dict[str, str], *, requests: int, clients: int
) -> dict[str, float]:
    latencies: list[float] = []
    lock = threading.Lock()
    errors = [0]

    def client(count: int) -> None:
        with httpx.Client(timeout=60) as http:
            for _ in range(count):
                start = time.perf_counter()
                response = http.post(url, json=body, headers=headers)
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed)
                    errors[0] += response.status_code not in (200, 202)

    per_client = max(1, requests // clients)
    threads = [threading.Thread(target=client, args=(per_client,)) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "errors": errors[0],
        "per_s": len(ordered) / wall,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    }


def run(
    *, requests: int, notices: int, clients: int = 8, home: str | None = None
) -> dict[str, Any]:
    """Run both measurements; ``home`` holds (or gets) the development PKI."""
    folder = Path(tempfile.mkdtemp(prefix="ccm-bench-api-"))
    if home:
        (folder / "pki").symlink_to(Path(home).resolve() / "pki")
    env = {
        **os.environ,
        "CCM_HOME": str(folder),
        "CCM_SANDBOX_DELIVERY_DELAY_SECONDS": "0.5",
        "CCM_SANDBOX_PROOF_DELAY_SECONDS": "0.5",
        "CCM_RELAY_INTERVAL_SECONDS": "0.1",
    }
    created = subprocess.run(
        [sys.executable, "-m", "ccm.cli", "keys", "create", "--role", "submitter"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    headers = {"Authorization": f"Bearer {created.stdout.strip().splitlines()[-1]}"}
    (folder / "bare_app.py").write_text(BARE_APP)
    ccm_port, bare_port = _port(), _port()
    servers = [
        subprocess.Popen([sys.executable, "-m", "ccm.cli", "serve", "--port", str(ccm_port)],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([sys.executable, "-m", "uvicorn", "bare_app:app", "--port", str(bare_port),
                          "--log-level", "warning"], cwd=folder, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]  # fmt: skip
    body = json.loads(REQUEST.read_text(encoding="utf-8"))
    try:
        _wait_ready(f"http://127.0.0.1:{ccm_port}/readyz", servers[0])
        _wait_ready(f"http://127.0.0.1:{bare_port}/docs", servers[1])
        bare = _load(f"http://127.0.0.1:{bare_port}/v1/communications", body, {},
                     requests=requests, clients=clients)  # fmt: skip
        accepted = _load(f"http://127.0.0.1:{ccm_port}/v1/communications", body, headers,
                         requests=requests, clients=clients)  # fmt: skip
        # End to end: wait for everything accepted above to settle first.
        base = f"http://127.0.0.1:{ccm_port}/v1/communications"
        _settle(f"http://127.0.0.1:{ccm_port}/metrics")
        start = time.perf_counter()
        ids = [
            httpx.post(base, json=body, headers=headers, timeout=60).json()["id"]
            for _ in range(notices)
        ]
        pending = set(ids)
        while pending:
            for communication_id in list(pending):
                state = httpx.get(f"{base}/{communication_id}", headers=headers, timeout=60).json()
                if state["status"] == "proven":
                    pending.discard(communication_id)
            time.sleep(0.2)
        e2e = time.perf_counter() - start
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
    return {
        "clients": clients,
        "bare_per_s": bare["per_s"],
        "bare_p50_ms": bare["p50_ms"],
        "bare_p99_ms": bare["p99_ms"],
        "ccm_per_s": accepted["per_s"],
        "ccm_p50_ms": accepted["p50_ms"],
        "ccm_p99_ms": accepted["p99_ms"],
        "ccm_errors": accepted["errors"],
        "ratio_ccm_vs_bare": accepted["per_s"] / bare["per_s"],
        "notices": notices,
        "e2e_seconds": e2e,
        "e2e_notices_per_min": notices / e2e * 60,
    }


def _settle(metrics_url: str, seconds: float = 900) -> None:
    """Wait until no job is pending, enqueued or running."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = httpx.get(metrics_url, timeout=30).text
        busy = sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("ccm_jobs{")
            and 'state="done"' not in line
            and 'state="failed"' not in line
        )
        if busy == 0:
            return
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--notices", type=int, default=30)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--home", default="var", help="CCM_HOME with the development PKI")
    args = parser.parse_args()
    result = run(requests=args.requests, notices=args.notices, clients=args.clients, home=args.home)
    publish("api", result)


if __name__ == "__main__":
    main()
