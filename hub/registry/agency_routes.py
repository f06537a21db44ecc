"""Agencies and their bearer tokens (operator writes; any token reads)."""

from __future__ import annotations

from typing import Any

from flask import url_for

from hub.http.blueprint import HubBlueprint, context
from hub.http.current import hub_state
from hub.http.schemas import PageArgsSchema
from hub.registry import agencies
from hub.registry import tokens as auth
from hub.registry.schemas import AgencyPageSchema, AgencySchema, TokenListSchema, TokenRequestSchema, TokenSchema

blp = HubBlueprint("agencies", __name__, url_prefix="/api/v1/agencies", description="Agencies and their tokens")
READERS = ("operator", "agency", "portal")


@blp.route("", methods=["POST"])
@blp.requires("operator")
@blp.idempotent()
@blp.arguments(AgencySchema)
@blp.response(201, AgencySchema)
def create_agency(data: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Register an agency; its seal (key and certificate) is made at the same time."""
    state = hub_state()
    record = agencies.create_agency(state.store, context(), data)
    state.seals.ensure_seal(record, context())  # if this fails, the first sealing makes it instead
    return record, 201, {"Location": url_for("agencies.get_agency", code=record["code"])}


@blp.route("", methods=["GET"])
@blp.requires(*READERS)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, AgencyPageSchema)
def list_agencies(args: dict[str, Any]) -> Any:
    """List agencies by code."""
    return agencies.list_agencies(hub_state().store, args["limit"], args["cursor"])


@blp.route("/<code>", methods=["GET"])
@blp.requires(*READERS)
@blp.response(200, AgencySchema)
def get_agency(code: str) -> Any:
    """One agency."""
    return agencies.get_agency(hub_state().store, code)


@blp.route("/<code>/tokens", methods=["POST"])
@blp.requires("operator")
@blp.idempotent(redact=("token",))
@blp.arguments(TokenRequestSchema)
@blp.response(201, TokenSchema)
def create_token(data: dict[str, Any], code: str) -> Any:
    """Issue a bearer token for an agency; the secret is in this answer only (a replay omits it)."""
    return auth.create_token(hub_state().store, context(), code, data["roles"])


@blp.route("/<code>/tokens", methods=["GET"])
@blp.requires("operator")
@blp.response(200, TokenListSchema)
def list_tokens(code: str) -> Any:
    """An agency's tokens, without their secrets."""
    agencies.get_agency(hub_state().store, code)
    return {"items": auth.list_tokens(hub_state().store, code)}


@blp.route("/<code>/tokens/<token_id>", methods=["DELETE"])
@blp.requires("operator")
@blp.response(204)
def revoke_token(code: str, token_id: str) -> None:
    """Revoke one of an agency's tokens."""
    auth.revoke_token(hub_state().store, context(), code, token_id)
