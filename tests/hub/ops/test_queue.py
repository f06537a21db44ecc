"""Periodic jobs on the job queue (RQ on the hub's Redis): handed over once per period whatever the
number of hubs, run by ``hub worker`` processes, failures kept with their error."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from rq.job import Job as QueuedJob
from rq.registry import FailedJobRegistry, StartedJobRegistry
from served_support import children, wait_for
from testbed import OPERATOR, VENV_BIN, short_tempdir

from hub.ops import queue
from hub.ops.schedule import Runner, jobs_for
from hub.state import HubState
from hub.store import embedded as embedded_redis
from hub.store import keys

INTERVAL = 60


@pytest.fixture
def state(app, settings) -> HubState:
    only_checkpoints = {
        "backup_interval": 0,
        "archive_sweep_interval": 0,
        "deadline_sweep_interval": 0,
        "probe_interval": 0,
        "blob_collection_interval": 0,
        "notify_interval": 0,
    }
    every_minute = replace(settings, checkpoint_interval=INTERVAL, **only_checkpoints)
    return HubState(every_minute, app.extensions["hub"].store)


def runner(state: HubState, now: float) -> Runner:
    hand_over = lambda job, period: queue.enqueue(state.store, job.name, period, expires_s=job.interval)  # noqa: E731
    return Runner(state, jobs_for(state.settings), clock=lambda: now, hand_over=hand_over)


def test_a_due_job_is_queued_once_across_hubs_and_a_worker_runs_it(state, store, registry, hub_cli):
    registry.agency("market")
    now = 1_000 * INTERVAL + 5.0
    first, second = runner(state, now), runner(state, now)
    queued = first.tick() + second.tick()
    assert queued == [{"job": "checkpoint", "period": 1_000, "ok": True, "queued": "checkpoint-1000"}]
    jobs = queue.queue_for(store)
    assert jobs.count == 1 and store.list_len(keys.checkpoint_list()) == 0  # queued, not yet run
    hub_cli("worker", "--burst", check=True)
    assert jobs.count == 0
    assert QueuedJob.fetch("checkpoint-1000", connection=jobs.connection).get_status() == "finished"
    assert store.list_len(keys.checkpoint_list()) == 1  # the worker sealed it


def test_a_failed_job_stays_in_the_failed_registry_with_its_error(state, store, hub_cli, tmp_path):
    queue.enqueue(store, "backup", 7)
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the backups should go")
    hub_cli("worker", "--burst", env={"HUB_BACKUP_DIR": str(blocked / "backups")}, check=True)
    jobs = queue.queue_for(store)
    failed = FailedJobRegistry(queue=jobs)
    assert failed.get_job_ids() == ["backup-7"]
    job = QueuedJob.fetch("backup-7", connection=jobs.connection)
    assert job.retries_left == 0  # tried again at once, JOB_RETRIES times, before it was left failed
    assert "not-a-directory" in job.latest_result().exc_string


def test_a_job_whose_worker_was_killed_under_it_runs_again(store, registry, hub_env, hub_cli):
    # A worker starts the checkpoint and is killed (kill -9, worker and work horse) while the job waits on a
    # time-stamping authority that never answers. The next worker to start runs the job again.
    registry.agency("market")
    queue.enqueue(store, "checkpoint", 9)
    jobs = queue.queue_for(store)
    started = StartedJobRegistry(queue=jobs)
    with socket.socket() as silent_tsa:
        silent_tsa.bind(("127.0.0.1", 0))
        silent_tsa.listen()  # connections are taken by the kernel and never answered
        tsa_url = f"http://127.0.0.1:{silent_tsa.getsockname()[1]}/tsa"
        worker = subprocess.Popen(
            [str(VENV_BIN / "hub"), "worker"],
            env=hub_env({"HUB_TSA_URL": tsa_url}),
            start_new_session=True,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(lambda: started.get_job_ids() == ["checkpoint-9"] and children(worker.pid), what="the job started")
        finally:
            for pid in [*children(worker.pid), worker.pid]:
                os.kill(pid, signal.SIGKILL)
            worker.wait(10)
    assert store.list_len(keys.checkpoint_list()) == 0
    # What ninety seconds would do: the dead worker's heartbeat on the job runs out.
    jobs.connection.zadd(started.key, dict.fromkeys(jobs.connection.zrange(started.key, 0, -1), 1))
    hub_cli("worker", "--burst", check=True)  # a worker starting up clears out abandoned jobs
    job = QueuedJob.fetch("checkpoint-9", connection=jobs.connection)
    assert job.get_status() == "finished" and job.retries_left == queue.JOB_RETRIES - 1
    assert store.list_len(keys.checkpoint_list()) == 1


def test_a_worker_never_starts_the_embedded_redis_of_a_hub_that_is_gone(hub_cli, tmp_path):
    # Its hub keeps the server; a worker (or a job left running after a kill -9 of the hub) only attaches.
    result = hub_cli("worker", "--burst", env={"HUB_DATA_DIR": str(tmp_path)})
    assert result.returncode == 1
    assert f"no embedded Redis runs on {tmp_path}" in result.stderr and "Traceback" not in result.stderr
    assert not embedded_redis.is_running(tmp_path)


@pytest.mark.slow
def test_two_served_hubs_hand_each_period_to_their_workers_once(served_hub_factory):
    shared = short_tempdir("hub-queue-")
    every_two_seconds = {"HUB_CHECKPOINT_INTERVAL": "2", "HUB_BACKUP_INTERVAL": "0", "HUB_ARCHIVE_SWEEP_INTERVAL": "0"}
    hubs = [served_hub_factory(data_dir=shared, **every_two_seconds).start() for _ in range(2)]
    workers = _queue_workers_of(hubs[0])
    assert len(workers) == 1  # HUB_QUEUE_WORKERS=1 on each host
    deadline, items = time.monotonic() + 30, []
    while time.monotonic() < deadline and len(items) < 4:
        time.sleep(0.5)
        items = _checkpoints(hubs[0])
    assert len(items) >= 4  # sealed by the workers: the masters only hand the jobs over
    queued = [line["period"] for hub in hubs for line in _log_lines(hub) if line["message"] == "scheduled job queued"]
    assert len(queued) >= 4 and len(set(queued)) == len(queued)  # two hubs: each period handed over once
    assert hubs[1].stop() == 0  # one hub left, which now hands over every period
    os.kill(workers[0], signal.SIGKILL)  # and its worker dies: the hub starts another at its next hand-over
    deadline, replaced = time.monotonic() + 30, []
    while time.monotonic() < deadline and not replaced:
        time.sleep(0.5)
        replaced = [pid for pid in _queue_workers_of(hubs[0]) if pid != workers[0]]
    assert len(replaced) == 1
    sealed = len(items)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(items) <= sealed:  # and the new worker seals the next ones
        time.sleep(0.5)
        items = _checkpoints(hubs[0])
    assert len(items) > sealed
    assert hubs[0].stop() == 0
    assert not Path(f"/proc/{replaced[0]}").exists()  # the worker stopped with its hub


def _checkpoints(hub) -> list[dict]:
    return requests.get(hub.url + "/api/v1/audit/checkpoints?limit=100", headers=OPERATOR, timeout=10).json()["items"]


def _queue_workers_of(hub) -> list[int]:
    return [pid for pid in hub.pids() if _command_line(pid).endswith("-m hub worker")]


def _log_lines(hub) -> list[dict]:
    return [json.loads(line) for line in hub.log().splitlines() if line.startswith("{")]


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except FileNotFoundError:
        return ""
