"""Schemas of intake: applications, uploads, events, co-agency tasks."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from hub.http.schemas import code_field
from hub.intake.queues import QUEUES
from hub.licences.schemas import HolderSchema
from hub.resolution.schemas import NoticeSchema

CHANNEL_PATTERN = r"^(web|mobile|terminal|third-party:[A-Za-z0-9][A-Za-z0-9.-]{0,63})$"
EVENTS = ("accept", "request_materials", "suspend", "resume", "postpone", "approve", "reject", "refetch")


class ArchiveLinkSchema(Schema):
    """Where a concluded case's archive package is: its digest and when it was filed."""

    sha256 = fields.String()
    archived_at = fields.String()


PERSON_ID_TYPES = ("resident-id", "passport", "hk-macao-permit", "taiwan-permit")


class RepresentativeSchema(HolderSchema):
    """A company's legal representative or agent: a person."""

    role = fields.String(
        load_default="legal_representative", validate=validate.OneOf(("legal_representative", "agent"))
    )

    @validates_schema
    def _a_person(self, data: dict, **kwargs) -> None:
        if data.get("id_type") not in PERSON_ID_TYPES:
            raise ValidationError({"id_type": ["A representative is a person: " + ", ".join(PERSON_ID_TYPES) + "."]})


class ApplicationRequestSchema(Schema):
    service_item = code_field(required=True)
    applicant = fields.Nested(HolderSchema, required=True)
    representative = fields.Nested(
        RepresentativeSchema,
        load_default=None,
        metadata={
            "description": "for a company: its legal representative or agent; the item's materials of party"
            " 'representative' are looked up under this person (without one: under the applicant)"
        },
    )
    channel = fields.String(
        required=True,
        validate=validate.Regexp(CHANNEL_PATTERN, error="web, mobile, terminal, or third-party:<platform code>."),
        metadata={"description": "web, mobile, terminal, or third-party:<code> of a registered third-party platform"},
    )
    form = fields.Dict(keys=fields.String(), load_default=dict, metadata={"description": "the applicant's answers"})


class UploadSignatureSchema(Schema):
    """One signature on an uploaded PDF, as verified when it arrived (Art. 11)."""

    kind = fields.String(metadata={"description": "signature or document_timestamp"})
    signer = fields.String()
    signed_at = fields.String(allow_none=True, metadata={"description": "the timestamp's time, else the claimed"})
    timestamped = fields.Boolean()
    intact = fields.Boolean(metadata={"description": "the signed bytes are unchanged"})
    trusted = fields.Boolean(metadata={"description": "the signer's certificate leads to a root the hub trusts"})
    indication = fields.String(metadata={"description": "passed, failed or indeterminate"})
    problem = fields.String(allow_none=True)


class StoredFileSchema(Schema):
    sha256 = fields.String()
    media_type = fields.String()
    size = fields.Integer()
    uploaded_at = fields.String()
    signatures = fields.List(
        fields.Nested(UploadSignatureSchema), metadata={"description": "a signed PDF: each signature's verdict"}
    )


class ApplicationMaterialSchema(Schema):
    code = fields.String()
    name = fields.String()
    required = fields.Boolean()
    party = fields.String(
        dump_default="applicant", metadata={"description": "whose it is: applicant or representative"}
    )
    status = fields.String(metadata={"description": "resolved, missing, unavailable or uploaded"})
    evidence_type = fields.String(allow_none=True)
    source = fields.Dict(allow_none=True)
    data = fields.Dict(allow_none=True)
    file = fields.Nested(StoredFileSchema, allow_none=True)


class TimelineEntrySchema(Schema):
    at = fields.String()
    type = fields.String()
    by = fields.String()
    reason = fields.String(allow_none=True)
    deadline = fields.String(allow_none=True)
    until = fields.String(metadata={"description": "suspend: the last day of the suspension"})
    material = fields.String(metadata={"description": "discrepancy.settled: the material it was about"})
    field = fields.String(metadata={"description": "discrepancy.settled: its field"})
    value = fields.Raw(
        metadata={
            "description": "discrepancy.settled as corrected: the value fetched again (where the reader may see it)"
        }
    )


