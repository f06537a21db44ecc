"""Verification of uploaded PDFs (public) and the sealing service for agencies."""

from __future__ import annotations

from typing import Any

from flask import Response, g, request
from marshmallow import ValidationError

from hub.context import Context
from hub.errors import Invalid
from hub.http.blueprint import HubBlueprint, context
from hub.http.current import hub_state
from hub.http.hooks import MULTIPART, accepts
from hub.http.schemas import ProblemSchema
from hub.licences import signing, verification
from hub.licences.schemas import FileUploadSchema, JwsRequestSchema, JwsSchema, SealFormSchema, VerificationSchema

blp = HubBlueprint("documents", __name__, url_prefix="/api/v1", description="Verification and sealing")


@blp.route("/verifications", methods=["POST"])
@blp.arguments(FileUploadSchema, location="files")
@blp.response(200, VerificationSchema)
@accepts(MULTIPART)
def verify(files: dict[str, Any]) -> Any:
    """Public: every signature of an uploaded PDF (ETSI EN 319 102-1 terms) and the licence it is."""
    visitor = Context(actor="public", request_id=g.request_id)
    return verification.verify_document(hub_state(), files["file"].read(), visitor)


SIGNATURE_REQUEST = {
    "required": True,
    "content": {
        MULTIPART: {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {"type": "string", "format": "binary", "description": "the PDF to seal"},
                    "visible": {"type": "boolean", "description": "draw a visible stamp on page 1"},
                },
            }
        },
        "application/json": {
            "schema": {"type": "object", "required": ["payload"], "properties": {"payload": {"type": "object"}}}
        },
    },
}


@blp.route("/signatures", methods=["POST"])
@blp.requires("agency")
@blp.idempotent()
@blp.doc(requestBody=SIGNATURE_REQUEST)
@blp.response(201, JwsSchema, description="JWS for a JSON body; for a PDF upload, the sealed PDF")
@blp.alt_response(422, schema=ProblemSchema, description="Neither a PDF to seal nor a JSON payload to sign")
@blp.doc(responses={201: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}})
@accepts(MULTIPART, "application/json")
def sign(*_: Any) -> Any:
    """Seal a PDF (multipart ``file``, optional ``visible=true``) at PAdES B-LT, or sign JSON
    ``{"payload": {...}}`` as a compact JWS (ES256, ``x5c`` chain to the hub's roots)."""
    state, agency = hub_state(), g.principal.agency
    if request.mimetype == MULTIPART:
        try:
            upload = FileUploadSchema().load(request.files)
            form = SealFormSchema().load(request.form)
        except ValidationError as error:
            raise Invalid("Send the PDF as multipart 'file' (optionally 'visible').", errors=_listed(error)) from None
        sealed = signing.seal_document(state, context(), agency, upload["file"].read(), form["visible"])
        response = Response(sealed, status=201, mimetype="application/pdf")
        response.headers["Content-Disposition"] = 'attachment; filename="sealed.pdf"'
        return response
    try:
        data = JwsRequestSchema().load(request.get_json())
    except ValidationError as error:
        raise Invalid("Send a PDF as multipart 'file', or JSON {\"payload\": {...}}.", errors=_listed(error)) from None
    return {"jws": signing.sign_json(state, context(), agency, data["payload"])}, 201


def _listed(error: ValidationError) -> dict[str, list[str]]:
    """marshmallow's messages as the problem's ``errors``: {field: [messages]}."""
    messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
    return {str(name): [str(m) for m in (v if isinstance(v, list) else [v])] for name, v in messages.items()}
