"""Prometheus metrics: per-route request latency, source calls, licences and verifications, at ``/metrics``.

Under gunicorn, ``PROMETHEUS_MULTIPROC_DIR`` (set by the gunicorn config before any worker starts)
makes every worker write its samples to files there, and ``/metrics`` merges them, so a scrape
sees the whole server whichever worker answers it.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client import REGISTRY as PROCESS_REGISTRY

REQUEST_LATENCY = Histogram(
    "hub_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template, method and status.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


SOURCE_LATENCY = Histogram(
    "hub_source_call_duration_seconds",
    "Time a connector took to answer one fetch, by connector and outcome (record, not-held, error).",
    ["connector", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


CIRCUIT_OPEN = Gauge(
    "hub_source_circuit_open",
    "1 while a connector's circuit breaker is open or half-open in some worker, else 0.",
    ["connector"],
    multiprocess_mode="livemax",
)


CALENDAR_MISSING = Gauge(
    "hub_calendar_next_year_missing",
    "1 from 1 November while next year's holiday calendar is not loaded (deadlines would count weekdays only).",
    multiprocess_mode="livemax",
)


LICENCES_ISSUED = Counter("hub_licences_issued_total", "Licences issued, by licence type.", ["type"])
VERIFICATIONS = Counter(
    "hub_verifications_total",
    "Uploaded documents verified, by verdict and whether the cache answered.",
    ["verdict", "cached"],
)


def observe_source(connector: str, outcome: str, seconds: float, circuit: str = "closed") -> None:
    """Record one connector call and the state of its circuit after it."""
    SOURCE_LATENCY.labels(connector=connector, outcome=outcome).observe(seconds)
    CIRCUIT_OPEN.labels(connector=connector).set(0 if circuit == "closed" else 1)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Record one answered request."""
    REQUEST_LATENCY.labels(method=method, route=route, status=str(status)).observe(seconds)


def exposition() -> tuple[bytes, str]:
    """The current metrics in the Prometheus text format, and its content type."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(PROCESS_REGISTRY), CONTENT_TYPE_LATEST


def worker_exited(pid: int) -> None:
    """Forget a dead worker's live gauges (gunicorn's child_exit hook)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid)
