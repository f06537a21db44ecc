"""The public outcomes of an item's applications at ``/api/v1/service-items/{code}/outcomes`` (names masked)."""

from __future__ import annotations

from typing import Any

from hub.http.blueprint import HubBlueprint
from hub.http.current import hub_state
from hub.intake import due
from hub.intake.schemas import OutcomeArgsSchema, OutcomePageSchema
from hub.web import pages

blp = HubBlueprint("outcomes", __name__, url_prefix="/api/v1/service-items", description="The service catalogue")


@blp.route("/<code>/outcomes", methods=["GET"])
@blp.arguments(OutcomeArgsSchema, location="query")
@blp.response(200, OutcomePageSchema)
def outcomes(args: dict[str, Any], code: str) -> Any:
    """Public: the decisions on an item's applications, newest first, applicants' names masked; a page for a
    browser."""
    before = float(args["cursor"]) if args["cursor"] else None
    listing = due.outcomes(hub_state(), code, before, args["limit"])
    if pages.wants_html():
        return pages.render_outcomes(code, listing)
    return listing


outcomes.serves_html = True  # errors on this route answer a browser with a page too
