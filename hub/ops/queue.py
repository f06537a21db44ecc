"""The job queue: periodic work run by RQ workers (``hub worker``), handed over through Redis.

The scheduler (:mod:`hub.ops.schedule`) decides *when*: once per period across every hub, under a
lease. This module hands the job to the queue under an id naming the job and its period, and runs
it in a worker process: a fresh connection to the store per job, so a worker outlives any hub and
any number of workers on any hosts share the work. RQ keeps each job's outcome (finished or failed,
with its traceback) in its registries.

A job that fails, or whose worker dies under it, is run again, up to JOB_RETRIES times (RQ's retry):
at once after a failure; after a worker's death once another worker sees that its heartbeat stopped
(about 90 s on, at that worker's start or its ten-minute upkeep). Otherwise a scheduled backup whose
worker was killed would be missing until the next period, a day later. Every job may run twice:
each one's work is whole or not at all (a backup file is renamed into place, a checkpoint is one
transaction, the sweeps look at what is still to do).
"""

from __future__ import annotations

import logging
from typing import Any

from rq import Queue, Retry, Worker

from hub import logs
from hub.config import Settings, load_settings
from hub.ops.schedule import every_job
from hub.state import HubState
from hub.store.client import Store
from hub.store.embedded import EmbeddedRedisError

log = logging.getLogger(__name__)
QUEUE_NAME = "hub-jobs"
RESULT_TTL_S = 7 * 86_400  # how long a finished job's outcome stays readable
JOB_TIMEOUT_S = 3_600  # a backup of a large store is the longest job
JOB_RETRIES = 2


class QueueUnavailable(RuntimeError):
    """No queue can be reached with these settings (a cluster without HUB_QUEUE_URL)."""


def queue_for(store: Store) -> Queue:
    """The hub's job queue, on the Redis that :meth:`Store.queue_connection` names."""
    connection = store.queue_connection
    if connection is None:
        raise QueueUnavailable("RQ does not run on a Redis Cluster: set HUB_QUEUE_URL to a plain Redis server")
    return Queue(QUEUE_NAME, connection=connection, default_timeout=JOB_TIMEOUT_S)


def enqueue(store: Store, job_name: str, period: int, expires_s: int | None = None) -> str:
    """Hand one periodic job for one period to the workers; its job id. A job no worker has started
    within ``expires_s`` (its interval: the next period's job is queued by then) is dropped."""
    job_id = f"{job_name}-{period}"
    queue_for(store).enqueue(
        run_job,
        job_name,
        job_id=job_id,
        ttl=expires_s,
        result_ttl=RESULT_TTL_S,
        failure_ttl=RESULT_TTL_S,
        retry=Retry(max=JOB_RETRIES),
        description=job_id,
    )
    return job_id


def run_job(job_name: str) -> dict[str, Any]:
    """In a worker: run one periodic job against the store these settings name."""
    settings = load_settings()
    job = every_job(settings)[job_name]
    store = Store(settings, start_embedded=False)
    try:
        outcome = job.run(HubState(settings, store))
    finally:
        store.close()
    log.info("scheduled job done", extra={"job": job_name, "result": outcome})
    return outcome


def work(settings: Settings, burst: bool = False) -> None:
    """Run a worker until stopped (SIGTERM finishes the current job first), or, with ``burst``, until
    the queue is empty."""
    logs.configure(settings.log_level)  # JSON lines on stderr, like the hub's own
    try:
        store = Store(settings, start_embedded=False)
    except EmbeddedRedisError as exc:
        raise QueueUnavailable(str(exc)) from None
    try:
        queue = queue_for(store)
        Worker([queue], connection=queue.connection).work(burst=burst, logging_level="WARNING")
    finally:
        store.close()
