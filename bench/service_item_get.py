"""Benchmark: ``GET /api/v1/service-items/{code}`` on the hub beside a Flask app doing one Redis GET.

The hub runs with the demo province and reads the demo item with an operator token. The baseline
serves, from its own Redis, the very JSON document the hub returned, so both send the same body.
Both servers run at once and are loaded in turns (see :func:`bench.wrk.measure_interleaved`).
"""

from __future__ import annotations

import json
import secrets
import shutil
from contextlib import ExitStack

from . import processes, wrk
from .report import Comparison

ITEM_CODE = "440000-SCJG-001-01"  # in hub/demo/province.yaml
BASELINE_KEY = "bench:service-item"


def run(load: wrk.WrkSettings) -> Comparison:
    """Start the hub and the baseline, measure both, and stop every process however the run ends."""
    work = processes.short_tempdir("hb-")
    hub_data = work / "hub"
    redis_dir = work / "redis"
    redis_dir.mkdir()
    try:
        with ExitStack() as stack:
            stack.callback(processes.kill_leftover_redis, hub_data)  # runs after the hub has stopped

            admin_token = secrets.token_urlsafe(24)  # 32 characters
            hub_port = processes.free_port()
            hub_base = f"http://127.0.0.1:{hub_port}"
            hub_server = processes.hub_server(hub_data, hub_port, admin_token, work / "hub.log")
            hub = wrk.Target(
                "hub",
                f"{hub_base}/api/v1/service-items/{ITEM_CODE}",
                {"Authorization": f"Bearer {admin_token}"},
                hub_server.worker_cpu_seconds,
            )
            stack.enter_context(processes.running(hub_server))
            hub_server.wait_http(f"{hub_base}/readyz")
            body = hub_server.wait_http(hub.url, hub.headers)
            if json.loads(body).get("code") != ITEM_CODE:
                raise processes.ServerError(f"the hub returned another item: {body[:200]!r}")

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
            measured = wrk.measure_interleaved([hub, baseline], load)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Comparison(
        name="service_item_get",
        title="Read one service item",
        hub_request=f"`GET /api/v1/service-items/{ITEM_CODE}` with an operator bearer token ({len(body)} B of JSON)",
        baseline_request="`GET /value`: one Redis GET of the same JSON document, decoded and returned as JSON",
        hub=measured["hub"],
        baseline=measured["baseline"],
        load=load,
        meaning=_meaning(measured["hub"], measured["baseline"]),
    )


def _meaning(hub: wrk.Measurement, baseline: wrk.Measurement) -> str:
    share = hub.requests_per_second / baseline.requests_per_second
    slower = hub.p50_ms / baseline.p50_ms
    return (
        f"The hub serves this read at {share:.0%} of the baseline's rate, with a median latency {slower:.1f}× the"
        " baseline's, on the same stack: the gap is the work the hub does beyond Flask, gunicorn and one Redis GET —"
        " the bearer-token lookup (a second Redis round trip), query-argument parsing and the response schema,"
        " request ids, security headers and the Prometheus request histogram."
    )
