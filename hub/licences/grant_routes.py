"""Holder-authorised use of licences: a portal acting for the holder grants, lists and revokes; the relying
party redeems the one-time code with its own token."""

from __future__ import annotations

import base64
from typing import Any

from flask import g

from certs.qr import qr_svg
from connectors.api import Subject
from hub.http import person_proof
from hub.http.blueprint import HubBlueprint, context
from hub.http.current import hub_state
from hub.licences import grants
from hub.licences.grant_schemas import (
    GrantListSchema,
    GrantRequestSchema,
    GrantSchema,
    HolderProofSchema,
    RedemptionRequestSchema,
    RedemptionSchema,
)

blp = HubBlueprint("grants", __name__, url_prefix="/api/v1", description="Holders' grants of their licences")


def _proven_holder(data: dict[str, Any]) -> Subject:
    """The holder the portal names, once the request proves it acts for that person."""
    person_proof.require_person(hub_state().settings, data["holder_id_type"], data["holder_id"])
    return Subject(data["holder_id_type"], data["holder_id"])


@blp.route("/licences/<number>/grants", methods=["POST"])
@blp.requires("portal")
@blp.idempotent(redact=("code", "qr_svg"))
@blp.arguments(GrantRequestSchema)
@blp.response(201, GrantSchema)
def create_grant(data: dict[str, Any], number: str) -> Any:
    """The holder lets a relying party use this licence for a purpose, for at most 30 days, optionally only
    some fields: the answer carries the one-time code (and its QR code), never shown again."""
    grant = grants.create(hub_state(), context(), _proven_holder(data), number, data)
    return {**grant, "qr_svg": qr_svg(grant["code"])}, 201


@blp.route("/grants", methods=["GET"])
@blp.requires("portal")
@blp.arguments(HolderProofSchema, location="query")
@blp.response(200, GrantListSchema)
def list_grants(args: dict[str, Any]) -> Any:
    """The holder's grants, newest first (no codes)."""
    return {"items": grants.listing(hub_state(), _proven_holder(args))}


@blp.route("/grants/<grant_id>/revocation", methods=["POST"])
@blp.requires("portal")
@blp.arguments(HolderProofSchema)
@blp.response(200, GrantSchema)
def revoke_grant(data: dict[str, Any], grant_id: str) -> Any:
    """End a grant now; its code then answers 410."""
    return grants.revoke(hub_state(), context(), _proven_holder(data), grant_id)


@blp.route("/grants/redemptions", methods=["POST"])
@blp.requires("agency", "portal")
@blp.arguments(RedemptionRequestSchema)
@blp.response(200, RedemptionSchema)
def redeem_grant(data: dict[str, Any]) -> Any:
    """The relying party named in a grant uses its code, once: the credential with the granted fields, and
    the PDF (and the OFD, when its type issues one) when the whole licence was granted; 410 once used, expired
    or revoked."""
    answer = grants.redeem(hub_state(), context(), g.principal.agency, data["code"])
    files = {
        name: base64.b64encode(answer[name]).decode() if answer[name] is not None else None for name in ("pdf", "ofd")
    }
    return {**answer, **files}
