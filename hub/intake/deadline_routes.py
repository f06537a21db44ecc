"""Deadline alerts: the running cases about to miss, or past, their committed time limit (Art. 14)."""

from __future__ import annotations

from typing import Any

from flask import g

from hub.errors import Forbidden, Invalid
from hub.http import paging
from hub.http.blueprint import HubBlueprint
from hub.http.current import hub_state
from hub.http.schemas import ProblemSchema
from hub.intake import deadlines
from hub.intake.deadline_schemas import DeadlineAlertArgsSchema, DeadlineAlertPageSchema
from hub.registry import agencies

blp = HubBlueprint(
    "deadlines", __name__, url_prefix="/api/v1/deadline-alerts", description="Cases near or past their deadline"
)


@blp.route("", methods=["GET"])
@blp.requires("agency", "operator")
@blp.arguments(DeadlineAlertArgsSchema, location="query")
@blp.response(200, DeadlineAlertPageSchema)
@blp.alt_response(404, schema=ProblemSchema, description="No agency with the code given in ?agency=")
def list_alerts(args: dict[str, Any]) -> Any:
    """The standing alerts, soonest deadline first: an agency sees the cases it leads; an operator sees
    one agency's (``?agency=``) or every agency's. Raised by the scheduled sweep
    (``HUB_DEADLINE_SWEEP_INTERVAL``)."""
    state = hub_state()
    own = g.principal.agency
    if own is not None and args["agency"] not in (None, own):
        raise Forbidden("An agency sees only the alerts of the cases it leads.")
    if own is not None:
        wanted = [own]
    elif args["agency"] is not None:
        wanted = [agencies.get_agency(state.store, args["agency"])["code"]]
    else:
        wanted = deadlines.lead_agencies(state)
    rows = sorted(
        (alert for agency in wanted for alert in deadlines.alerts(state, agency, args["level"])),
        key=lambda row: (row["deadline"], row["agency"], row["application"]),
    )
    offset = _offset(args["cursor"])
    return paging.page(
        rows[offset : offset + args["limit"] + 1], args["limit"], lambda row: str(offset + args["limit"])
    )


def _offset(cursor: str | None) -> int:
    position = paging.decode_cursor(cursor)
    if position is not None and not position.isdigit():
        raise Invalid("The cursor is not one this hub gave out.", errors={"cursor": ["Not a valid cursor."]})
    return int(position or 0)
