"""Discrepancies between applicants' forms and the platform's data, for the providing agency to settle."""

from __future__ import annotations

from typing import Any

from flask import g

from hub.http.blueprint import HubBlueprint, context
from hub.http.current import hub_state
from hub.http.schemas import PageArgsSchema
from hub.intake import discrepancies
from hub.intake.schemas import DiscrepancyPageSchema, DiscrepancySchema, DiscrepancySettlementSchema

blp = HubBlueprint(
    "discrepancies", __name__, url_prefix="/api/v1/discrepancies", description="Form/platform mismatches (Art. 9)"
)


@blp.route("", methods=["GET"])
@blp.requires("agency")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, DiscrepancyPageSchema)
def list_open(args: dict[str, Any]) -> Any:
    """The caller's open discrepancies: data of theirs an applicant's form contradicted."""
    return discrepancies.open_for(hub_state(), g.principal.agency, args["limit"], args["cursor"])


@blp.route("/<discrepancy_id>", methods=["POST"])
@blp.requires("agency")
@blp.arguments(DiscrepancySettlementSchema)
@blp.response(200, DiscrepancySchema)
def settle(data: dict[str, Any], discrepancy_id: str) -> Any:
    """Say the data was corrected at the source, or confirmed right; the application's timeline shows it."""
    return discrepancies.settle(hub_state(), context(), g.principal.agency, discrepancy_id, data)