class NotificationSchema(TimelineEntrySchema):
    status = fields.String()
    remaining_days = fields.Integer(allow_none=True)


class TaskSchema(Schema):
    agency = fields.String()
    status = fields.String(metadata={"description": "pending, approved or rejected"})
    opinion = fields.String(allow_none=True)
    at = fields.String(allow_none=True)
    by = fields.String(allow_none=True)
    deadline = fields.String(allow_none=True, metadata={"description": "the co-agency's own deadline for its part"})
    remaining_days = fields.Integer(allow_none=True, metadata={"description": "working days left while stopped"})


class SuspensionSchema(Schema):
    reason = fields.String()
    since = fields.String()
    until = fields.String(metadata={"description": "the last day of the suspension; the clock restarts after it"})


class DecisionDocumentSchema(Schema):
    """A sealed notice the applicant was given: GET /api/v1/applications/{id}/documents/{reference}."""

    kind = fields.String(metadata={"description": "acceptance, materials_request, refusal or licence_refusal"})
    title = fields.String()
    reference = fields.String()
    language = fields.String()
    sha256 = fields.String()
    at = fields.String()


class StoredApplicantSchema(Schema):
    id_type = fields.String()
    id_masked = fields.String()
    name = fields.String()


class StoredRepresentativeSchema(StoredApplicantSchema):
    role = fields.String(metadata={"description": "legal_representative or agent"})


class ApplicationSchema(Schema):
    id = fields.String()
    status = fields.String()
    service_item = fields.String()
    service_item_name = fields.String()
    version = fields.Integer()
    agency = fields.String()
    co_agencies = fields.List(fields.String())
    applicant = fields.Nested(StoredApplicantSchema)
    representative = fields.Nested(StoredRepresentativeSchema, allow_none=True)
    channel = fields.String()
    materials = fields.List(fields.Nested(ApplicationMaterialSchema))
    notice = fields.Nested(NoticeSchema)
    acceptance_deadline = fields.String(
        allow_none=True, metadata={"description": "submitted: the last working day to accept or refuse it"}
    )
    materials_deadline = fields.String(
        allow_none=True, metadata={"description": "waiting for materials: the last working day to supply them"}
    )
    deadline = fields.String(allow_none=True, metadata={"description": "last working day of the time limit"})
    latest_deadline = fields.String(
        allow_none=True,
        metadata={"description": "the latest a postponement may move the deadline to (statutory + extension days)"},
    )
    remaining_days = fields.Integer(allow_none=True, metadata={"description": "working days left while stopped"})
    suspension = fields.Nested(SuspensionSchema, allow_none=True)
    timeline = fields.List(fields.Nested(TimelineEntrySchema))
    notifications = fields.List(fields.Nested(NotificationSchema))
    tasks = fields.List(fields.Nested(TaskSchema))
    licence = fields.String(allow_none=True)
    documents = fields.List(
        fields.Nested(DecisionDocumentSchema), metadata={"description": "the sealed decision documents, in order"}
    )
    discrepancies = fields.List(fields.String(), metadata={"description": "ids of form/platform mismatches filed"})
    created_at = fields.String()
    archive = fields.Nested(
        ArchiveLinkSchema, allow_none=True, metadata={"description": "the filed archive package, once concluded"}
    )


class ApplicationSummarySchema(Schema):
    """A case in a list: enough to pick it, not the whole file."""

    id = fields.String()
    status = fields.String()
    service_item = fields.String()
    service_item_name = fields.String()
    applicant = fields.Nested(StoredApplicantSchema)
    acceptance_deadline = fields.String(allow_none=True)
    materials_deadline = fields.String(allow_none=True)
    deadline = fields.String(allow_none=True)
    remaining_days = fields.Integer(allow_none=True)
    suspension = fields.Nested(SuspensionSchema, allow_none=True)
    tasks = fields.List(fields.Nested(TaskSchema))
    licence = fields.String(allow_none=True)
    created_at = fields.String()
    clock = fields.String(
        allow_none=True, metadata={"description": "in a queue: the clock that runs (acceptance, materials, decision)"}
    )
    due_on = fields.String(allow_none=True, metadata={"description": "in a queue: the day it is sorted by"})


