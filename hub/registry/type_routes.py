"""Evidence types and licence types (operator writes; any token reads)."""

from __future__ import annotations

from typing import Any

from flask import url_for

from hub.http.blueprint import HubBlueprint, context
from hub.http.current import hub_state
from hub.http.schemas import PageArgsSchema
from hub.registry import types
from hub.registry.agency_routes import READERS
from hub.registry.schemas import EvidenceTypePageSchema, EvidenceTypeSchema, LicenceTypePageSchema, LicenceTypeSchema

blp = HubBlueprint("types", __name__, url_prefix="/api/v1", description="Evidence types and licence types")


@blp.route("/evidence-types", methods=["POST"])
@blp.requires("operator")
@blp.idempotent()
@blp.arguments(EvidenceTypeSchema)
@blp.response(201, EvidenceTypeSchema)
def create_evidence_type(data: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Register an evidence type with its field schema."""
    record = types.create_evidence_type(hub_state().store, context(), data)
    return record, 201, {"Location": url_for("types.get_evidence_type", code=record["code"])}


@blp.route("/evidence-types", methods=["GET"])
@blp.requires(*READERS)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, EvidenceTypePageSchema)
def list_evidence_types(args: dict[str, Any]) -> Any:
    """List evidence types (licence types included) by code."""
    return types.list_evidence_types(hub_state().store, args["limit"], args["cursor"])


@blp.route("/evidence-types/<code>", methods=["GET"])
@blp.requires(*READERS)
@blp.response(200, EvidenceTypeSchema)
def get_evidence_type(code: str) -> Any:
    """One evidence type."""
    return types.get_evidence_type(hub_state().store, code)


@blp.route("/licence-types", methods=["POST"])
@blp.requires("operator")
@blp.idempotent()
@blp.arguments(LicenceTypeSchema)
@blp.response(201, LicenceTypeSchema)
def create_licence_type(data: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Register a licence type; it becomes an evidence type of the same code too."""
    types.check_formats(data, hub_state().settings.sm2_keys_allowed)
    record = types.create_licence_type(hub_state().store, context(), data)
    return record, 201, {"Location": url_for("types.get_licence_type", code=record["code"])}


@blp.route("/licence-types", methods=["GET"])
@blp.requires(*READERS)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, LicenceTypePageSchema)
def list_licence_types(args: dict[str, Any]) -> Any:
    """List licence types by code."""
    return types.list_licence_types(hub_state().store, args["limit"], args["cursor"])


@blp.route("/licence-types/<code>", methods=["GET"])
@blp.requires(*READERS)
@blp.response(200, LicenceTypeSchema)
def get_licence_type(code: str) -> Any:
    """One licence type."""
    return types.get_licence_type(hub_state().store, code)
