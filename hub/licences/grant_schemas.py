"""Schemas of holders' grants: asking for one, listing and revoking them, and a relying party's redemption."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from hub.http.schemas import id_type_field, identified_by, identifier_field
from hub.licences.grants import MAX_DAYS
from hub.licences.schemas import PublicStatusSchema


class HolderProofSchema(identified_by("holder_id_type", "holder_id"), Schema):
    """The holder a portal acts for (with the person's proof in ``Applicant-Token``)."""

    holder_id_type = id_type_field(required=True)
    holder_id = identifier_field(required=True)


class GrantRequestSchema(HolderProofSchema):
    relying_party = fields.String(
        required=True,
        validate=validate.Length(min=18, max=40),
        metadata={"description": "the relying party's unified social credit code", "example": "11330000002482090Q"},
    )
    purpose = fields.String(
        required=True, validate=validate.Length(min=1, max=200), metadata={"example": "开立对公账户 Opening an account"}
    )
    days = fields.Integer(
        load_default=7, validate=validate.Range(min=1, max=MAX_DAYS), metadata={"description": "how long it lasts"}
    )
    fields_ = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)),
        data_key="fields",
        attribute="fields",
        load_default=None,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "only these licence fields (default: the whole licence, PDF included)"},
    )


class GrantSchema(Schema):
    id = fields.String()
    code = fields.String(metadata={"description": "the one-time code: in the answer that made the grant only"})
    qr_svg = fields.String(metadata={"description": "the code as a QR code (SVG), with the code"})
    licence = fields.String()
    licence_type = fields.String()
    relying_party = fields.String()
    relying_party_name = fields.String()
    purpose = fields.String()
    fields_ = fields.List(fields.String(), data_key="fields", attribute="fields", allow_none=True)
    created_at = fields.String()
    expires_at = fields.String()
    status = fields.String(metadata={"description": "active, used, expired or revoked"})
    used_at = fields.String(allow_none=True)
    revoked_at = fields.String(allow_none=True)


class GrantListSchema(Schema):
    items = fields.List(fields.Nested(GrantSchema))


class RedemptionRequestSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=4, max=64))


class RedemptionSchema(Schema):
    grant = fields.Nested(GrantSchema)
    licence = fields.Nested(PublicStatusSchema)
    credential = fields.String(metadata={"description": "SD-JWT VC disclosing the granted fields only"})
    pdf = fields.String(
        allow_none=True, metadata={"description": "the sealed PDF, base64, when the whole licence was granted"}
    )
    ofd = fields.String(
        allow_none=True,
        metadata={"description": "the sealed OFD, base64, when the whole licence was granted and its type issues one"},
    )
