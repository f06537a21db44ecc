"""Periodic jobs (scheduled backups, sealed audit checkpoints, the archive filing sweep, deadline alerts,
connector health probes, collecting unnamed blobs, webhook deliveries) and their runner.

Under ``hub serve`` the runner only decides that a job is due and hands it to the job queue, whose
workers run it (:mod:`hub.ops.queue`); tests and queue-less deployments let the runner run it itself.

A job is a plain function ``(state) -> dict`` (what it did), so a queue could run it later. Time is cut
into periods of each job's interval (``HUB_BACKUP_INTERVAL``, ``HUB_CHECKPOINT_INTERVAL``,
``HUB_ARCHIVE_SWEEP_INTERVAL``, ``HUB_DEADLINE_SWEEP_INTERVAL``, ``HUB_PROBE_INTERVAL``,
``HUB_BLOB_COLLECTION_INTERVAL``; 0 turns a job off). A job that is overdue when the hub starts (no
checkpoint for longer than its interval, cases left pending by a crash, deadlines not swept since the
last start) also runs at start. In each
period, the first runner to take the job's lease for that period in Redis (``SET NX PX``) runs it,
so several hub instances sharing one Redis run each job once per period. A job that fails is logged
and tried again in the next period (on the job queue, RQ first runs it again: see :mod:`hub.ops.queue`);
it never stops the runner.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from hub.archives import filing
from hub.audit.checkpoints import older_than, seal_checkpoint
from hub.config import Settings
from hub.context import Context
from hub.intake import deadlines
from hub.ops import backup, blob_collection, notifications
from hub.sources import probes
from hub.state import HubState
from hub.store import keys

log = logging.getLogger(__name__)
TICK_SECONDS = 1.0  # how often the runner looks at the clock; also bounds how late a job may start


def backup_job(state: HubState) -> dict[str, Any]:
    """Write a scheduled backup, then delete scheduled backups beyond ``HUB_BACKUP_KEEP``."""
    path = backup.create(state, kind=backup.SCHEDULED)
    deleted = backup.prune(state.settings.backups, state.settings.backup_keep)
    return {"backup": str(path), "deleted": [str(p) for p in deleted]}


def checkpoint_job(state: HubState) -> dict[str, Any]:
    """Seal and timestamp the heads of every audit chain."""
    sealed = seal_checkpoint(state)
    return {name: sealed[name] for name in ("seq", "at", "sha256")}  # the document and signature stay out of the log


def archive_sweep_job(state: HubState) -> dict[str, Any]:
    """File the archive of every concluded case still pending (a crash or a seal outage left it)."""
    return filing.file_pending(state, Context.system("schedule"))


def deadline_sweep_job(state: HubState) -> dict[str, Any]:
    """Raise the deadline alerts of running cases due by the next working day or overdue (Art. 14)."""
    return deadlines.sweep(state, Context.system("schedule"))


def probe_job(state: HubState) -> dict[str, Any]:
    """Probe the health of every active connector and keep the results."""
    return probes.probe_all(state)


def blob_collection_job(state: HubState) -> dict[str, Any]:
    """Collect the blobs no record has named for a whole interval (uploads of disposed cases, leftovers)."""
    interval = state.settings.blob_collection_interval
    return asdict(blob_collection.collect(state.store, time.time(), interval))


def checkpoint_overdue(state: HubState) -> bool:

    return older_than(state.store, state.settings.checkpoint_interval)


@dataclass(frozen=True)
class Job:
    """A periodic job: its name, what it runs, how often (seconds; 0 is off), and whether it is overdue
    when the runner starts (else it first runs in the next period)."""

    name: str
    run: Callable[[HubState], dict[str, Any]]
    interval: int
    overdue_at_start: Callable[[HubState], bool] = lambda state: False


def every_job(settings: Settings) -> dict[str, Job]:
    """Every periodic job by name, with the interval these settings give it."""
    jobs = [
        Job("backup", backup_job, settings.backup_interval),
        Job("checkpoint", checkpoint_job, settings.checkpoint_interval, checkpoint_overdue),
        Job("archives", archive_sweep_job, settings.archive_sweep_interval, lambda state: True),
        Job("deadlines", deadline_sweep_job, settings.deadline_sweep_interval, lambda state: True),
        Job("probes", probe_job, settings.probe_interval),
        Job("blobs", blob_collection_job, settings.blob_collection_interval),
        Job("notifications", notifications.run, settings.notify_interval),
    ]
    return {job.name: job for job in jobs}


def jobs_for(settings: Settings) -> list[Job]:
    """The periodic jobs these settings turn on."""
    return [job for job in every_job(settings).values() if job.interval > 0]


class Runner:
    """Runs each job once per period of its interval, across every runner that shares the store."""

    def __init__(
        self,
        state: HubState,
        jobs: list[Job],
        clock: Callable[[], float] = time.time,
        hand_over: Callable[[Job, int], str] | None = None,
    ) -> None:
        """``hand_over(job, period) -> id`` passes a due job to a queue's workers (:mod:`hub.ops.queue`);
        without it the runner runs the job itself."""
        self.state, self.jobs, self.clock, self.hand_over = state, jobs, clock, hand_over
        self.holder = f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._done: dict[str, int] = {}  # job -> the last period this runner settled (ran it, or saw it taken)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> list[dict[str, Any]]:
        """Run (or hand over) every job whose period has come and whose lease this runner takes."""
        return [outcome for job in self.jobs if (outcome := self._maybe_run(job)) is not None]

    def _maybe_run(self, job: Job) -> dict[str, Any] | None:
        moment = self.clock()
        period = math.floor(moment / job.interval)
        if self._done.get(job.name) == period:
            return None
        lease = keys.job_lease(job.name, str(period))
        ttl_ms = max(int(((period + 1) * job.interval - moment) * 1000), 1) + 60_000  # past the period's end
        try:
            taken = self.state.store.acquire_lease(lease, self.holder, ttl_ms)
        except Exception:  # Redis unreachable: try again on the next tick
            log.exception("job lease failed", extra={"job": job.name})
            return None
        self._done[job.name] = period
        return self._run(job, period) if taken else None

    def _run(self, job: Job, period: int) -> dict[str, Any]:
        started = time.monotonic()
        try:
            if self.hand_over is not None:
                job_id = self.hand_over(job, period)
                log.info("scheduled job queued", extra={"job": job.name, "period": period, "id": job_id})
                return {"job": job.name, "period": period, "ok": True, "queued": job_id}
            result = job.run(self.state)
        except Exception as error:  # a failed job must not stop the others, nor the hub
            log.exception("scheduled job failed", extra={"job": job.name, "period": period})
            return {"job": job.name, "period": period, "ok": False, "error": str(error)}
        seconds = round(time.monotonic() - started, 3)
        log.info("scheduled job done", extra={"job": job.name, "period": period, "seconds": seconds, "result": result})
        return {"job": job.name, "period": period, "ok": True, "result": result}

    # -- in a thread
    def start(self) -> None:
        """Run the jobs in a daemon thread until :meth:`stop` (see :meth:`prime` for when each first runs)."""
        self.prime()
        self._thread = threading.Thread(target=self._loop, name="hub-schedule", daemon=True)
        self._thread.start()

    def prime(self) -> None:
        """From now on, run each job from its next period, or at the next tick if it is overdue.

        Runs fall on period boundaries (epoch-aligned: daily backups at 00:00 UTC, hourly checkpoints
        on the hour), not at every start of the hub, so restarts neither add nor skip runs.
        """
        moment = self.clock()
        self._done.update({job.name: math.floor(moment / job.interval) for job in self.jobs})
        for job in self.jobs:
            try:
                if job.overdue_at_start(self.state):
                    del self._done[job.name]  # the first tick runs it (under this period's lease)
            except Exception:  # Redis not there yet: the job waits for its next period
                log.exception("job start check failed", extra={"job": job.name})

    def _loop(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            try:
                self.tick()
            except Exception:  # never let the thread die: the next tick tries again
                log.exception("schedule tick failed")

    def stop(self, wait_seconds: float = 30.0) -> None:
        """Ask the thread to stop and wait for a running job to finish, up to ``wait_seconds``."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(wait_seconds)
