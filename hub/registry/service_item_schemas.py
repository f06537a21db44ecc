"""Request and answer schemas of the service catalogue: service items (their materials, time limits, form checks
and end), their versions, and the public service guide."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from hub.http.schemas import PageArgsSchema, code_field, page_of, region_field
from hub.registry.schemas import FIELD_NAME, IsoDate, Recorded

ENTRY_TYPES = ("catalogue", "implementation")


class MaterialSchema(Schema):
    code = code_field(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    evidence_type = code_field(load_default=None, allow_none=True)
    required = fields.Boolean(load_default=True)
    paper_required = fields.Boolean(
        load_default=False, metadata={"description": "true only where a law requires a paper original"}
    )
    party = fields.String(
        load_default="applicant",
        validate=validate.OneOf(("applicant", "representative")),
        metadata={"description": "whose it is: the applicant's, or its legal representative's or agent's"},
    )
    description = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    fields = fields.List(
        fields.String(validate=FIELD_NAME),
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=100),
        metadata={
            "description": "the evidence fields this material needs: only these are fetched, kept and returned"
            " (default: every field of its evidence type)"
        },
    )

    @validates_schema
    def _fields_need_a_type(self, data: dict, **kwargs) -> None:
        if data.get("fields") is not None and not data.get("evidence_type"):
            raise ValidationError({"fields": ["Only a material with an evidence type names fields."]})
        if data.get("fields") and len(set(data["fields"])) != len(data["fields"]):
            raise ValidationError({"fields": ["Name each field once."]})


class FormCheckSchema(Schema):
    """One answer of the form checked against one field of the platform's data (Art. 9)."""

    form_field = fields.String(required=True, validate=FIELD_NAME, metadata={"description": "the form's field"})
    material = code_field(required=True, metadata={"description": "the material (with an evidence type) to check"})
    field = fields.String(required=True, validate=FIELD_NAME, metadata={"description": "its evidence field"})


class ServiceItemSchema(Recorded):
    code = code_field(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    region = region_field(required=True)
    agency = code_field(required=True, metadata={"description": "implementing (lead) agency"})
    co_agencies = fields.List(code_field(), load_default=list, validate=validate.Length(max=50))
    online = fields.Boolean(load_default=True)
    in_person_required = fields.Boolean(load_default=False)
    statutory_days = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=3650))
    committed_days = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=3650))
    acceptance_days = fields.Integer(
        strict=True,
        load_default=5,
        validate=validate.Range(min=1, max=60),
        metadata={"description": "working days to accept or refuse a submitted case"},
    )
    extension_days = fields.Integer(
        strict=True,
        load_default=0,
        validate=validate.Range(min=0, max=3650),
        metadata={"description": "the extension the law allows beyond statutory_days (postponements stop there)"},
    )
    materials_days = fields.Integer(
        strict=True,
        load_default=20,
        validate=validate.Range(min=1, max=365),
        metadata={"description": "working days the applicant has to supply the materials asked for"},
    )
    task_days = fields.Integer(
        strict=True,
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=3650),
        metadata={"description": "working days a co-agency has for its part (default: half the committed days)"},
    )
    produces = code_field(load_default=None, allow_none=True, metadata={"description": "licence type"})
    materials = fields.List(fields.Nested(MaterialSchema), load_default=list, validate=validate.Length(max=200))
    form_checks = fields.List(
        fields.Nested(FormCheckSchema),
        load_default=list,
        validate=validate.Length(max=100),
        metadata={
            "description": "which answers of the form the platform checks against which evidence fields; a mismatch"
            " goes to the data's owner (Art. 9). Nothing is matched by name alone."
        },
    )
    entry_type = fields.String(
        load_default="implementation",
        validate=validate.OneOf(ENTRY_TYPES),
        metadata={"description": "catalogue (list of contents) or implementation entry"},
    )
    catalogue_code = code_field(
        load_default=None, allow_none=True, metadata={"description": "the catalogue entry this implements"}
    )
    legal_basis = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20_000))
    effective_from = IsoDate(load_default=None, allow_none=True)
    where_to_apply = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    fee = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=2000),
        metadata={"description": "what the applicant pays, and on what basis; null: free of charge"},
    )
    conditions = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=20_000),
        metadata={"description": "who may apply"},
    )
    contact = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    complaint_line = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=500),
        metadata={"description": "where to complain"},
    )
    ends_on = IsoDate(
        load_default=None,
        allow_none=True,
        metadata={"description": "from this day the item takes no new applications (withdrawn or abolished)"},
    )
    end_kind = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(("withdrawn", "abolished")))
    successor = code_field(
        load_default=None, allow_none=True, metadata={"description": "the item that replaces it, once it ends"}
    )
    retention_years = fields.Integer(
        strict=True,
        load_default=30,
        allow_none=True,
        validate=validate.Range(min=1, max=100),
        metadata={"description": "years a concluded case's archive is kept (Art. 13); null: permanently"},
    )
    version = fields.Integer(dump_only=True)
    level = fields.String(dump_only=True, metadata={"description": "province, city or county (from region)"})
    supplementary = fields.Boolean(dump_only=True, metadata={"description": "a city or county supplement"})

    @validates_schema
    def _consistent(self, data: dict, **kwargs) -> None:
        errors: dict[str, list[str]] = {}
        if data.get("committed_days", 0) > data.get("statutory_days", 10**9):
            errors["committed_days"] = ["The committed time limit cannot exceed the statutory one."]
        if (data.get("task_days") or 0) > data.get("committed_days", 10**9):
            errors["task_days"] = ["A co-agency's part ends within the case's committed time limit."]
        codes = [m["code"] for m in data.get("materials", [])]
        if len(codes) != len(set(codes)):
            errors["materials"] = ["Material codes must be unique within a service item."]
        co_agencies = data.get("co_agencies", [])
        if data.get("agency") in co_agencies or len(co_agencies) != len(set(co_agencies)):
            errors["co_agencies"] = ["List each co-agency once, and not the lead agency."]
        by_code = {m["code"]: m for m in data.get("materials", [])}
        for check in data.get("form_checks", []):
            material = by_code.get(check["material"])
            if material is None or not material.get("evidence_type"):
                problem = f"{check['material']!r} is no material with an evidence type."
                errors.setdefault("form_checks", []).append(problem)
            elif material.get("fields") is not None and check["field"] not in material["fields"]:
                errors.setdefault("form_checks", []).append(
                    f"{check['material']!r} does not fetch {check['field']!r}: list it in its fields."
                )
        if bool(data.get("ends_on")) != bool(data.get("end_kind")):
            errors["end_kind"] = ["An item that ends says how (withdrawn or abolished) and from when (ends_on)."]
        if data.get("successor") and not data.get("ends_on"):
            errors["successor"] = ["Only an item that ends has a successor."]
        if data.get("entry_type") == "catalogue" and data.get("catalogue_code"):
            errors["catalogue_code"] = ["A catalogue entry does not implement another entry."]
        if errors:
            raise ValidationError(errors)


