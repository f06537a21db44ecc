"""Schemas of e-licences, their status, verification answers, sealing requests and the PKI."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from hub.http.schemas import PageArgsSchema, code_field, id_type_field, identified_by, identifier_field, page_of
from hub.resolution.schemas import SubjectSchema

STATUSES = ("valid", "suspended", "revoked")


class HolderSchema(SubjectSchema):
    name = fields.String(
        required=True, validate=validate.Length(min=1, max=200), metadata={"example": "杭州西湖小吃店"}
    )


class LicenceRequestSchema(Schema):
    type = code_field(required=True, metadata={"example": "food-business-licence"})
    holder = fields.Nested(HolderSchema, required=True)
    values = fields.Dict(
        keys=fields.String(),
        load_default=dict,
        data_key="fields",
        attribute="fields",
        metadata={"description": "values by field name"},
    )


class StoredHolderSchema(Schema):
    id_type = fields.String()
    id_masked = fields.String()
    name = fields.String()


class LicenceSchema(Schema):
    number = fields.String(metadata={"example": "FOOD-BUSINESS-LICENCE-330100-2026-000001-7"})
    identifier = fields.String(
        allow_none=True,
        metadata={
            "description": "GB/T 36904 identifier of this version (null while the issuer has no credit code)",
            "example": "1.2.156.3005.2.FOODBUSINESS.91330100MA27XYW12A.3301002026000017.002.N",
        },
    )
    version = fields.Integer(metadata={"description": "1 as issued; one more per amendment, renewal or re-issue"})
    version_kind = fields.String(metadata={"description": "issued, amended, renewed or reissued"})
    version_at = fields.String()
    status = fields.String(metadata={"description": "valid, suspended, revoked or expired (by date)"})
    status_reason = fields.String(allow_none=True)
    type = fields.String()
    type_name = fields.String()
    holder = fields.Nested(StoredHolderSchema)
    values = fields.Dict(data_key="fields", attribute="fields")
    issuer = fields.String()
    issuer_name = fields.String()
    issued_at = fields.String()
    valid_from = fields.String()
    valid_until = fields.String()
    sha256 = fields.String(metadata={"description": "SHA-256 of the signed PDF as issued"})
    seal_serial = fields.String()
    ofd_sha256 = fields.String(metadata={"description": "SHA-256 of the sealed OFD, when the type issues one"})
    ofd_seal_serial = fields.String(metadata={"description": "serial of the SM2 seal certificate that sealed the OFD"})
    pdf_url = fields.String()
    ofd_url = fields.String(metadata={"description": "where the OFD is, when the type issues one"})
    verify_url = fields.String()


LicencePageSchema = page_of(LicenceSchema)


class HolderArgsSchema(identified_by("holder_id_type", "holder_id"), Schema):
    holder_id_type = id_type_field()
    holder_id = identifier_field()


class LicenceListArgsSchema(PageArgsSchema, HolderArgsSchema):
    type = code_field()


class StatusChangeSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    reason = fields.String(
        required=True,
        validate=validate.Length(min=1, max=500),
        metadata={
            "description": "published on /verify for a suspension or revocation, so anyone may read it: name no"
            " person and give no personal data"
        },
    )


class AmendmentSchema(Schema):
    values = fields.Dict(
        keys=fields.String(),
        required=True,
        data_key="fields",
        attribute="fields",
        metadata={"description": "the changed values by field name; the others are kept"},
    )
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class RenewalSchema(Schema):
    valid_until = fields.Date(required=True, metadata={"description": "the new last day of validity"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class ReissueSchema(Schema):
    reason = fields.String(
        required=True, validate=validate.Length(min=1, max=500), metadata={"example": "原件遗失 Copy lost"}
    )


class HistoryEntrySchema(Schema):
    at = fields.String()
    event = fields.String(metadata={"description": "issued, status, amended, renewed or reissued"})
    version = fields.Integer()
    status = fields.String()
    reason = fields.String()
    by = fields.String()


class HistorySchema(Schema):
    items = fields.List(fields.Nested(HistoryEntrySchema))


class PublicHistoryEntrySchema(Schema):
    at = fields.String()
    event = fields.String(
        metadata={"description": "issued, amended, renewed, reissued, suspended, revoked or valid (reinstated)"}
    )
    version = fields.Integer()
    reason = fields.String(metadata={"description": "given for a suspension or revocation only"})


class PublicStatusSchema(Schema):
    number = fields.String()
    identifier = fields.String(allow_none=True)
    version = fields.Integer(metadata={"description": "the current version"})
    presented_version = fields.Integer(
        metadata={"description": "in a verification: the version the document is, when it is not the current one"}
    )
    status = fields.String()
    status_since = fields.String()
    status_reason = fields.String(allow_none=True)
    history = fields.List(fields.Nested(PublicHistoryEntrySchema))
    valid_from = fields.String()
    type = fields.String()
    type_name = fields.String()
    holder_name_masked = fields.String()
    valid_until = fields.String()
    issuer = fields.String()
    issuer_name = fields.String()


class FileUploadSchema(Schema):
    file = Upload(required=True, metadata={"description": "a PDF"})


class SealFormSchema(Schema):
    visible = fields.Boolean(load_default=False, metadata={"description": "draw a visible stamp on page 1"})


class JwsRequestSchema(Schema):
    payload = fields.Dict(required=True, metadata={"description": "JSON evidence to sign"})


class JwsSchema(Schema):
    jws = fields.String(metadata={"description": "compact JWS, ES256, x5c chain to the hub's roots"})


class CheckSchema(Schema):
    outcome = fields.String(metadata={"description": "passed, failed or indeterminate"})
    sub_indication = fields.String(allow_none=True, metadata={"description": "ETSI EN 319 102-1 sub-indication"})
    reason = fields.String(allow_none=True)


class SignatureReportSchema(Schema):
    field_name = fields.String()
    kind = fields.String(metadata={"description": "signature or document_timestamp"})
    indication = fields.String(metadata={"description": "passed, failed or indeterminate (ETSI EN 319 102-1)"})
    sub_indication = fields.String(allow_none=True)
    checks = fields.Dict(keys=fields.String(), values=fields.Nested(CheckSchema))
    signer = fields.Dict(keys=fields.String(), values=fields.String())
    claimed_signing_time = fields.String(allow_none=True)
    timestamp = fields.String(allow_none=True)
    coverage = fields.String()
    modification_level = fields.String()
    signed_digest = fields.String(allow_none=True)
    reasons = fields.List(fields.String())


class DecisionDocumentRecordSchema(Schema):
    """A case's sealed decision document, as its public record says it was issued."""

    kind = fields.String(metadata={"description": "acceptance, materials_request, refusal or licence_refusal"})
    title = fields.String()
    reference = fields.String()
    language = fields.String()
    agency = fields.String()
    at = fields.String()


