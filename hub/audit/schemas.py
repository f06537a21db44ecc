"""Schemas of the audit log's verification and listing, and of its sealed checkpoints."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from hub.http.schemas import PageArgsSchema, page_of
from hub.store import keys


class CheckpointRefSchema(Schema):
    seq = fields.Integer(required=True)
    at = fields.String(required=True, metadata={"description": "when it was sealed (RFC 3339)"})


class CheckpointStatusSchema(Schema):
    count = fields.Integer(required=True, metadata={"description": "checkpoints stored"})
    latest = fields.Nested(CheckpointRefSchema, allow_none=True, required=True)
    signatures_checked = fields.Integer(metadata={"description": "signatures verified in this run"})
    problems = fields.List(fields.String(), metadata={"description": "what is wrong with the checkpoint list"})


class AuditReportSchema(Schema):
    intact = fields.Boolean(required=True)
    entries = fields.Integer(required=True)
    problems = fields.List(fields.String(), metadata={"description": "where a chain or the checkpoints break"})
    checkpoints = fields.Nested(CheckpointStatusSchema)


class AuditVerifyArgsSchema(Schema):
    signatures = fields.String(
        load_default="latest",
        validate=validate.OneOf(["latest", "all"]),
        metadata={"description": "verify the newest checkpoint's signature (it vouches for the rest) or all"},
    )


class AuditEntrySchema(Schema):
    id = fields.String()
    seq = fields.String()
    at = fields.String()
    actor = fields.String()
    action = fields.String()
    target = fields.String()
    request_id = fields.String()
    detail = fields.String()
    prev = fields.String()
    hash = fields.String()


class AuditArgsSchema(PageArgsSchema):
    partition = fields.String(load_default=keys.REGISTRY, validate=validate.Regexp(r"^[A-Za-z0-9:._-]{1,80}$"))


class CheckpointRequestSchema(Schema):
    """Sealing takes nothing: no body, or an empty object."""


class CheckpointSchema(Schema):
    """A sealed checkpoint: the exact document and its detached CMS signature."""

    seq = fields.Integer(required=True)
    at = fields.String(required=True)
    sha256 = fields.String(required=True, metadata={"description": "SHA-256 of the document's UTF-8 bytes"})
    document = fields.String(required=True, metadata={"description": "canonical JSON, signed as these exact bytes"})
    signature = fields.String(required=True, metadata={"description": "DER CMS SignedData (detached), base64"})


AuditPageSchema = page_of(AuditEntrySchema)
CheckpointPageSchema = page_of(CheckpointSchema)
