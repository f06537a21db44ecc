"""One hub read beside the bare baseline (a Flask app doing one Redis GET of the same JSON document): both
servers run at once and are loaded in turns (see :func:`bench.wrk.measure_interleaved`)."""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass

from . import processes, wrk

BASELINE_KEY = "bench:document"


@dataclass(frozen=True)
class HubRead:
    """What to load on the hub: the URL, its headers, and what the body must say to be the right answer."""

    url: str
    headers: dict[str, str]
    check: Callable[[dict], bool]


def measure(load: wrk.WrkSettings, read: Callable[[str, str], HubRead]) -> tuple[dict[str, wrk.Measurement], bytes]:
    """Serve the hub (demo province) and the baseline, load ``read(hub_base, admin_token)`` on the hub and the
    same body from the baseline, stop every process however the run ends; the measurements and the body."""
    work = processes.short_tempdir("hb-")
    hub_data = work / "hub"
    redis_dir = work / "redis"
    redis_dir.mkdir()
    try:
        with ExitStack() as stack:
            stack.callback(processes.kill_leftover_redis, hub_data)  # runs after the hub has stopped
            admin_token = secrets.token_urlsafe(24)
            hub_port = processes.free_port()
            hub_base = f"http://127.0.0.1:{hub_port}"
            hub_server = processes.hub_server(hub_data, hub_port, admin_token, work / "hub.log")
            stack.enter_context(processes.running(hub_server))
            hub_server.wait_http(f"{hub_base}/readyz")
            wanted = read(hub_base, admin_token)
            hub = wrk.Target("hub", wanted.url, wanted.headers, hub_server.worker_cpu_seconds)
            body = hub_server.wait_http(hub.url, hub.headers)
            if not wanted.check(json.loads(body)):
                raise processes.ServerError(f"the hub returned another answer: {body[:200]!r}")

            client = stack.enter_context(processes.redis_server(redis_dir))
            client.set(BASELINE_KEY, body)
            baseline_port = processes.free_port()
            baseline_server = processes.baseline_server(
                baseline_port, redis_dir / "redis.sock", BASELINE_KEY, work / "baseline.log"
            )
            baseline = wrk.Target(
                "baseline", f"http://127.0.0.1:{baseline_port}/value", worker_cpu=baseline_server.worker_cpu_seconds
            )
            stack.enter_context(processes.running(baseline_server))
            if json.loads(baseline_server.wait_http(baseline.url)) != json.loads(body):
                raise processes.ServerError("the baseline returned another document than the hub")
            print(f"measuring {hub.url} and {baseline.url}", flush=True)
            return wrk.measure_interleaved([hub, baseline], load), body
    finally:
        shutil.rmtree(work, ignore_errors=True)
