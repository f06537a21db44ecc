"""Operational routes: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from flask import Response
from marshmallow import Schema, fields

from hub import metrics
from hub.errors import StoreUnavailable
from hub.http.blueprint import HubBlueprint
from hub.http.current import hub_state

blp = HubBlueprint("ops", __name__, description="Liveness, readiness and metrics")


class StatusSchema(Schema):
    status = fields.String(required=True)


class ReadinessSchema(StatusSchema):
    warnings = fields.List(
        fields.String(), metadata={"description": "what an operator should act on soon (the hub still serves)"}
    )


def warnings() -> list[str]:
    """What the operator should act on soon; sets the matching metrics as it looks."""
    state = hub_state()
    missing = state.calendars.missing_next_year(state.today())
    metrics.CALENDAR_MISSING.set(0 if missing is None else 1)
    if missing is None:
        return []
    return [f"no holiday calendar for {missing}: load it with PUT /api/v1/calendar/{missing} before 1 January"]


@blp.route("/healthz", methods=["GET"])
@blp.response(200, StatusSchema)
def healthz() -> Any:
    """The process is up."""
    return {"status": "ok"}


@blp.route("/readyz", methods=["GET"])
@blp.response(200, ReadinessSchema)
@blp.alt_response(503, description="Redis cannot be reached")
def readyz() -> Any:
    """Redis answers (503 otherwise); ``warnings`` names what the operator should act on soon."""
    if not hub_state().store.ping():
        raise StoreUnavailable("Redis does not answer.")
    return {"status": "ready", "warnings": warnings()}


@blp.route("/metrics", methods=["GET"])
@blp.doc(responses={"200": {"description": "Prometheus text format", "content": {"text/plain": {}}}})
def metrics_view() -> Any:
    """Prometheus metrics of every worker."""
    warnings()  # the gauges that follow the hub's state, set as of now
    body, content_type = metrics.exposition()
    return Response(body, mimetype=content_type.split(";")[0], content_type=content_type)
