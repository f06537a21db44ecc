"""Request and answer schemas of the working-day calendar."""

from __future__ import annotations

from datetime import date

from marshmallow import Schema, fields, validate

from hub.intake.workdays import MAX_YEAR, MIN_YEAR

MAX_DAYS = 3660  # ten years of calendar days: far beyond any committed time limit
ISO_DATE = {"format": "date", "example": "2027-01-01"}


def date_list(**kwargs) -> fields.List:
    """Dates as strings: the service checks each one (ISO, inside the year) and names the bad ones."""
    return fields.List(fields.String(metadata=ISO_DATE), required=True, validate=validate.Length(max=366), **kwargs)


class CalendarYearLoadSchema(Schema):
    """A whole year: every holiday, and every make-up working day on a Saturday or Sunday."""

    year = fields.Integer(
        validate=validate.Range(min=MIN_YEAR, max=MAX_YEAR), metadata={"description": "if given, the path's year"}
    )
    holidays = date_list(metadata={"description": "days off, on any day of the week"})
    working_days = date_list(metadata={"description": "make-up working days (调休), all on Saturdays or Sundays"})


class CalendarYearSchema(Schema):
    year = fields.Integer(required=True)
    source = fields.String(
        required=True,
        validate=validate.OneOf(("operator", "chinese_calendar", "weekends-only")),
        metadata={"description": "operator (loaded), chinese_calendar (the package) or weekends-only (no data)"},
    )
    holidays = fields.List(fields.String(metadata=ISO_DATE), required=True)
    working_days = fields.List(fields.String(metadata=ISO_DATE), required=True)
    updated_at = fields.String()
    updated_by = fields.String()


class DeadlineArgsSchema(Schema):
    start = fields.Date(
        required=True,
        data_key="from",
        # a start past the years the hub keeps would count beyond the last date Python knows (a 500 before)
        validate=validate.Range(
            min=date(MIN_YEAR, 1, 1), max=date(MAX_YEAR, 12, 31), error="Use a day of {min} to {max}."
        ),
        metadata={"description": f"the day the time limit starts, in {MIN_YEAR}-{MAX_YEAR}"},
    )
    days = fields.Integer(required=True, validate=validate.Range(min=0, max=MAX_DAYS))


class DeadlineSchema(Schema):
    start = fields.Date(required=True, data_key="from")
    days = fields.Integer(required=True)
    deadline = fields.Date(required=True, metadata={"description": "the days-th working day after from"})
    uncovered_years = fields.List(
        fields.Integer(),
        required=True,
        metadata={"description": "years counted Monday to Friday only, for want of data"},
    )
