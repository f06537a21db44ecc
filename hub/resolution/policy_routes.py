"""The Cedar policies in force, and the operator's own rules (validated before they take effect)."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, fields, validate

from hub.errors import Invalid
from hub.http.blueprint import HubBlueprint, context
from hub.http.current import hub_state
from hub.http.schemas import CODE_PATTERN

blp = HubBlueprint("policies", __name__, url_prefix="/api/v1/policies", description="Access policies (Cedar)")


class PolicyTextSchema(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=100_000))


class PolicySchema(Schema):
    name = fields.String()
    text = fields.String()
    source = fields.String(metadata={"description": "file (shipped or HUB_POLICY_DIR) or api"})
    updated_at = fields.String()
    updated_by = fields.String()


class PolicyListSchema(Schema):
    items = fields.List(fields.Nested(PolicySchema), required=True)


@blp.route("", methods=["GET"])
@blp.requires("operator")
@blp.response(200, PolicyListSchema)
def list_policies() -> Any:
    """Every policy in force."""
    return {"items": hub_state().policies.listing()}


@blp.route("/<name>", methods=["PUT"])
@blp.requires("operator")
@blp.arguments(PolicyTextSchema)
@blp.response(200, PolicySchema)
def put_policy(data: dict[str, Any], name: str) -> Any:
    """Add or replace an operator rule; refused (422) unless it and every rule in force pass the schema."""
    if not re.match(CODE_PATTERN, name):
        raise Invalid("Policy names are codes.", errors={"name": ["Use 1-64 letters, digits, '.', '_' or '-'."]})
    return hub_state().policies.put(context(), name, data["text"]) | {"source": "api"}


@blp.route("/<name>", methods=["DELETE"])
@blp.requires("operator")
@blp.response(204)
def delete_policy(name: str) -> None:
    """Remove an operator rule."""
    hub_state().policies.delete(context(), name)
