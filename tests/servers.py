"""Helpers for tests that run ccm as real server processes."""

import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

__all__ = ["dovecot", "free_port", "post_notices", "wait_proven", "wait_ready"]


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


_DOVECOT_CONF = """
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:{folder}/mail/%u
default_internal_user = {internal}
default_login_user = {login}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/users
}}
userdb {{
  driver = static
  args = uid={internal} gid={group} home={folder}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


@contextmanager
def dovecot(*, user: str, password: str) -> Iterator[int]:
    """A Dovecot IMAP server on loopback (plain IMAP, one mailbox user); yields its port.

    Run in the foreground by the test, never as a system service; as root its processes
    drop to the package's ``dovecot``/``dovenull`` users (so its folder is one they can
    enter, not under pytest's private temporary root), otherwise they run as the caller.
    """
    folder = Path(tempfile.mkdtemp(prefix="ccm-dovecot-"))
    folder.chmod(0o755)
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    port = free_port()
    if os.geteuid() == 0:
        internal, login = "dovecot", "dovenull"
    else:
        internal = login = getpass.getuser()
    for sub in ("run", "state", "mail"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    (folder / "users").write_text(f"{user}:{{PLAIN}}{password}\n")
    if os.geteuid() == 0:
        shutil.chown(folder / "mail", internal, internal)
    conf = folder / "dovecot.conf"
    conf.write_text(
        _DOVECOT_CONF.format(
            folder=folder, internal=internal, login=login, group=internal, port=port
        )
    )
    process = subprocess.Popen([binary, "-F", "-c", str(conf)])
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                log = folder / "dovecot.log"
                raise AssertionError(
                    f"dovecot exited: {log.read_text() if log.exists() else process.returncode}"
                )
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    if sock.recv(64).startswith(b"* OK"):
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)