class VerificationSchema(Schema):
    verdict = fields.String(metadata={"description": "valid, invalid or indeterminate"})
    reasons = fields.List(fields.String())
    licence = fields.Nested(PublicStatusSchema, allow_none=True)
    document = fields.Nested(
        DecisionDocumentRecordSchema, metadata={"description": "when the PDF is a case's decision document"}
    )
    signatures = fields.List(fields.Nested(SignatureReportSchema))
    sha256 = fields.String()
    trailing_data = fields.String(
        allow_none=True,
        metadata={"description": "what, after the last signed revision, is not a complete incremental update"},
    )


class SealSchema(Schema):
    agency = fields.String()
    serial = fields.String()
    status = fields.String()
    subject = fields.String()
    not_before = fields.String()
    not_after = fields.String()
    key_backend = fields.String()
    certificate = fields.String(metadata={"description": "PEM"})


class SealHistoryEntrySchema(Schema):
    serial = fields.String()
    status = fields.String()
    issued_at = fields.String()
    issued_by = fields.String()
    certificate = fields.String()


class SealHistorySchema(Schema):
    items = fields.List(fields.Nested(SealHistoryEntrySchema))


class RevocationRequestSchema(Schema):
    reason = fields.String(
        load_default="key_compromise",
        validate=validate.OneOf(
            ("key_compromise", "affiliation_changed", "superseded", "cessation_of_operation", "unspecified")
        ),
    )
    since = fields.AwareDateTime(
        load_default=None, metadata={"description": "when the key was compromised (default now; never later)"}
    )


class RevocationSchema(Schema):
    agency = fields.String()
    serial = fields.String()
    revoked_at = fields.String()
    reason = fields.String()


class SealRenewalSchema(Schema):
    """No fields: a renewal makes a new key and certificate with the agency's current name and region."""