class ApplicationPageSchema(Schema):
    items = fields.List(fields.Nested(ApplicationSummarySchema))
    next = fields.String(allow_none=True)


class ApplicationListArgsSchema(Schema):
    queue = fields.String(
        load_default=None,
        validate=validate.OneOf(QUEUES),
        metadata={
            "description": "the caller agency's queue, soonest deadline first: to-accept, materials (waiting for"
            " the applicant), tasks (its co-agency tasks), suspended (by end date), due (within a working day),"
            " overdue, discrepancies (open ones about its data)"
        },
    )
    due_before = fields.Date(load_default=None, metadata={"description": "running cases due before this day"})
    applicant_id_type = fields.String(
        load_default=None, validate=validate.Length(max=40), metadata={"description": "a portal: the person's id type"}
    )
    applicant_id = fields.String(
        load_default=None, validate=validate.Length(max=40), metadata={"description": "a portal: the person's id"}
    )
    status = fields.String(
        load_default=None,
        validate=validate.OneOf(("submitted",)),
        metadata={"description": "submitted: the cases awaiting acceptance"},
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    cursor = fields.String(load_default=None, validate=validate.Regexp(r"^[0-9]{1,9}$"))


class MaterialUploadSchema(Schema):
    material = code_field(required=True, metadata={"description": "the material's code"})
    file = Upload(required=True, metadata={"description": "PDF, JPEG or PNG (checked by content)"})


class RequestedMaterialSchema(Schema):
    code = code_field(required=True)
    name = fields.String(validate=validate.Length(min=1, max=200))


class EventSchema(Schema):
    type = fields.String(required=True, validate=validate.OneOf(EVENTS))
    reason = fields.String(load_default=None, validate=validate.Length(max=1000))
    days = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1, max=365),
        metadata={"description": "postpone: working days to add; suspend: working days it lasts (or until)"},
    )
    until = fields.Date(load_default=None, metadata={"description": "suspend: its last day (or days)"})
    materials = fields.List(
        fields.Nested(RequestedMaterialSchema),
        load_default=None,
        metadata={
            "description": "request_materials: every material still needed, named at once; refetch: the materials"
            " to fetch again from the platform (default: every one whose source failed)"
        },
    )


class WithdrawalSchema(Schema):
    reason = fields.String(load_default=None, validate=validate.Length(max=1000))


class TaskOutcomeSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(("approve", "reject")))
    opinion = fields.String(load_default=None, validate=validate.Length(max=2000))


class DiscrepancySettlementSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(("corrected", "confirmed")))
    note = fields.String(load_default=None, validate=validate.Length(max=1000))


class SettlementSchema(DiscrepancySettlementSchema):
    at = fields.String()
    by = fields.String()


class DiscrepancySchema(Schema):
    id = fields.String()
    application = fields.String()
    material = fields.String()
    evidence_type = fields.String()
    field = fields.String()
    form_field = fields.String(metadata={"description": "the form's field the item checks against it"})
    form_value = fields.Raw()
    platform_value = fields.Raw()
    agency = fields.String(metadata={"description": "the agency that provided the data"})
    connector = fields.String()
    status = fields.String(metadata={"description": "open or settled"})
    created_at = fields.String()
    settlement = fields.Nested(SettlementSchema, allow_none=True)


class DiscrepancyMaterialSchema(Schema):
    """What the data's owner may open of the case a discrepancy is about."""

    discrepancy = fields.Nested(DiscrepancySchema)
    application = fields.String()
    service_item = fields.String()
    material = fields.Nested(ApplicationMaterialSchema)


class DiscrepancyPageSchema(Schema):
    items = fields.List(fields.Nested(DiscrepancySchema))
    next = fields.String(allow_none=True)


class OutcomeSchema(Schema):
    decided_at = fields.String()
    outcome = fields.String(metadata={"description": "approved or rejected"})
    applicant_name_masked = fields.String()
    version = fields.Integer()
    licence = fields.String(allow_none=True)


class OutcomePageSchema(Schema):
    items = fields.List(fields.Nested(OutcomeSchema))
    next = fields.String(allow_none=True)


class OutcomeArgsSchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    cursor = fields.String(load_default=None, validate=validate.Regexp(r"^[0-9]{1,16}(\.[0-9]{1,6})?$"))
