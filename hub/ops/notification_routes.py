"""Subscriptions to case and licence events, and their delivery logs (issue 19): ``/api/v1/subscriptions``."""

from __future__ import annotations

from typing import Any

from flask import g
from marshmallow import Schema, fields, validate

from hub.http.blueprint import HubBlueprint, context
from hub.http.current import hub_state
from hub.http.schemas import code_field
from hub.ops import notifications
from hub.resolution.schemas import SubjectSchema

blp = HubBlueprint("subscriptions", __name__, url_prefix="/api/v1/subscriptions", description="Notifications")


class FiltersSchema(Schema):
    service_item = code_field(load_default=None)
    agency = code_field(load_default=None, metadata={"description": "the lead agency"})
    applicant = fields.Nested(
        SubjectSchema, load_default=None, load_only=True, metadata={"description": "one person's cases only"}
    )


class SubscriptionRequestSchema(Schema):
    callback_url = fields.Url(required=True, schemes={"http", "https"}, require_tld=False)
    channels = fields.List(
        fields.String(validate=validate.OneOf(notifications.CHANNELS)), required=True, validate=validate.Length(min=1)
    )
    filters = fields.Nested(FiltersSchema, load_default=dict)
    secret = fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(min=16, max=200),
        metadata={"description": "the key of each delivery's Hub-Signature HMAC"},
    )


class SubscriptionSchema(SubscriptionRequestSchema):
    id = fields.String(dump_only=True)
    owner = fields.String(dump_only=True)
    created_at = fields.String(dump_only=True)


class SubscriptionListSchema(Schema):
    items = fields.List(fields.Nested(SubscriptionSchema))


class DeliverySchema(Schema):
    at = fields.String()
    event = fields.String()
    type = fields.String()
    attempt = fields.String()
    status = fields.Integer(allow_none=True)
    problem = fields.String()
    outcome = fields.String(metadata={"description": "delivered, retrying or given_up"})


class DeliveryListSchema(Schema):
    items = fields.List(fields.Nested(DeliverySchema))


@blp.route("", methods=["POST"])
@blp.requires("portal", "agency")
@blp.arguments(SubscriptionRequestSchema)
@blp.response(201, SubscriptionSchema)
def subscribe(data: dict[str, Any]) -> Any:
    """Hear of the events of the channels asked for, about what the caller may read; a subscription grants no
    access."""
    return notifications.subscribe(hub_state(), context(), g.principal.agency, data), 201


@blp.route("", methods=["GET"])
@blp.requires("portal", "agency")
@blp.response(200, SubscriptionListSchema)
def list_subscriptions() -> Any:
    """The caller's subscriptions."""
    return {"items": notifications.owned(hub_state(), g.principal.agency)}


@blp.route("/<subscription_id>", methods=["DELETE"])
@blp.requires("portal", "agency")
@blp.response(204)
def unsubscribe(subscription_id: str) -> Any:
    notifications.unsubscribe(hub_state(), g.principal.agency, subscription_id)
    return "", 204


@blp.route("/<subscription_id>/deliveries", methods=["GET"])
@blp.requires("portal", "agency")
@blp.response(200, DeliveryListSchema)
def deliveries(subscription_id: str) -> Any:
    """Every delivery attempt to this subscription, newest first."""
    return {"items": notifications.delivery_log(hub_state(), g.principal.agency, subscription_id, 500)}
