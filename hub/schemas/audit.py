"""Schemas of the audit log's verification and listing."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from .. import keys
from .common import PageArgsSchema, page_of


class AuditReportSchema(Schema):
    intact = fields.Boolean(required=True)
    entries = fields.Integer(required=True)
    problems = fields.List(fields.String(), metadata={"description": "where the chain breaks"})


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


AuditPageSchema = page_of(AuditEntrySchema)
