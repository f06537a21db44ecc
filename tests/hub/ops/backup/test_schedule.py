"""Scheduled jobs: once per period across runners sharing one Redis, retention, failures, a served hub."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest

from hub.ops import backup
from hub.ops.schedule import Job, Runner, backup_job, checkpoint_job, jobs_for
from hub.state import HubState

INTERVAL = 60


class Clock:
    """A clock the test moves, so periods pass without waiting for them."""

    def __init__(self) -> None:
        self.now = 1_000 * INTERVAL + 1.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def scheduled(app, settings, tmp_path) -> HubState:
    store = app.extensions["hub"].store
    return HubState(replace(settings, backup_dir=tmp_path, backup_interval=INTERVAL, backup_keep=2), store)


def test_two_runners_on_one_redis_run_each_period_once_and_keep_two(scheduled, tmp_path):
    manual = backup.create(scheduled, tmp_path)
    clock = Clock()
    runners = [Runner(scheduled, [Job("backup", backup_job, INTERVAL)], clock) for _ in range(2)]
    runs = []
    for _ in range(4):
        for runner in runners:
            runs += runner.tick()
            runs += runner.tick()  # a second look within the same period does nothing
        clock.now += INTERVAL
    assert [run["period"] for run in runs] == [1000, 1001, 1002, 1003]
    assert all(run["ok"] for run in runs)
    kept = sorted(tmp_path.glob("hub-backup-*.tar"))
    assert manual in kept and len(kept) == 3  # two scheduled ones, and the manual one (never pruned)
    assert [str(p) for p in kept if p != manual] == [run["result"]["backup"] for run in runs[-2:]]


def test_a_failing_job_is_logged_and_tried_again_next_period(scheduled, caplog):
    calls = []

    def flaky(state: HubState) -> dict:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("disk full")
        return {"made": True}

    clock = Clock()
    runner = Runner(scheduled, [Job("flaky", flaky, INTERVAL)], clock)
    first = runner.tick()
    clock.now += INTERVAL
    second = runner.tick()
    assert first[0]["ok"] is False and "disk full" in first[0]["error"]
    assert second[0]["ok"] is True and second[0]["result"] == {"made": True}
    assert "scheduled job failed" in caplog.text


def test_the_checkpoint_job_seals_the_chain_heads(scheduled, registry):
    registry.agency("market")
    clock = Clock()
    runner = Runner(scheduled, [Job("checkpoint", checkpoint_job, INTERVAL)], clock)
    first = runner.tick()
    clock.now += INTERVAL
    second = runner.tick()
    assert [run["ok"] for run in first + second] == [True, True]
    assert second[0]["result"]["seq"] == first[0]["result"]["seq"] + 1


def test_interval_zero_turns_a_job_off(settings):
    only_checkpoints = replace(
        settings,
        backup_interval=0,
        checkpoint_interval=5,
        archive_sweep_interval=0,
        deadline_sweep_interval=0,
        probe_interval=0,
        blob_collection_interval=0,
        notify_interval=0,
    )
    assert [job.name for job in jobs_for(only_checkpoints)] == ["checkpoint"]
    assert jobs_for(replace(only_checkpoints, checkpoint_interval=0)) == []


def test_overdue_jobs_run_at_start_and_the_rest_wait_for_their_period(scheduled, registry):
    registry.agency("market")
    every_minute = replace(
        scheduled.settings,
        checkpoint_interval=INTERVAL,
        archive_sweep_interval=INTERVAL,
        deadline_sweep_interval=INTERVAL,
        probe_interval=INTERVAL,
        blob_collection_interval=INTERVAL,
    )
    state = HubState(every_minute, scheduled.store)
    clock = Clock()
    runner = Runner(state, jobs_for(state.settings), clock)
    runner.prime()
    ran = {outcome["job"]: outcome for outcome in runner.tick()}
    # no checkpoint yet: one is sealed at once; the archive and deadline sweeps always look at start;
    # the backup, the connector probes and the blob collection wait for their period
    assert set(ran) == {"checkpoint", "archives", "deadlines"}
    assert ran["archives"]["result"] == {"filed": [], "failed": []} and ran["deadlines"]["result"]["agencies"] == {}
    assert ran["checkpoint"]["result"]["seq"] == 1
    again = Runner(state, jobs_for(state.settings), clock)
    again.prime()  # a restart right after: the checkpoint is fresh, the sweep's period is taken
    assert again.tick() == []
    clock.now += INTERVAL
    every = {"backup", "checkpoint", "archives", "deadlines", "probes", "blobs", "notifications"}
    assert {outcome["job"] for outcome in again.tick()} == every


@pytest.mark.slow
def test_a_served_hub_backs_itself_up_and_keeps_only_the_newest(served_hub_factory, tmp_path):
    hub = served_hub_factory(
        HUB_BACKUP_INTERVAL="1", HUB_BACKUP_KEEP="2", HUB_CHECKPOINT_INTERVAL="0", HUB_BACKUP_DIR=str(tmp_path)
    ).start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and _backups_done(hub.log()) < 4:
        time.sleep(0.2)
    assert hub.stop() == 0
    assert _backups_done(hub.log()) >= 4, hub.log()
    kept = sorted(tmp_path.glob("hub-backup-*.tar"))
    assert len(kept) == 2
    assert all(backup.read_manifest(path)["kind"] == backup.SCHEDULED for path in kept)


def _backups_done(log: str) -> int:
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    return sum(1 for line in lines if line.get("message") == "scheduled job done" and line.get("job") == "backup")
