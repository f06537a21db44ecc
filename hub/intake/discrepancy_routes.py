"""Discrepancies between applicants' forms and the platform's data, for the providing agency to settle."""

from __future__ import annotations

from typing import Any

from flask import g

from hub.http.blueprint import HubBlueprint, context
from hub.http.current import hub_state
from hub.http.schemas import PageArgsSchema
from hub.intake import corrections, discrepancies
from hub.intake.schemas import (
    DiscrepancyMaterialSchema,
    DiscrepancyPageSchema,
    DiscrepancySchema,
    DiscrepancySettlementSchema,
)

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
    """Say the data was corrected at the source (the case's material is fetched again), or confirmed right; the
    application's timeline shows it."""
    return corrections.settle(hub_state(), context(), g.principal.agency, discrepancy_id, data)


@blp.route("/<discrepancy_id>/material", methods=["GET"])
@blp.requires("agency")
@blp.response(200, DiscrepancyMaterialSchema)
def material(discrepancy_id: str) -> Any:
    """For the data's owner: the material of the case the discrepancy is about, as the case holds it."""
    return discrepancies.material_of(hub_state(), g.principal.agency, discrepancy_id)
