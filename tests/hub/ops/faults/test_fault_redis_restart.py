"""The embedded Redis killed (and kept down a while) and restarted while clients write: the API answers 503
problem+json meanwhile (never a 500, never a hang), the master starts Redis again by itself, and every
acknowledged write is there."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from fault_support import QUIET, AgencyWriters, attach, audit_intact, is_problem, licence_body, set_up_issuer
from served_support import wait_for
from testbed import _kill_redis_of, short_tempdir

from hub.store import embedded as embedded_redis
from hub.store import keys

pytestmark = pytest.mark.slow

WRITERS = 3
CLIENT_TIMEOUT_S = 20  # far above what the hub may take with Redis gone (2 s socket timeout, two quick retries)


def restarted(data_dir, old_pid: int) -> int | None:
    """The pid of a Redis server started again in ``data_dir`` and holding it, if one is."""
    pid = embedded_redis.server_pid(data_dir)
    return pid if pid not in (None, old_pid) and embedded_redis.is_running(data_dir) else None


@contextlib.contextmanager
def killed_and_held_down(data_dir: Path) -> Iterator[int]:
    """SIGKILL the server and take its directory's lock at once, so that nothing starts it again until the
    block ends (the hub's keeper starts a server only on a directory nobody holds); the killed pid."""
    for _ in range(5):  # the keeper may win the race for the lock: then kill the server it started
        pid = embedded_redis.server_pid(data_dir)
        lock = os.open(data_dir / embedded_redis.LOCK_NAME, os.O_RDWR)
        try:
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    if restarted(data_dir, pid):
                        break
                    time.sleep(0.001)
                    continue
                yield pid
                return
        finally:
            os.close(lock)  # releases the lock: the keeper may start the server now
    raise AssertionError("could not hold the killed server down")


def test_redis_killed_and_restarted_under_load(served_hub_factory):
    # always: Redis fsyncs each write before answering, so even a kill -9 of Redis keeps every acknowledged
    # write (with everysec it writes each before answering too, but may postpone that behind a slow fsync).
    hub = served_hub_factory(HUB_WORKERS="2", HUB_REDIS_APPENDFSYNC="always", **QUIET).start()
    issuer = set_up_issuer(hub.url)
    headers = {**issuer, "Idempotency-Key": "cut-by-redis"}

    def issue() -> requests.Response:
        return requests.post(hub.url + "/api/v1/licences", json=licence_body(1), headers=headers, timeout=60)

    with AgencyWriters(hub.url, WRITERS, CLIENT_TIMEOUT_S) as writers:
        wait_for(lambda: writers.count() >= 20, what="writes before the faults")

        # A licence is being issued (its Idempotency-Key claimed, the PDF being sealed) when Redis dies.
        first_try: list[requests.Response] = []
        issuing = threading.Thread(target=lambda: first_try.append(issue()))
        store = attach(hub.data_dir)
        try:
            issuing.start()
            wait_for(lambda: any(store.keys_matching("*cut-by-redis*")), every=0.002, what="the licence's claim")
        finally:
            store.close()

        # 1. kill -9, and kept down for a while: every answer meanwhile is a quick 503 problem, none a 500.
        with killed_and_held_down(hub.data_dir) as first:
            issuing.join(CLIENT_TIMEOUT_S)
            assert is_problem(first_try[0], 503)
            unavailable = writers.unavailable
            wait_for(lambda: writers.unavailable >= unavailable + 2 * WRITERS, what="503 answers while Redis is down")
            ready = requests.get(hub.url + "/readyz", timeout=CLIENT_TIMEOUT_S)
            assert ready.status_code == 503
        # ... and once the directory is free, the master starts Redis again by itself; writes flow again.
        second = wait_for(lambda: restarted(hub.data_dir, first), what="Redis started again after kill -9")
        before = writers.count()
        wait_for(lambda: writers.count() >= before + 20, what="writes after the restart")
        # The claim the cut request could not release while Redis was down is released once it is back (by the
        # worker that made it): the same key retried issues the licence, instead of 409 for a day.
        retry = wait_for(
            lambda: (answer := issue()).status_code != 409 and answer,
            seconds=15,
            every=0.2,
            what="the licence's key to be free again",
        )
        assert retry.status_code == 201, retry.text

        # 2. a clean stop (SIGTERM: Redis flushes and exits), as an operator's restart would do.
        os.kill(second, signal.SIGTERM)
        wait_for(lambda: restarted(hub.data_dir, second), what="Redis started again after SIGTERM")
        before = writers.count()
        wait_for(lambda: writers.count() >= before + 20, what="writes after the second restart")
    assert writers.wrong == []
    assert requests.get(hub.url + "/readyz", timeout=10).status_code == 200

    store = attach(hub.data_dir)
    try:
        stored = set(store.index_page(keys.agency_index(), None, 100_000))
        assert set(writers.acknowledged) <= stored  # nothing acknowledged was lost across two restarts
        records = store.get_many_json([keys.agency(code) for code in sorted(stored)])
        assert all(record is not None for record in records)  # no index entry without its record
    finally:
        store.close()
    verdict = audit_intact(hub.url)
    assert verdict["entries"] >= len(stored)  # an entry for each agency, in one unbroken chain
    listing = requests.get(hub.url + "/api/v1/licences", headers=issuer, timeout=30).json()
    assert [item["number"] for item in listing["items"]] == [retry.json()["number"]]  # issued once


def test_the_keeper_starts_a_killed_server_again_and_stops_when_told():
    data_dir = short_tempdir("hub-keeper-")
    keeper = None
    try:
        embedded_redis.attach_or_start(data_dir, "always")
        store = attach(data_dir)
        store.set_json("kept", {"n": 1})
        store.close()
        keeper = embedded_redis.Keeper(data_dir, "always", interval_s=0.05).start()
        killed = embedded_redis.server_pid(data_dir)
        os.kill(killed, signal.SIGKILL)
        wait_for(lambda: restarted(data_dir, killed), what="the keeper to start the server again")
        assert keeper.restarts == 1
        store = attach(data_dir)
        assert store.get_json("kept") == {"n": 1}  # from the AOF the killed server left
        keeper.stop()
        assert store.stop_embedded_if_last()  # stopped on purpose: nobody starts it again
        assert not embedded_redis.is_running(data_dir)
        assert keeper.restarts == 1
    finally:
        if keeper is not None:
            keeper.stop()
        _kill_redis_of(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)
