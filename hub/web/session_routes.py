"""The operator ends a person's applicant sessions everywhere (a stolen phone, a reported misuse)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from hub.http.blueprint import HubBlueprint
from hub.http.current import hub_state
from hub.http.schemas import id_type_field, identified_by, identifier_field
from hub.web import sessions

blp = HubBlueprint("sessions", __name__, url_prefix="/api/v1", description="Applicant sessions")


class PersonArgsSchema(identified_by("id_type", "id"), Schema):
    id_type = id_type_field(required=True)
    id = identifier_field(required=True)


class EndedSchema(Schema):
    ended = fields.Integer(metadata={"description": "sessions that were still open"})


@blp.route("/sessions", methods=["DELETE"])
@blp.requires("operator")
@blp.arguments(PersonArgsSchema, location="query")
@blp.response(200, EndedSchema)
def end_sessions(args: dict[str, Any]) -> Any:
    """End every applicant session of one person, on every device, at once."""
    state = hub_state()
    return {"ended": sessions.end_sessions_of(state.store, state.keyring.subject_hash(args["id_type"], args["id"]))}