class ServiceItemQuerySchema(Schema):
    version = fields.Integer(validate=validate.Range(min=1, max=1_000_000))


class ServiceItemListArgsSchema(PageArgsSchema):
    region = region_field(load_default=None)
    q = fields.String(
        load_default=None, validate=validate.Length(min=1, max=100), metadata={"description": "in codes and names"}
    )
    agency = code_field(load_default=None, metadata={"description": "the implementing agency"})


class VersionSummarySchema(Schema):
    version = fields.Integer()
    name = fields.String()
    effective_from = fields.String(allow_none=True)
    legal_basis = fields.String(allow_none=True)
    created_at = fields.String()
    created_by = fields.String()


class VersionListSchema(Schema):
    items = fields.List(fields.Nested(VersionSummarySchema), required=True)


class GuideMaterialSchema(Schema):
    code = fields.String()
    name = fields.String()
    required = fields.Boolean()
    evidence_type = fields.String(allow_none=True)
    shared = fields.Boolean(metadata={"description": "a platform data source provides it: no need to bring it"})
    paper_required = fields.Boolean()
    description = fields.String(allow_none=True)


class GuideAgencySchema(Schema):
    code = fields.String()
    name = fields.String()
    region = fields.String()


class GuideSchema(Schema):
    """The public service guide of a service item (regulation Art. 6)."""

    code = fields.String()
    name = fields.String()
    version = fields.Integer()
    effective_from = fields.String(allow_none=True)
    legal_basis = fields.String(allow_none=True)
    region = fields.String()
    level = fields.String()
    agency = fields.Nested(GuideAgencySchema)
    co_agencies = fields.List(fields.Nested(GuideAgencySchema))
    online = fields.Boolean()
    in_person_required = fields.Boolean()
    where_to_apply = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True))
    time_limits = fields.Dict(keys=fields.String(), values=fields.Raw())
    materials = fields.List(fields.Nested(GuideMaterialSchema))
    process = fields.List(fields.String())
    produces = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True)
    fee = fields.String(allow_none=True, metadata={"description": "null: free of charge"})
    conditions = fields.String(allow_none=True)
    contact = fields.String(allow_none=True)
    complaint_line = fields.String(allow_none=True)
    ends = fields.Dict(
        keys=fields.String(),
        values=fields.String(allow_none=True),
        allow_none=True,
        metadata={"description": "when the item stops taking applications: on, kind (withdrawn, abolished), successor"},
    )
    implementations = fields.List(fields.String(), metadata={"description": "a catalogue entry's implementing items"})
    form_checks = fields.List(
        fields.Dict(keys=fields.String(), values=fields.String()),
        metadata={"description": "the answers the platform checks against shared data, and against what (Art. 9)"},
    )


ServiceItemPageSchema = page_of(ServiceItemSchema)
