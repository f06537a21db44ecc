"""Request and answer schemas of the registry: agencies, tokens, types, connectors, service items."""

from __future__ import annotations

from typing import Any

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, post_load, validate

from hub import identifiers
from hub.http.schemas import (
    code_field,
    id_type_field,
    identified_by,
    identifier_field,
    page_of,
    region_field,
)

FIELD_TYPES = ("string", "date", "number", "boolean")
FIELD_NAME = validate.Regexp(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$", error="Use a letter or '_' then letters, digits, '_'.")
ROLE = validate.OneOf(("operator", "agency", "portal"))


class IsoDate(fields.Date):
    """A date loaded from ISO 8601; stored records keep it as that string, and dump it unchanged."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value if isinstance(value, str) else super()._serialize(value, attr, obj, **kwargs)


class Recorded(Schema):
    """Fields the hub adds to every registry record it answers with."""

    created_at = fields.String(dump_only=True)
    created_by = fields.String(dump_only=True)


# An agency's code is the serialNumber of its seal certificate, an X.509 PrintableString, which has no
# '_': such a code registered the agency and then failed to make its seal (500).
AGENCY_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$"
AGENCY_CODE_ERROR = "Use 1-64 letters, digits, '.' or '-' (the code goes into the seal certificate: no '_')."


AGENCY_KINDS = ("agency", "third-party-platform")


class AgencySchema(Recorded):
    code = code_field(AGENCY_CODE_PATTERN, AGENCY_CODE_ERROR, required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    region = region_field(required=True)
    kind = fields.String(
        load_default="agency",
        validate=validate.OneOf(AGENCY_KINDS),
        metadata={
            "description": "agency, or third-party-platform: a platform that takes applications for the province"
            " (Art. 2), named in a case's channel as third-party:<code>"
        },
    )
    credit_code = fields.String(
        validate=validate.Length(min=18, max=40),
        metadata={
            "description": "the agency's unified social credit code (GB 32100); a licence's GB/T 36904 identifier"
            " is formed with its issuer's",
            "example": "11330000002482090Q",
        },
    )

    @post_load
    def _canonical_credit_code(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if "credit_code" in data:
            try:
                data["credit_code"] = identifiers.canonical("credit-code", data["credit_code"])
            except identifiers.InvalidIdentifier as error:
                raise ValidationError(str(error), field_name="credit_code") from None
        return data


class TokenRequestSchema(Schema):
    roles = fields.List(fields.String(validate=ROLE), required=True, validate=validate.Length(min=1, max=3))


class TokenSchema(Schema):
    """A token record; ``token`` (the secret) appears only in the answer that created it."""

    id = fields.String(dump_only=True)
    agency = fields.String(dump_only=True, allow_none=True)
    roles = fields.List(fields.String(), dump_only=True)
    created_at = fields.String(dump_only=True)
    created_by = fields.String(dump_only=True)
    token = fields.String(dump_only=True, metadata={"description": "the bearer secret, shown once"})


class TokenListSchema(Schema):
    items = fields.List(fields.Nested(TokenSchema), required=True)


class FieldSpecSchema(Schema):
    type = fields.String(required=True, validate=validate.OneOf(FIELD_TYPES))
    required = fields.Boolean(load_default=False)
    label = fields.String(validate=validate.Length(max=200))


class FieldsMapField(fields.Dict):
    """``{"<name>": {"type", "required"}}`` with validated names."""

    def __init__(self, **kwargs) -> None:
        super().__init__(
            keys=fields.String(validate=FIELD_NAME),
            values=fields.Nested(FieldSpecSchema),
            validate=validate.Length(max=200),
            **kwargs,
        )


class EvidenceTypeSchema(Recorded):
    code = code_field(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    licence_type = fields.Boolean(dump_only=True, metadata={"description": "true for a licence type's evidence"})
    personal = fields.Boolean(load_default=True, metadata={"description": "about a natural person"})
    cache_ttl_seconds = fields.Integer(
        strict=True,
        load_default=0,
        validate=validate.Range(min=0, max=7 * 86_400),
        metadata={"description": "how long a source's answer may be reused; 0 (the default) never"},
    )
    fields = FieldsMapField(required=True)  # last: the name shadows marshmallow.fields in the class body


FORMATS = ("pdf", "ofd")


def _pdf_and_no_repeats(formats: list[str]) -> None:
    if "pdf" not in formats:
        raise ValidationError("A licence is always issued as pdf (its record copy); ofd may be issued beside it.")
    if len(set(formats)) != len(formats):
        raise ValidationError("Name each format once.")


class LicenceTypeSchema(Recorded):
    code = code_field(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    issuer = code_field(required=True, metadata={"description": "agency code"})
    validity_days = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=36_500))
    formats = fields.List(
        fields.String(validate=validate.OneOf(FORMATS)),
        load_default=lambda: ["pdf"],
        dump_default=["pdf"],
        validate=_pdf_and_no_repeats,
        metadata={"description": "the files a licence is issued as: pdf, and ofd (GB/T 33190, SM2 seal) beside it"},
    )
    fields = FieldsMapField(required=True)  # last: the name shadows marshmallow.fields in the class body


class ConnectorSchema(Recorded):
    id = code_field(required=True)
    agency = code_field(required=True)
    kind = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9-]{0,31}$"))
    provides = fields.List(code_field(), required=True, validate=validate.Length(min=1, max=100))
    config = fields.Dict(keys=fields.String(), load_default=dict)
    timeout_ms = fields.Integer(strict=True, load_default=3000, validate=validate.Range(min=1, max=60_000))
    active = fields.Boolean(dump_only=True)
    last_test = fields.Dict(dump_only=True, allow_none=True, metadata={"description": "at, ok, latency_ms"})


class HealthPointSchema(Schema):
    start_ms = fields.Integer()
    calls = fields.Integer()
    p50_ms = fields.Float(allow_none=True)


class ProbeSchema(Schema):
    ok = fields.Boolean(required=True)
    latency_ms = fields.Float(required=True)
    detail = fields.String(required=True)
    at = fields.String(required=True, metadata={"description": "when it ran (RFC 3339)"})
    failing_since = fields.String(
        allow_none=True, required=True, metadata={"description": "first of the consecutive failed probes"}
    )


class ConnectorHealthSchema(Schema):
    connector = fields.String()
    active = fields.Boolean()
    last_test = fields.Dict(allow_none=True)
    last_probe = fields.Nested(
        "ProbeSchema", allow_none=True, metadata={"description": "the last scheduled probe (HUB_PROBE_INTERVAL)"}
    )
    calls = fields.Integer(metadata={"description": "calls in the last hour"})
    errors = fields.Integer()
    error_rate = fields.Float()
    p50_ms = fields.Float(allow_none=True)
    p95_ms = fields.Float(allow_none=True)
    circuit = fields.String(metadata={"enum": ["closed", "open", "half-open"]})
    series = fields.List(fields.Nested(HealthPointSchema), metadata={"description": "five-minute buckets"})


class DatasetUploadSchema(Schema):
    file = Upload(required=True, metadata={"description": "UTF-8 CSV with a header row"})


class DatasetSchema(Schema):
    connector = fields.String()
    rows = fields.Integer()
    sha256 = fields.String()
    uploaded_at = fields.String()
    uploaded_by = fields.String()


class ActivationSchema(Schema):
    active = fields.Boolean(required=True)


class ConnectorTestRequestSchema(identified_by("subject_id_type", "subject_id"), Schema):
    """An optional sample fetch to run after the health probe."""

    evidence_type = code_field(load_default=None)
    subject_id_type = id_type_field(load_default=None)
    subject_id = identifier_field(load_default=None)


class ConnectorTestSchema(Schema):
    ok = fields.Boolean(required=True)
    latency_ms = fields.Float(required=True)
    detail = fields.String(required=True)
    sample = fields.Dict(
        allow_none=True, metadata={"description": "status of the sample fetch and the field names it returned"}
    )


AgencyPageSchema = page_of(AgencySchema)
EvidenceTypePageSchema = page_of(EvidenceTypeSchema)
LicenceTypePageSchema = page_of(LicenceTypeSchema)
ConnectorPageSchema = page_of(ConnectorSchema)
