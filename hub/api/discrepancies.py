"""Discrepancies between applicants' forms and the platform's data, for the providing agency to settle."""

from __future__ import annotations

from typing import Any

from flask import g

from ..intake import discrepancies
from ..schemas.common import PageArgsSchema
from ..schemas.intake import DiscrepancyPageSchema, DiscrepancySchema, DiscrepancySettlementSchema
from .base import HubBlueprint, context, hub

blp = HubBlueprint(
    "discrepancies", __name__, url_prefix="/api/v1/discrepancies", description="Form/platform mismatches (Art. 9)"
)


@blp.route("", methods=["GET"])
@blp.requires("agency")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, DiscrepancyPageSchema)
def list_open(args: dict[str, Any]) -> Any:
    """The caller's open discrepancies: data of theirs an applicant's form contradicted."""
    return discrepancies.open_for(hub(), g.principal.agency, args["limit"], args["cursor"])


@blp.route("/<discrepancy_id>", methods=["POST"])
@blp.requires("agency")
@blp.arguments(DiscrepancySettlementSchema)
@blp.response(200, DiscrepancySchema)
def settle(data: dict[str, Any], discrepancy_id: str) -> Any:
    """Say the data was corrected at the source, or confirmed right; the application's timeline shows it."""
    return discrepancies.settle(hub(), context(), g.principal.agency, discrepancy_id, data)
