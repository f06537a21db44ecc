"""Benchmark: ``GET /api/v1/service-items/{code}`` on the hub beside a Flask app doing one Redis GET.

The hub runs with the demo province and reads the demo item with an operator token. The baseline
serves, from its own Redis, the very JSON document the hub returned, so both send the same body.
Both servers run at once and are loaded in turns (see :func:`bench.wrk.measure_interleaved`).
"""

from __future__ import annotations

from . import baseline_pair, wrk
from .report import Comparison

ITEM_CODE = "440000-SCJG-001-01"  # in hub/demo/province.yaml


def run(load: wrk.WrkSettings) -> Comparison:
    """Measure the hub's read and the baseline's."""

    def read(base: str, admin_token: str) -> baseline_pair.HubRead:
        return baseline_pair.HubRead(
            f"{base}/api/v1/service-items/{ITEM_CODE}",
            {"Authorization": f"Bearer {admin_token}"},
            lambda answer: answer.get("code") == ITEM_CODE,
        )

    measured, body = baseline_pair.measure(load, read)
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
