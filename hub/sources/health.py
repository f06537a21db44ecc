"""Connector health for operators: recent calls, latency over the last hour, circuit state.

Every source call is recorded (time, latency, outcome) in a capped stream per connector, written
in one pipelined round trip per resolution after the answer is known; the summary and the
five-minute series for the console's sparkline are computed from that stream.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from connectors.api import Record
from hub.store import keys
from hub.store.client import Store

CALLS_KEPT = 20_000
BUCKET_SECONDS = 300
WINDOW_SECONDS = 3600


def record_calls(store: Store, observations: list[tuple[str, float, str, str]]) -> None:
    """Keep ``(connector_id, latency_ms, outcome, circuit_state)`` observations."""
    if not observations:
        return
    now_ms = int(time.time() * 1000)
    streams = [
        (keys.connector_calls(cid), {"ms": f"{latency:.3f}", "outcome": outcome}, CALLS_KEPT)
        for cid, latency, outcome, _ in observations
    ]
    circuits = {cid: {"state": state, "at": str(now_ms)} for cid, _, _, state in observations}
    store.record_many(streams, [(keys.connector_circuit(cid), fields) for cid, fields in circuits.items()])


def outcome_label(outcome: object) -> str:
    """How a call ended: record, not-held or error."""
    if isinstance(outcome, Record):
        return "record"
    return "error" if isinstance(outcome, Exception) else "not-held"


def _percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 3)


def summary(store: Store, connector_id: str) -> dict[str, Any]:
    """The last hour of one connector: counts, error rate, p50/p95, a five-minute series, circuit state."""
    now = time.time()
    since_ms = int((now - WINDOW_SECONDS) * 1000)
    calls = store.stream_since(keys.connector_calls(connector_id), since_ms)
    latencies = [float(call["ms"]) for _, call in calls]
    errors = sum(1 for _, call in calls if call["outcome"] == "error")
    series = []
    for bucket in range(WINDOW_SECONDS // BUCKET_SECONDS):
        start = since_ms + bucket * BUCKET_SECONDS * 1000
        end = start + BUCKET_SECONDS * 1000
        inside = [float(call["ms"]) for at, call in calls if start <= at < end]
        series.append(
            {
                "start_ms": start,
                "calls": len(inside),
                "p50_ms": round(statistics.median(inside), 3) if inside else None,
            }
        )
    circuit = store.hash_get_all(keys.connector_circuit(connector_id))
    return {
        "connector": connector_id,
        "calls": len(calls),
        "errors": errors,
        "error_rate": round(errors / len(calls), 4) if calls else 0.0,
        "p50_ms": _percentile(latencies, 0.5),
        "p95_ms": _percentile(latencies, 0.95),
        "circuit": circuit.get("state", "closed"),
        "series": series,
    }
