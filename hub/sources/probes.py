"""Health probes of connectors: the operator's test of one (the API and the console run the same), and the
scheduled probes of every active connector, so an operator learns that a source is down before an
applicant's resolution finds out.

Each run calls every active connector's own ``probe()`` at once (a thread each, bounded), past the
circuit breaker as the console's test button does, and keeps the last result per connector with
the time it started failing. The probes are not counted among the resolution calls whose latency
the health view reports. A connector that starts failing, or recovers, is logged at warning level.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from hub.context import Context, now, rfc3339
from hub.registry import connectors
from hub.store import keys

if TYPE_CHECKING:
    from hub.state import HubState

log = logging.getLogger(__name__)
MAX_PARALLEL = 16


def test_connector(
    state: HubState,
    ctx: Context,
    connector_id: str,
    evidence_type: str | None = None,
    subject_id_type: str | None = None,
    subject_id: str | None = None,
) -> dict[str, Any]:
    """Probe one connector's source now and, given a subject, fetch a sample (field names only); the result
    is recorded on the connector (activation needs a passed test) and returned."""
    record = connectors.get_connector(state.store, connector_id)
    result = state.sources.test(record, evidence_type, subject_id_type, subject_id)
    connectors.record_test(state.store, ctx, connector_id, result)
    return result


def _probe(state: HubState, record: dict[str, Any]) -> dict[str, Any]:
    source = state.sources.source(record)
    health = source.guarded.probe(record["timeout_ms"] / 1000)
    return {"ok": health.ok, "latency_ms": round(health.latency_ms, 3), "detail": health.detail, "at": rfc3339(now())}


def probe_all(state: HubState) -> dict[str, Any]:
    """Probe every active connector; keep each result; the ids probed and those failing."""
    records = state.sources.active_records()
    if not records:
        return {"probed": 0, "failing": []}
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(records)), thread_name_prefix="probe") as pool:
        results = list(pool.map(lambda record: _probe(state, record), records))
    previous = state.store.get_json_each([keys.connector_probe(record["id"]) for record in records])
    failing = []
    for record, result, before in zip(records, results, previous, strict=True):
        was_failing = bool(before) and not before["ok"]
        if result["ok"]:
            result["failing_since"] = None
            if was_failing:
                log.warning("connector recovered", extra={"connector": record["id"], "detail": result["detail"]})
        else:
            failing.append(record["id"])
            result["failing_since"] = before["failing_since"] if was_failing else result["at"]
            if not was_failing:
                log.warning("connector probe failed", extra={"connector": record["id"], "detail": result["detail"]})
    state.store.set_json_many(
        [(keys.connector_probe(r["id"]), result) for r, result in zip(records, results, strict=True)]
    )
    return {"probed": len(records), "failing": failing}


def last_probe(state: HubState, connector_id: str) -> dict[str, Any] | None:
    """The connector's last scheduled probe, or None before the first."""
    return state.store.get_json(keys.connector_probe(connector_id))
