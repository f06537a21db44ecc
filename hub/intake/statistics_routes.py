"""Statistics of how agencies serve their items over a period: ``GET /api/v1/statistics?from=&to=``."""

from __future__ import annotations

from typing import Any

from flask import g
from marshmallow import Schema, ValidationError, fields, validates_schema

from hub.errors import Forbidden
from hub.http.blueprint import HubBlueprint
from hub.http.current import hub_state
from hub.http.schemas import code_field
from hub.intake import statistics

blp = HubBlueprint("statistics", __name__, url_prefix="/api/v1/statistics", description="Service statistics")
MAX_DAYS = 3660


class StatisticsArgsSchema(Schema):
    start = fields.Date(required=True, data_key="from", metadata={"description": "first day (the province's time)"})
    end = fields.Date(required=True, data_key="to", metadata={"description": "last day, included"})
    agency = code_field(load_default=None, metadata={"description": "the operator: one agency's items only"})

    @validates_schema
    def _a_period(self, data: dict, **kwargs: Any) -> None:
        if data["end"] < data["start"] or (data["end"] - data["start"]).days > MAX_DAYS:
            raise ValidationError({"to": [f"A period of 1 to {MAX_DAYS} days, ending on or after 'from'."]})


class StatisticsRowSchema(Schema):
    agency = fields.String()
    service_item = fields.String()
    received = fields.Integer()
    concluded = fields.Integer(metadata={"description": "decided (approved or rejected) in the period"})
    on_time = fields.Integer()
    late = fields.Integer()
    average_working_days = fields.Float(allow_none=True, metadata={"description": "from acceptance to decision"})
    suspensions = fields.Integer()
    postponements = fields.Integer()
    channels = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={"description": "by channel"})


class StatisticsSchema(Schema):
    start = fields.String(data_key="from")
    end = fields.String(data_key="to")
    items = fields.List(fields.Nested(StatisticsRowSchema))


@blp.route("", methods=["GET"])
@blp.requires("operator", "agency")
@blp.arguments(StatisticsArgsSchema, location="query")
@blp.response(200, StatisticsSchema)
def get_statistics(args: dict[str, Any]) -> Any:
    """Per agency and item over a period: the operator sees every agency (or ``?agency=``), an agency its own."""
    own = g.principal.agency
    if own is not None and args["agency"] not in (None, own):
        raise Forbidden("An agency sees the statistics of its own items.")
    found = statistics.statistics(hub_state(), args["start"], args["end"], own or args["agency"])
    return {"start": found["from"], "end": found["to"], "items": found["items"]}
