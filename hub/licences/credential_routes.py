"""Licences as verifiable credentials (SD-JWT VC), and the public status lists their status points into."""

from __future__ import annotations

from typing import Any

from flask import Response, g, request

from hub.context import Context
from hub.errors import NotFound
from hub.http.blueprint import HubBlueprint, context
from hub.http.current import hub_state
from hub.licences import access, credentials, status_lists
from hub.licences.routes import named_holder, reader
from hub.licences.schemas import HolderArgsSchema

blp = HubBlueprint(
    "credentials", __name__, url_prefix="/api/v1", description="Licences as SD-JWT credentials; status lists"
)


@blp.route("/licences/<number>/credential", methods=["GET"])
@blp.requires("agency", "operator", "portal")
@blp.arguments(HolderArgsSchema, location="query")
@blp.response(200, description="The licence as an SD-JWT VC (application/dc+sd-jwt), every disclosure attached")
def get_credential(args: dict[str, Any], number: str) -> Response:
    """The licence's current version as an SD-JWT VC signed with the issuer's seal: for its issuer, the
    operator, or a portal naming the holder it acts for (``holder_id_type`` and ``holder_id``)."""
    state = hub_state()
    record = access.record_for_reader(state, number, g.principal.agency, g.principal.roles, named_holder(args))
    token = credentials.credential(state, context(), record)
    access.log_reads(state, [record], reader())
    response = Response(token, mimetype=credentials.MEDIA_TYPE)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Disposition"] = f'attachment; filename="{record["number"]}.sd-jwt"'
    return response


@blp.route("/credential-pickups/<code>", methods=["GET"])
@blp.response(200, description="The holder's credential (application/dc+sd-jwt), once")
def pick_up_credential(code: str) -> Response:
    """Public, with the one-time code from the QR code on the holder's licence page: the wallet that scanned it
    receives the credential, once, within ten minutes (the pick-up is in the holder's access log)."""
    state = hub_state()
    record, token = credentials.pick_up(state, Context(actor="wallet", request_id=g.request_id), code)
    access.log_reads(state, [record], "wallet", application="credential-pickup")
    response = Response(token, mimetype=credentials.MEDIA_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.route("/status-lists/<type_code>/<list_number>", methods=["GET"])
@blp.response(200, description="A signed, compressed status list (application/statuslist+jwt)")
def get_status_list(type_code: str, list_number: str) -> Response:
    """Public: one status list (IETF Token Status List, two bits per entry: 0 valid, 1 invalid, 2 suspended),
    signed by the hub's seal; a status change is in it at once, and caches may keep it for the max-age."""
    state = hub_state()
    if not list_number.isdigit() or len(list_number) > 9:
        raise NotFound(f"no status list {type_code}/{list_number}")
    signed = state.status_lists.token(type_code, int(list_number))
    etag = f'"{list_number}-{signed.changes}-{signed.issued_at}"'
    max_age = state.settings.status_list_max_age
    if etag in request.if_none_match:
        response = Response(status=304)
    else:
        response = Response(signed.token, mimetype=status_lists.MEDIA_TYPE)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response
