"""Benchmark: ``GET /api/v1/service-items/{code}`` on the hub beside a Flask app doing one Redis GET.

The hub runs with the demo province and reads the demo item with an operator token. The baseline
serves, from its own Redis, the very JSON document the hub returned, so both send the same body.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import shutil
from pathlib import Path

from . import processes, wrk
from .report import Comparison

ITEM_CODE = "440000-SCJG-001-01"  # in hub/demo/province.yaml
BASELINE_KEY = "bench:service-item"


def run(load: wrk.WrkSettings) -> Comparison:
    """Measure the hub, stop it, then measure the baseline; every process is stopped on the way out."""
    work = processes.short_tempdir("hb-")
    try:
        hub_result, body = _measure_hub(work, load)
        baseline_result = _measure_baseline(work, load, body)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    comparison = Comparison(
        name="service_item_get",
        title="Read one service item",
        hub_request=f"`GET /api/v1/service-items/{ITEM_CODE}` with an operator bearer token ({len(body)} B of JSON)",
        baseline_request="`GET /value`: one Redis GET of the same JSON document, decoded and returned as JSON",
        hub=hub_result,
        baseline=baseline_result,
        load=load,
        meaning="",
    )
    ratios = comparison.ratios()
    meaning = (
        f"The hub answers this read at {ratios['requests_per_second']:.0%} of the baseline's rate, with a median"
        f" latency {ratios['p50']:.1f}× the baseline's: the gap is what the hub does beyond Flask, gunicorn and one"
        " Redis GET — the bearer-token lookup (a second Redis round trip), query-argument parsing and the response"
        " schema, request ids and security headers, and the Prometheus request histogram."
    )
    return dataclasses.replace(comparison, meaning=meaning)


def _measure_hub(work: Path, load: wrk.WrkSettings) -> tuple[wrk.WrkResult, bytes]:
    data_dir = work / "hub"
    admin_token = secrets.token_urlsafe(24)  # 32 characters
    headers = {"Authorization": f"Bearer {admin_token}"}
    port = processes.free_port()
    base = f"http://127.0.0.1:{port}"
    url = f"{base}/api/v1/service-items/{ITEM_CODE}"
    server = processes.hub_server(data_dir, port, admin_token, work / "hub.log")
    try:
        with processes.running(server):
            server.wait_http(f"{base}/readyz")
            body = server.wait_http(url, headers)
            if json.loads(body).get("code") != ITEM_CODE:
                raise processes.ServerError(f"the hub returned another item: {body[:200]!r}")
            print(f"hub: measuring {url}", flush=True)
            return wrk.measure(url, headers, load), body
    finally:
        processes.kill_leftover_redis(data_dir)


def _measure_baseline(work: Path, load: wrk.WrkSettings, body: bytes) -> wrk.WrkResult:
    redis_dir = work / "redis"
    redis_dir.mkdir()
    port = processes.free_port()
    url = f"http://127.0.0.1:{port}/value"
    with processes.redis_server(redis_dir) as client:
        client.set(BASELINE_KEY, body)
        server = processes.baseline_server(port, redis_dir / "redis.sock", BASELINE_KEY, work / "baseline.log")
        with processes.running(server):
            if json.loads(server.wait_http(url)) != json.loads(body):
                raise processes.ServerError("the baseline returned another document than the hub")
            print(f"baseline: measuring {url}", flush=True)
            return wrk.measure(url, {}, load)
