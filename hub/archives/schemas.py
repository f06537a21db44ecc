"""Schemas of the archive register: catalogue entries, searches, disposal."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from hub.http.schemas import PageArgsSchema, code_field, id_type_field, identified_by, identifier_field, page_of
from hub.registry.schemas import IsoDate


class ArchiveSearchArgsSchema(identified_by("applicant_id_type", "applicant_id"), PageArgsSchema):
    case = fields.String(load_default=None, validate=validate.Length(max=200), metadata={"description": "case id"})
    agency = code_field(load_default=None, metadata={"description": "cases the agency led or took part in"})
    service_item = code_field(load_default=None)
    applicant_id_type = id_type_field(load_default=None)
    applicant_id = identifier_field(load_default=None)
    archived_from = IsoDate(load_default=None, metadata={"description": "filed on or after this day"})
    archived_to = IsoDate(load_default=None, metadata={"description": "filed on or before this day"})

    @validates_schema
    def _applicant_whole(self, data: dict[str, Any], **kwargs: Any) -> None:
        if bool(data.get("applicant_id")) != bool(data.get("applicant_id_type")):
            raise ValidationError("Give applicant_id_type and applicant_id together.", "applicant_id")


class RetentionSchema(Schema):
    years = fields.Integer(allow_none=True, metadata={"description": "null: kept permanently"})
    until = fields.String(allow_none=True, metadata={"description": "last day of the retention period"})


class PackageSchema(Schema):
    sha256 = fields.String(metadata={"description": "SHA-256 of the zip"})
    size = fields.Integer()
    manifest_sha256 = fields.String()
    files = fields.Integer(metadata={"description": "files listed in the manifest"})


class DisposalSchema(Schema):
    at = fields.String()
    by = fields.String()
    reason = fields.String()


class ArchivedApplicantSchema(Schema):
    id_type = fields.String()
    id_masked = fields.String()
    name_masked = fields.String()


class ArchiveEntrySchema(Schema):
    case = fields.String()
    service_item = fields.String()
    service_item_name = fields.String()
    version = fields.Integer()
    agency = fields.String(metadata={"description": "lead agency"})
    co_agencies = fields.List(fields.String())
    applicant = fields.Nested(ArchivedApplicantSchema)
    outcome = fields.String()
    licence = fields.String(allow_none=True)
    submitted_at = fields.String()
    concluded_at = fields.String()
    archived_at = fields.String()
    retention = fields.Nested(RetentionSchema)
    package = fields.Nested(PackageSchema)
    disposed = fields.Nested(DisposalSchema, allow_none=True)


ArchivePageSchema = page_of(ArchiveEntrySchema)


class DisposalRequestSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class DueForDisposalArgsSchema(Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
