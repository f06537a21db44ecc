"""Schemas of the deadline alerts the scheduled sweep raises (Art. 14)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from hub.http.schemas import PageArgsSchema, code_field, page_of


class DeadlineAlertArgsSchema(PageArgsSchema):
    agency = code_field(
        load_default=None,
        metadata={"description": "operator only: one lead agency (default: every agency); agencies see their own"},
    )
    level = fields.String(
        load_default=None,
        validate=validate.OneOf(["due-soon", "overdue"]),
        metadata={"description": "only alerts of this level"},
    )


class DeadlineAlertSchema(Schema):
    application = fields.String(required=True)
    agency = fields.String(required=True, metadata={"description": "the lead agency"})
    level = fields.String(
        required=True,
        metadata={"description": "due-soon (due today or the next working day) or overdue (deadline passed)"},
    )
    clock = fields.String(
        dump_default="decision",
        metadata={"description": "the clock that ran out: acceptance, materials (the applicant's) or decision"},
    )
    deadline = fields.String(
        required=True, metadata={"format": "date", "description": "the end of the clock the alert is about"}
    )
    raised_at = fields.String(required=True, metadata={"description": "when the sweep raised it (RFC 3339)"})


DeadlineAlertPageSchema = page_of(DeadlineAlertSchema)
