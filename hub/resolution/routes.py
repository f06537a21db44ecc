"""Once-only proof resolution and the subject's access log."""

from __future__ import annotations

from typing import Any

from flask import g, request

from connectors.api import Subject
from hub.errors import Forbidden
from hub.http import person_proof
from hub.http.blueprint import HubBlueprint, context
from hub.http.current import hub_state
from hub.http.language import LANGUAGES
from hub.resolution import access_log
from hub.resolution import resolver as resolution
from hub.resolution.schemas import (
    AccessLogArgsSchema,
    AccessLogPageSchema,
    InvalidationSchema,
    JwksSchema,
    ResolutionRequestSchema,
    ResolutionSchema,
)
from hub.sources import evidence_cache

blp = HubBlueprint("resolutions", __name__, url_prefix="/api/v1", description="Once-only proof resolution")


@blp.route("/resolutions", methods=["POST"])
@blp.requires("agency")
@blp.idempotent()  # the answer holds evidence: the store keeps replays sealed
@blp.arguments(ResolutionRequestSchema)
@blp.response(201, ResolutionSchema)
def create_resolution(data: dict[str, Any]) -> Any:
    """Fetch every material of a service item the platform holds; say at once what is still missing."""
    if g.principal.agency is None:
        raise Forbidden("Resolutions are asked for by an agency.")
    language = request.accept_languages.best_match(LANGUAGES, default="zh") or "zh"
    subject = Subject(id_type=data["subject"]["id_type"], id=data["subject"]["id"])
    return resolution.resolve_for_case(
        hub_state(), context(), g.principal.agency, data["application"], data["service_item"], subject, language
    )


@blp.route("/access-log", methods=["GET"])
@blp.requires("operator", "portal")
@blp.arguments(AccessLogArgsSchema, location="query")
@blp.response(200, AccessLogPageSchema)
def get_access_log(args: dict[str, Any]) -> Any:
    """Who read what about one person, for which service, when (newest first): the operator, or a portal with the
    person's proof (``Applicant-Token``: the identity service's ID token)."""
    if "operator" not in g.principal.roles:
        person_proof.require_person(hub_state().settings, args["id_type"], args["id"])
    return access_log.page(hub_state(), args["id_type"], args["id"], args["limit"], args["cursor"])


@blp.route("/resolutions/keys", methods=["GET"])
@blp.response(200, JwksSchema)
def signing_keys() -> Any:
    """Public: the key resolution envelopes are signed with (JWKS; ``x5c`` chains to the hub's roots)."""
    return hub_state().pki.jwks()


@blp.route("/evidence-cache/invalidations", methods=["POST"])
@blp.requires("agency", "operator")
@blp.arguments(InvalidationSchema)
@blp.response(204)
def invalidate_cached_evidence(data: dict[str, Any]) -> None:
    """A providing agency says its data about a subject changed: drop the hub's cached answer."""
    state = hub_state()
    subject = data["subject"]
    evidence_type = data["evidence_type"]
    providers = state.sources.provider_agencies(evidence_type)
    subject_hash = state.keyring.subject_hash(subject["id_type"], subject["id"])
    evidence_cache.forget(state.store, context(), g.principal.agency, providers, evidence_type, subject_hash)
