"""The job outbox: jobs live in the database; brokers only carry their ids.

A job is *pending* until its ``run_after``, *enqueued* once handed to the broker, then
*running* under a lease while one worker holds it, and finally *done* or *failed*. The
relay (:func:`relay_due`) hands pending jobs to the broker and takes back jobs whose
lease ran out (a worker died) or that were enqueued long ago and never started (a broker
or a process lost them: the in-memory broker of the embedded mode loses everything on a
restart). Claiming is a conditional update, so a job handed out twice still runs once.
"""

import json
import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, or_, select, update
from sqlalchemy.engine import Connection

from ccm.persistence.tables import jobs

__all__ = [
    "LEASE",
    "MAX_ATTEMPTS",
    "Job",
    "add_job",
    "claim",
    "finish",
    "give_back",
    "recover",
    "relay_due",
]

LEASE = timedelta(minutes=2)
"""How long a worker may hold a job before another may take it."""
REDELIVER_AFTER = timedelta(minutes=10)
"""An enqueued job not started by then is handed out again (a broker lost it). Long
enough not to flood a busy queue with copies; the embedded server takes its jobs back
at start without waiting (see :func:`recover`)."""
MAX_ATTEMPTS = 8
WORKER = f"{socket.gethostname()}:{os.getpid()}"
"""Who ran a job (host and process), recorded on the job for operators."""


class Job:
    """A claimed job."""

    __slots__ = ("attempts", "channel", "communication_id", "id", "kind", "payload")

    def __init__(self, row: Any) -> None:
        self.id: int = row.id
        self.communication_id: str = row.communication_id
        self.kind: str = row.kind
        self.channel: str | None = row.channel
        self.payload: dict[str, Any] = json.loads(row.payload)
        self.attempts: int = row.attempts


def add_job(
    connection: Connection,
    *,
    communication_id: str,
    kind: str,
    run_after: datetime,
    channel: str | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """Write a job in the caller's transaction."""
    connection.execute(
        jobs.insert().values(
            communication_id=communication_id,
            kind=kind,
            channel=channel,
            payload=json.dumps(payload or {}),
            state="pending",
            run_after=run_after,
            attempts=0,
            created_at=run_after,
        )
    )


def relay_due(engine: Engine, send: Callable[[int], object], *, now: datetime) -> int:
    """Hand every due job to the broker via ``send``; return how many were handed out."""
    due = or_(
        and_(jobs.c.state == "pending", jobs.c.run_after <= now),
        and_(jobs.c.state == "running", jobs.c.lease_until < now),
        and_(jobs.c.state == "enqueued", jobs.c.lease_until < now),
    )
    with engine.begin() as connection:
        ids = [r.id for r in connection.execute(select(jobs.c.id).where(due).limit(500))]
        if ids:
            connection.execute(
                update(jobs)
                .where(jobs.c.id.in_(ids), due)
                .values(state="enqueued", lease_until=now + REDELIVER_AFTER)
            )
    for job_id in ids:
        send(job_id)
    return len(ids)


def claim(engine: Engine, job_id: int, *, now: datetime) -> Job | None:
    """Take the job for this worker, or ``None`` if it is done or held by another."""
    with engine.begin() as connection:
        taken = connection.execute(
            update(jobs)
            .where(
                jobs.c.id == job_id,
                or_(
                    jobs.c.state.in_(("pending", "enqueued")),
                    and_(jobs.c.state == "running", jobs.c.lease_until < now),
                ),
            )
            .values(
                state="running",
                lease_until=now + LEASE,
                attempts=jobs.c.attempts + 1,
                worker=WORKER,
            )
        ).rowcount
        if not taken:
            return None
        return Job(connection.execute(select(jobs).where(jobs.c.id == job_id)).one())


def finish(connection: Connection, job_id: int) -> None:
    """Mark the job done (in the transaction that recorded its effects, when there is one)."""
    connection.execute(
        update(jobs).where(jobs.c.id == job_id).values(state="done", lease_until=None)
    )


def give_back(engine: Engine, job: Job, *, error: str, now: datetime) -> bool:
    """Record a failed attempt; retry later with backoff, or fail for good. True if retried."""
    retry = job.attempts < MAX_ATTEMPTS
    with engine.begin() as connection:
        connection.execute(
            update(jobs)
            .where(jobs.c.id == job.id)
            .values(
                state="pending" if retry else "failed",
                run_after=now + timedelta(seconds=min(2**job.attempts, 300)),
                lease_until=None,
                last_error=error[:2000],
            )
        )
    return retry


def recover(engine: Engine) -> int:
    """Make every unfinished job pending again; return how many.

    For a process that is the only worker (the embedded mode, whose in-memory broker
    lost everything it held when the process died): whatever was enqueued or running
    then will never finish unless handed out again. Running twice is harmless (claims
    and idempotent steps), so this never waits for leases to run out.
    """
    with engine.begin() as connection:
        return int(
            connection.execute(
                update(jobs)
                .where(jobs.c.state.in_(("enqueued", "running")))
                .values(state="pending", lease_until=None)
            ).rowcount
        )
