"""The data directory's disk fills up while clients write: writes get a clear 503 problem (Redis refuses what
it cannot persist), reads go on, a backup fails plainly, nothing acknowledged is lost, no file is left
half-written, and once there is room again the hub takes writes without a restart.

The data directory is a small tmpfs mounted for the test (root only; CI runs as root)."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from fault_support import QUIET, AgencyWriters, attach, audit_intact, fill, tmpfs
from served_support import wait_for
from testbed import OPERATOR, VENV_BIN

from hub.store import embedded as embedded_redis
from hub.store import keys

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs for the data directory needs root"),
]

DISK_BYTES = 48 * 1024 * 1024


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A fresh tmpfs of DISK_BYTES as the data directory; unmounted (after the hub and its Redis) whatever
    happens. Requested before ``served_hub_factory``, so its teardown runs after the hub's."""
    with tmpfs(DISK_BYTES) as mount_point:
        yield mount_point


def test_a_full_data_disk_refuses_writes_clearly_and_recovers_by_itself(small_disk, served_hub_factory):
    hub = served_hub_factory(small_disk, HUB_WORKERS="2", **QUIET).start()
    filler = small_disk / "filler"
    workers_before = hub.pids()
    with AgencyWriters(hub.url, name_padding="名" * 150) as writers:
        wait_for(lambda: writers.count() >= 20, what="writes before the disk fills")
        fill(filler)
        unavailable = writers.unavailable
        wait_for(lambda: writers.unavailable >= unavailable + 4, what="writes refused on the full disk")
        stalled_at = writers.count()

        # Reads go on meanwhile: the registry, a record, liveness.
        listing = requests.get(hub.url + "/api/v1/agencies", params={"limit": 5}, headers=OPERATOR, timeout=30)
        assert listing.status_code == 200 and listing.json()["items"]
        assert requests.get(hub.url + "/healthz", timeout=30).status_code == 200
        assert writers.count() <= stalled_at + 2  # at most the writes already in flight got through

        # A backup now fails plainly and leaves nothing behind (Redis cannot write its snapshot either).
        env = {**os.environ, "HUB_DATA_DIR": str(small_disk)}
        backup = subprocess.run(
            [str(VENV_BIN / "hub"), "backup", "create"], env=env, capture_output=True, text=True, timeout=120
        )
        assert backup.returncode == 1 and backup.stderr.startswith("Error:") and backup.stdout == ""
        assert len(backup.stderr.strip().splitlines()) == 1
        assert [path.name for path in small_disk.rglob("*") if path.suffix in (".tar", ".rdb", ".partial")] == []

        # Room again: the hub takes writes again by itself, no restart.
        filler.unlink()
        wait_for(lambda: writers.count() >= stalled_at + 20, what="writes after room was made")
    assert writers.wrong == []
    assert hub.process.poll() is None and set(workers_before) <= set(hub.pids())  # nothing died or restarted

    # Everything acknowledged is in the AOF, not only in Redis's memory: kill -9 Redis, let the master start it
    # again from the AOF alone, and look.
    old = embedded_redis.server_pid(small_disk)
    os.kill(old, signal.SIGKILL)
    wait_for(lambda: embedded_redis.server_pid(small_disk) not in (None, old) and embedded_redis.is_running(small_disk))
    store = attach(small_disk)
    try:
        stored = set(store.index_page(keys.agency_index(), None, 100_000))
        assert set(writers.acknowledged) <= stored
        assert all(record is not None for record in store.get_many_json([keys.agency(c) for c in sorted(stored)]))
    finally:
        store.close()
    audit_intact(hub.url)
    # No file the hub keeps in its data directory was left half-written by the full disk.
    leftovers = [path.name for path in small_disk.rglob("*") if path.name.endswith((".partial", ".tmp"))]
    assert leftovers == []
    assert "appendfsync" in (small_disk / "redis.conf").read_text()
    metrics = requests.get(hub.url + "/metrics", timeout=30)
    assert metrics.status_code == 200  # the workers' metrics files (kept off the data disk) are whole
    assert 'hub_http_request_duration_seconds_count{method="POST",route="/api/v1/agencies",status="503"}' in (
        metrics.text
    )
