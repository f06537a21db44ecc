"""Schemas of once-only resolution and the subject's access log."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from hub.http.schemas import PageArgsSchema, code_field, id_type_field, identified_by, identifier_field, page_of


class SubjectSchema(identified_by("id_type", "id"), Schema):
    """A person or organisation, by an identifier that fits its type (:mod:`hub.identifiers`)."""

    id_type = id_type_field(required=True)
    id = identifier_field(required=True)


class ResolutionRequestSchema(Schema):
    service_item = code_field(required=True)
    application = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "the case this read serves: the caller handles it, the subject is its applicant"},
    )
    subject = fields.Nested(SubjectSchema, required=True)


class InvalidationSchema(Schema):
    evidence_type = code_field(required=True)
    subject = fields.Nested(SubjectSchema, required=True)


class SourceSchema(Schema):
    agency = fields.String()
    connector = fields.String()
    cached = fields.Boolean(metadata={"description": "reused within the evidence type's cache TTL"})


class ResolvedMaterialSchema(Schema):
    code = fields.String()
    name = fields.String()
    required = fields.Boolean()
    status = fields.String(metadata={"enum": ["resolved", "missing", "unavailable"]})
    evidence_type = fields.String(allow_none=True)
    source = fields.Nested(SourceSchema, allow_none=True)
    data = fields.Dict(allow_none=True)


class NoticeSchema(Schema):
    missing = fields.List(fields.String(), metadata={"description": "every material the applicant must bring"})
    unavailable = fields.List(fields.String(), metadata={"description": "sources failed: the agency may retry"})
    text = fields.String()
    language = fields.String()


class ResolutionSchema(Schema):
    id = fields.String()
    application = fields.String()
    service_item = fields.String()
    version = fields.Integer()
    agency = fields.String()
    created_at = fields.String()
    materials = fields.List(fields.Nested(ResolvedMaterialSchema))
    notice = fields.Nested(NoticeSchema)
    envelope = fields.String(metadata={"description": "compact JWS (ES256) over the evidence supplied"})


class AccessLogArgsSchema(identified_by("id_type", "id"), PageArgsSchema):
    id_type = id_type_field(required=True)
    id = identifier_field(required=True)


class AccessEntrySchema(Schema):
    at = fields.String()
    agency = fields.String()
    application = fields.String(allow_none=True, metadata={"description": "the case the read served"})
    service_item = fields.String()
    evidence_types = fields.List(fields.String())
    outcome = fields.String(metadata={"enum": ["read", "nothing-read", "refused"]})
    resolution = fields.String(allow_none=True)
    # Last: below this line the class body's "fields" is this field, not marshmallow's module.
    fields = fields.List(fields.String(), metadata={"description": "the fields returned: <evidence type>.<field>"})


AccessLogPageSchema = page_of(AccessEntrySchema)


class JwksSchema(Schema):
    keys = fields.List(fields.Dict())
