"""A gunicorn worker killed (SIGKILL) while it issues licences: clients retrying with the same
Idempotency-Key get their licence, nothing acknowledged is lost, nothing half-written is visible, and
gunicorn's replacement worker serves on."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
import requests
from fault_support import (
    QUIET,
    attach,
    audit_intact,
    check_licences_whole,
    cpu_ticks,
    gunicorn_workers,
    licence_body,
    sequence_of,
    set_up_issuer,
    verdict_of,
)
from served_support import wait_for

from hub.store import keys

pytestmark = pytest.mark.slow

CLIENTS = 4
# Enough licences that a kill which catches a worker between requests (or a freshly forked one, still booting)
# leaves time for another: with 3 each, a loaded CI machine once finished all 12 before a request was cut.
PER_CLIENT = 6
RETRY_FOR_S = 60  # a licence not acknowledged by then is a failure of the hub, not of the client


class Issuers:
    """Client threads issuing licences, each retrying a failed request with the same Idempotency-Key."""

    def __init__(self, url: str, issuer: dict[str, str]) -> None:
        self.url = url
        self.issuer = issuer
        self.lock = threading.Lock()
        self.acknowledged: dict[str, dict] = {}  # idempotency key -> the 201 body
        self.cut: list[str] = []  # keys whose request died with the connection
        self.statuses: list[int] = []
        self.failures: list[str] = []
        self.sessions: list[requests.Session] = []
        self.threads = [threading.Thread(target=self._run, args=(c,)) for c in range(CLIENTS)]

    def start(self) -> Issuers:
        for thread in self.threads:
            thread.start()
        return self

    def join(self) -> None:
        for thread in self.threads:
            thread.join(RETRY_FOR_S * PER_CLIENT)
        for session in self.sessions:  # no keep-alive connection left for the hub's graceful stop to wait out
            session.close()

    def _run(self, client: int) -> None:
        session = requests.Session()
        self.sessions.append(session)
        for n in range(PER_CLIENT):
            number = client * 100 + n
            key = f"issue-{number}"
            given_up_at = time.monotonic() + RETRY_FOR_S
            while True:
                if time.monotonic() > given_up_at:
                    with self.lock:
                        self.failures.append(f"{key}: never acknowledged")
                    return
                try:
                    response = session.post(
                        self.url + "/api/v1/licences",
                        json=licence_body(number),
                        headers={**self.issuer, "Idempotency-Key": key},
                        timeout=30,
                    )
                except requests.RequestException:  # refused, reset, or the answer broken off mid-body
                    with self.lock:
                        self.cut.append(key)
                    session = requests.Session()  # the pooled connection died with the worker
                    self.sessions.append(session)
                    continue
                with self.lock:
                    self.statuses.append(response.status_code)
                if response.status_code == 201:
                    with self.lock:
                        self.acknowledged[key] = response.json()
                    break
                if response.status_code not in (409, 502, 503):
                    with self.lock:
                        self.failures.append(f"{key}: {response.status_code} {response.text[:200]}")
                    return
                time.sleep(0.1)  # 409: the first attempt still holds the key


def kill_a_busy_worker(master: int) -> int:
    """SIGKILL a worker caught issuing (rendering and sealing keep it on the CPU); its pid."""

    def busy() -> int | None:
        workers = gunicorn_workers(master)
        used = {pid: cpu_ticks(pid) for pid in workers}
        time.sleep(0.2)
        # 20 ms of CPU or more in 200 ms (an idle worker's heartbeat costs next to nothing; a busy one gets that
        # much even on two cores shared with a dozen runnable processes): a request is being worked on.
        return (
            max(workers, key=lambda pid: cpu_ticks(pid) - used[pid], default=None)
            if any(cpu_ticks(pid) - used[pid] >= 2 for pid in workers)
            else None
        )

    victim = wait_for(busy, seconds=30, every=0.01, what="a worker busy issuing")
    os.kill(victim, signal.SIGKILL)
    return victim


def test_a_worker_killed_mid_issuance_loses_nothing_acknowledged(served_hub_factory):
    hub = served_hub_factory(HUB_WORKERS="2", HUB_THREADS="4", **QUIET).start()
    master = hub.process.pid
    issuer = set_up_issuer(hub.url)
    wait_for(lambda: len(gunicorn_workers(master)) == 2, what="two workers")
    issuers = Issuers(hub.url, issuer).start()

    wait_for(lambda: len(issuers.acknowledged) >= 3, seconds=60, what="the first licences")
    killed = []

    def replaced() -> bool:
        workers = set(gunicorn_workers(master))
        return len(workers) == 2 and not workers & set(killed)

    # Until a request really was cut in flight (a worker may be caught between two requests).
    while not issuers.cut and len(killed) < 3 and len(issuers.acknowledged) < CLIENTS * PER_CLIENT:
        killed.append(kill_a_busy_worker(master))
        wait_for(replaced, 60, what="gunicorn to replace the killed worker")
        wait_for(lambda: issuers.cut or len(issuers.acknowledged) == CLIENTS * PER_CLIENT, 10, what="a cut request")
    issuers.join()

    assert issuers.failures == []
    assert issuers.cut, "no request was in flight in the killed worker"
    assert len(issuers.acknowledged) == CLIENTS * PER_CLIENT
    # gunicorn replaced the killed worker; the new one serves.
    workers = gunicorn_workers(master)
    assert len(workers) == 2 and not set(killed) & set(workers)
    after = requests.post(
        hub.url + "/api/v1/licences",
        json=licence_body(9999),
        headers={**issuer, "Idempotency-Key": "after"},
        timeout=30,
    )
    assert after.status_code == 201

    store = attach(hub.data_dir)
    try:
        records = check_licences_whole(hub.url, store, issuer)  # no index entry without record, no record without PDF
        numbers = [body["number"] for body in issuers.acknowledged.values()]
        assert len(set(numbers)) == len(numbers)  # one number per licence
        # Exactly once: a key retried after its worker died did not issue a second licence.
        assert sorted(r["number"] for r in records) == sorted([*numbers, after.json()["number"]])
        for body in issuers.acknowledged.values():
            assert body["sha256"] == next(r["sha256"] for r in records if r["number"] == body["number"])
        region, year = numbers[0].split("-")[-4:-2]
        reserved = int(store.get_json(keys.licence_sequence("food-business", region, int(year))))
        used = sorted(sequence_of(record["number"]) for record in records)
        assert used[-1] <= reserved and len(set(used)) == len(used)
        # A number is lost only to a request that died after reserving it: never more gaps than cuts.
        assert reserved - len(used) <= len(issuers.cut)
    finally:
        store.close()

    verdict = audit_intact(hub.url)
    assert verdict["entries"] >= len(records)
    # A licence whose first attempt died verifies as a sealed, whole PDF (one: a verification costs seconds).
    number = issuers.acknowledged[issuers.cut[0]]["number"]
    pdf = requests.get(f"{hub.url}/api/v1/licences/{number}/pdf", headers=issuer, timeout=30)
    assert verdict_of(hub.url, pdf.content) == "valid"
