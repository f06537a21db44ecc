"""Service items with their version history (the guide is served by :mod:`hub.web.guide_routes`)."""

from __future__ import annotations

from typing import Any

from flask import Response, url_for

from hub.http.blueprint import HubBlueprint, context
from hub.http.current import hub_state
from hub.http.ratelimit import read_with_count, reads_with_count
from hub.registry import service_items
from hub.registry.service_item_schemas import (
    ServiceItemListArgsSchema,
    ServiceItemPageSchema,
    ServiceItemQuerySchema,
    ServiceItemSchema,
    VersionListSchema,
)

blp = HubBlueprint("service_items", __name__, url_prefix="/api/v1/service-items", description="The service catalogue")


@blp.route("", methods=["POST"])
@blp.requires("operator")
@blp.idempotent()
@blp.arguments(ServiceItemSchema)
@blp.response(201, ServiceItemSchema)
def create_service_item(data: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Register a service item; posting an existing code makes its next version."""
    state = hub_state()
    record = service_items.create_service_item(state.store, context(), data, state.today())
    location = url_for("service_items.get_service_item", code=record["code"], version=record["version"])
    return record, 201, {"Location": location}


@blp.route("", methods=["GET"])
@blp.arguments(ServiceItemListArgsSchema, location="query")
@blp.response(200, ServiceItemPageSchema)
def list_service_items(args: dict[str, Any]) -> Any:
    """Public, no token: service items (newest versions) by code; ``?q=`` searches codes and names, ``?region=``
    and ``?agency=`` narrow it."""
    store = hub_state().store
    if args["q"] or args["agency"]:
        return service_items.search(store, args["limit"], args["cursor"], args["region"], args["q"], args["agency"])
    return service_items.list_service_items(store, args["limit"], args["cursor"], args["region"])


@blp.route("/<code>", methods=["GET"])
@read_with_count(service_items.answer_ahead)
@blp.arguments(ServiceItemQuerySchema, location="query")
@blp.response(200, ServiceItemSchema)
def get_service_item(args: dict[str, Any], code: str) -> Any:
    """Public: the newest version of a service item, or an older one with version=N."""
    store = hub_state().store
    if args.get("version") is None:
        kept = service_items.kept_answer(store, code, reads_with_count())
        if kept is not None:  # the newest version's answer, as its write kept it: no schema, no encoding
            return Response(kept, mimetype="application/json")
    return service_items.get_service_item(store, code, args.get("version"))


@blp.route("/<code>/versions", methods=["GET"])
@blp.response(200, VersionListSchema)
def list_versions(code: str) -> Any:
    """Public: every version of a service item, oldest first."""
    return {"items": service_items.list_versions(hub_state().store, code)}
