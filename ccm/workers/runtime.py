"""A running worker: the job actor on a broker, Dramatiq worker threads, the outbox relay.

Timers run periodic work beside the relay (the RN 593 ladder advancing open cases).

``ccm serve`` runs one in the API process (embedded mode: in-memory broker); ``ccm worker``
runs one per process for scale-out (Redis or RabbitMQ). Every runtime also runs the relay:
several relays may hand out the same job, and the job claim makes it run once.
"""

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import dramatiq
from sqlalchemy import Engine

from ccm.service.outbox import recover, relay_due
from ccm.service.pipeline import Pipeline

__all__ = ["WorkerRuntime"]

log = logging.getLogger("ccm.worker")


def _now() -> datetime:
    return datetime.now(UTC)


class WorkerRuntime:
    """Owns the actor, the Dramatiq worker and the relay thread of one process."""

    def __init__(
        self,
        *,
        engine: Engine,
        broker: dramatiq.Broker,
        pipeline: Pipeline,
        threads: int = 2,
        relay_interval: float = 0.5,
        timers: Sequence[tuple[float, Callable[[], object]]] = (),
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._engine = engine
        self._broker = broker
        self._pipeline = pipeline
        self._threads = threads
        self._interval = relay_interval
        self._timers = list(timers)
        self._timer_threads: list[threading.Thread] = []
        self._clock = clock
        self._stop = threading.Event()
        self._relay: threading.Thread | None = None
        self._worker: dramatiq.Worker | None = None
        self.actor: dramatiq.Actor[[int], None] = dramatiq.Actor(
            self._run,
            broker=broker,
            actor_name="ccm_run_job",
            queue_name="ccm",
            priority=0,
            options={"max_retries": 0},  # the outbox retries, with the job's own backoff
        )

    def _run(self, job_id: int) -> None:
        self._pipeline.run(job_id)

    def relay_once(self) -> int:
        """Hand due jobs to the broker now; return how many."""
        return relay_due(self._engine, self.actor.send, now=self._clock())

    def start(self, *, consume: bool = True, sole_worker: bool = False) -> None:
        """Start the relay thread and, with ``consume``, the worker threads.

        ``sole_worker``: no other process works on this database (embedded mode), so jobs
        left enqueued or running by a previous run are taken back at once.
        """
        if sole_worker:
            recovered = recover(self._engine)
            if recovered:
                log.warning("took back %d unfinished jobs from the previous run", recovered)
        if consume:
            self._worker = dramatiq.Worker(self._broker, worker_threads=self._threads)
            self._worker.start()
        self._relay = threading.Thread(target=self._relay_loop, name="ccm-relay", daemon=True)
        self._relay.start()
        for interval, task in self._timers:
            thread = threading.Thread(
                target=self._timer_loop, args=(interval, task), name="ccm-timer", daemon=True
            )
            thread.start()
            self._timer_threads.append(thread)

    def _timer_loop(self, interval: float, task: Callable[[], object]) -> None:
        while not self._stop.is_set():
            try:
                task()
            except Exception:  # noqa: BLE001 - keep the timer alive; the next run retries
                log.exception("periodic task %s failed; retrying", getattr(task, "__name__", task))
            self._stop.wait(interval)

    def _relay_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.relay_once()
            except Exception:  # noqa: BLE001 - the database may be briefly away; keep going
                log.exception("outbox relay failed; retrying")
            self._stop.wait(self._interval)

    def stop(self) -> None:
        self._stop.set()
        if self._relay is not None:
            self._relay.join(timeout=5)
        for thread in self._timer_threads:
            thread.join(timeout=30)
        if self._worker is not None:
            self._worker.stop()
