"""The working-day calendar: holidays and make-up working days per year, and deadlines in working days."""

from __future__ import annotations

from typing import Any

from hub.http.blueprint import HubBlueprint, context
from hub.http.current import hub_state
from hub.http.schemas import ProblemSchema
from hub.intake.calendar_schemas import CalendarYearLoadSchema, CalendarYearSchema, DeadlineArgsSchema, DeadlineSchema
from hub.registry.agency_routes import READERS

blp = HubBlueprint("calendar", __name__, url_prefix="/api/v1/calendar", description="Working days and holidays")


@blp.route("/working-days", methods=["GET"])
@blp.requires(*READERS)
@blp.arguments(DeadlineArgsSchema, location="query")
@blp.response(200, DeadlineSchema)
def deadline(args: dict[str, Any]) -> Any:
    """The date of the ``days``-th working day after ``from``: the deadline of a time limit starting then."""
    return hub_state().calendars.deadline_report(args["start"], args["days"])


@blp.route("/<year>", methods=["GET"])
@blp.requires(*READERS)
@blp.response(200, CalendarYearSchema)
@blp.alt_response(422, schema=ProblemSchema, description="Not a year the hub keeps a calendar for")
def get_year(year: str) -> Any:
    """A year's holidays and make-up working days in force, and where they come from."""
    return hub_state().calendars.year(year).as_dict()


@blp.route("/<year>", methods=["PUT"])
@blp.requires("operator")
@blp.arguments(CalendarYearLoadSchema)
@blp.response(200, CalendarYearSchema)
def put_year(data: dict[str, Any], year: str) -> Any:
    """Load a whole year, replacing the package's (or an earlier load) for that year."""
    return hub_state().calendars.put_year(context(), year, data).as_dict()
