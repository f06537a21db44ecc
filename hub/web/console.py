"""The operator console: connectors with health and breaker state, tests, activation, the registry and audit.

Operators sign in with a token (:mod:`hub.web.staff`: the session keeps its hash, never the secret, and
every POST carries a CSRF token). Services do the work: views gather, call and render.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, flash, redirect, request, url_for

from hub.audit import log as audit
from hub.audit import verification
from hub.errors import HubError, Invalid
from hub.http.current import hub_state
from hub.intake import statistics
from hub.registry import agencies, connectors, service_items, types
from hub.sources import health, probes
from hub.state import HubState
from hub.store import keys
from hub.web.i18n import current_language, translator
from hub.web.pages import render_page
from hub.web.staff import StaffArea, acting

blp = Blueprint("console", __name__, url_prefix="/console")

CONNECTORS_PER_PAGE = 50
AUDIT_SHOWN = 10
SPARK_WIDTH, SPARK_HEIGHT, SPARK_PAD = 120, 32, 3
BAR_WIDTH = 240  # the statistics chart's longest bar, in pixels


AREA = StaffArea("console", "operator", "console_operator", "console.overview", "console_not_operator")
AREA.install(blp)
csrf_token = AREA.csrf_token


# -- the console
@blp.route("", methods=["GET"])
def overview() -> Response:
    """Every connector with its health, and the registry and audit at a glance."""
    state = hub_state()
    try:
        listing = connectors.list_connectors(state.store, CONNECTORS_PER_PAGE, request.args.get("cursor"))
    except Invalid:  # a hand-edited cursor: start from the top rather than fail the page
        listing = connectors.list_connectors(state.store, CONNECTORS_PER_PAGE, None)
    registry = registry_at_a_glance(state)
    rows = [connector_view(state, record, registry["agency_names"]) for record in listing["items"]]
    missing_year = state.calendars.missing_next_year(state.today())
    return render_page(
        "console.html",
        csrf=csrf_token(),
        connectors=rows,
        next=listing["next"],
        registry=registry,
        missing_year=missing_year,
    )


@blp.route("/statistics", methods=["GET"])
def statistics_page() -> Response:
    """How each agency served each item over a period (the last 30 days by default), with a chart."""
    state = hub_state()
    last = _day(request.args.get("to")) or state.today()
    first = _day(request.args.get("from")) or last - timedelta(days=29)
    if first > last:
        first, last = last, first
    found = statistics.statistics(state, first, last, None)
    peak = max([max(row["received"], row["concluded"]) for row in found["items"]] or [0]) or 1
    return render_page("console_statistics.html", csrf=csrf_token(), found=found, peak=peak, bar_width=BAR_WIDTH)


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:  # a hand-edited query: the default period instead
        return None


@blp.route("/connectors/<connector_id>/test", methods=["POST"])
def test_connector(connector_id: str) -> Response:
    """Run the same test as the API, record it, and say how it went."""
    state, text = hub_state(), translator(current_language())
    try:
        result = probes.test_connector(state, acting(), connector_id)
    except HubError as error:
        flash(text("console_test_failed").format(connector=connector_id, detail=error.detail), "error")
    else:
        if result["ok"]:
            flash(text("console_test_passed").format(connector=connector_id, ms=result["latency_ms"]), "ok")
        else:
            detail = result.get("detail") or ""
            flash(text("console_test_failed").format(connector=connector_id, detail=detail), "error")
    return _back_to(connector_id)


@blp.route("/connectors/<connector_id>/activation", methods=["POST"])
def set_activation(connector_id: str) -> Response:
    """Activate a connector that passed its last test, or deactivate one; a refusal says why."""
    text = translator(current_language())
    active = request.form.get("active") == "1"
    try:
        connectors.set_active(hub_state().store, acting(), connector_id, active)
    except HubError as error:
        flash(text("console_activation_refused").format(connector=connector_id, reason=error.detail), "error")
    else:
        flash(text("console_activated" if active else "console_deactivated").format(connector=connector_id), "ok")
    return _back_to(connector_id)


def _back_to(connector_id: str) -> Response:
    return redirect(url_for("console.overview") + f"#connector-{connector_id}", 303)


# -- what the page shows, gathered from the services
def _every(lister: Callable[[str | None], dict]) -> list[dict[str, Any]]:
    items, cursor = [], None
    while True:
        listing = lister(cursor)
        items += listing["items"]
        cursor = listing["next"]
        if cursor is None:
            return items


def registry_at_a_glance(state: HubState) -> dict[str, Any]:
    """Counts of registry records, the audit chain's verdict and the newest registry audit entries."""
    store = state.store
    agency_records = _every(lambda cursor: agencies.list_agencies(store, 500, cursor))
    chain = verification.verify(state)
    return {
        "agencies": len(agency_records),
        "agency_names": {record["code"]: record["name"] for record in agency_records},
        "evidence_types": len(_every(lambda cursor: types.list_evidence_types(store, 500, cursor))),
        "service_items": len(_every(lambda cursor: service_items.list_service_items(store, 500, cursor))),
        "connectors": len(_every(lambda cursor: connectors.list_connectors(store, 500, cursor))),
        "audit_intact": chain.intact,
        "audit_entries": chain.entries,
        "recent": [
            entry | {"at": local_time(state, entry["at"])}
            for entry in audit.page(store, keys.REGISTRY, None, AUDIT_SHOWN)
        ],
    }


def connector_view(state: HubState, record: dict[str, Any], agency_names: dict[str, str]) -> dict[str, Any]:
    """One connector as the console shows it: the record, its last hour of health and a sparkline."""
    summary = health.summary(state.store, record["id"])
    last_test = record.get("last_test")
    if last_test:
        last_test = last_test | {"at": local_time(state, last_test["at"])}
    return {
        "id": record["id"],
        "agency": record["agency"],
        "agency_name": agency_names.get(record["agency"], ""),
        "kind": record["kind"],
        "provides": record["provides"],
        "active": record.get("active", False),
        "last_test": last_test,
        "health": summary,
        "sparkline": sparkline(summary["series"]),
    }


def local_time(state: HubState, moment: str) -> str:
    """An RFC 3339 time as the province's wall clock, to the second."""
    return state.local_time(datetime.fromisoformat(moment)).strftime("%Y-%m-%d %H:%M:%S")


def sparkline(series: list[dict[str, Any]]) -> dict[str, Any]:
    """Inline-SVG geometry of the p50 series: polylines through runs of buckets with calls, dots for lone ones."""
    values = [bucket["p50_ms"] for bucket in series]
    known = [value for value in values if value is not None]
    peak = max(known, default=None)
    step = (SPARK_WIDTH - 2 * SPARK_PAD) / max(len(values) - 1, 1)
    runs: list[list[tuple[float, float]]] = [[]]
    for index, value in enumerate(values):
        if value is None:
            runs.append([])  # a bucket without calls breaks the line
            continue
        height = (value / peak) if peak else 0.0
        y = SPARK_HEIGHT - SPARK_PAD - height * (SPARK_HEIGHT - 2 * SPARK_PAD)
        runs[-1].append((round(SPARK_PAD + index * step, 1), round(y, 1)))
    return {
        "width": SPARK_WIDTH,
        "height": SPARK_HEIGHT,
        "lines": [" ".join(f"{x},{y}" for x, y in run) for run in runs if len(run) > 1],
        "dots": [run[0] for run in runs if len(run) == 1],
        "peak": peak,
    }
