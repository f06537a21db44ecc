"""The public outcomes of an item's applications at ``/api/v1/service-items/{code}/outcomes`` (names masked)."""

from __future__ import annotations

from typing import Any

from hub.http.blueprint import HubBlueprint
from hub.http.current import hub_state
from hub.intake import due
from hub.intake.schemas import OutcomeArgsSchema, OutcomePageSchema

blp = HubBlueprint("outcomes", __name__, url_prefix="/api/v1/service-items", description="The service catalogue")


@blp.route("/<code>/outcomes", methods=["GET"])
@blp.arguments(OutcomeArgsSchema, location="query")
@blp.response(200, OutcomePageSchema)
def outcomes(args: dict[str, Any], code: str) -> Any:
    """Public: the decisions on an item's applications, newest first, applicants' names masked."""
    before = float(args["cursor"]) if args["cursor"] else None
    return due.outcomes(hub_state(), code, before, args["limit"])
