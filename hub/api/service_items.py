"""Service items with their version history, and the public service guide."""

from __future__ import annotations

from typing import Any

from flask import url_for

from ..intake import due
from ..registry import guide, service_items
from ..schemas.common import ProblemSchema
from ..schemas.intake import OutcomeArgsSchema, OutcomePageSchema
from ..schemas.registry import (
    GuideSchema,
    ServiceItemListArgsSchema,
    ServiceItemPageSchema,
    ServiceItemQuerySchema,
    ServiceItemSchema,
    VersionListSchema,
)
from ..web import pages
from .agencies import READERS
from .base import HubBlueprint, context, hub

# The guide answers JSON or, for a browser, HTML; flask-smorest documents one content type by itself.
GUIDE_CONTENT = {
    "description": "The service guide",
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Guide"}},
        "text/html": {"schema": {"type": "string"}},
    },
}
blp = HubBlueprint("service_items", __name__, url_prefix="/api/v1/service-items", description="The service catalogue")


@blp.route("", methods=["POST"])
@blp.requires("operator")
@blp.idempotent()
@blp.arguments(ServiceItemSchema)
@blp.response(201, ServiceItemSchema)
def create_service_item(data: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Register a service item; posting an existing code makes its next version."""
    state = hub()
    record = service_items.create_service_item(state.store, context(), data, state.today())
    location = url_for("service_items.get_service_item", code=record["code"], version=record["version"])
    return record, 201, {"Location": location}


@blp.route("", methods=["GET"])
@blp.requires(*READERS)
@blp.arguments(ServiceItemListArgsSchema, location="query")
@blp.response(200, ServiceItemPageSchema)
def list_service_items(args: dict[str, Any]) -> Any:
    """List service items (newest versions) by code, optionally of one region."""
    return service_items.list_service_items(hub().store, args["limit"], args["cursor"], args["region"])


@blp.route("/<code>", methods=["GET"])
@blp.requires(*READERS)
@blp.arguments(ServiceItemQuerySchema, location="query")
@blp.response(200, ServiceItemSchema)
def get_service_item(args: dict[str, Any], code: str) -> Any:
    """The newest version of a service item, or an older one with version=N."""
    return service_items.get_service_item(hub().store, code, args.get("version"))


@blp.route("/<code>/versions", methods=["GET"])
@blp.requires(*READERS)
@blp.response(200, VersionListSchema)
def list_versions(code: str) -> Any:
    """Every version of a service item, oldest first."""
    return {"items": service_items.list_versions(hub().store, code)}


@blp.route("/<code>/guide", methods=["GET"])
@blp.arguments(ServiceItemQuerySchema, location="query")
@blp.response(200, GuideSchema)
@blp.alt_response(404, schema=ProblemSchema)
@blp.doc(responses={"200": GUIDE_CONTENT})
def get_guide(args: dict[str, Any], code: str) -> Any:
    """Public, no token: the service guide, as JSON, or as a page for a browser (Accept: text/html)."""
    document = guide.build_guide(hub().store, code, args.get("version"), pages.apply_url(code))
    if pages.wants_html():
        return pages.render_guide(document)
    return document


get_guide.serves_html = True  # errors on this route answer a browser with a page too


@blp.route("/<code>/outcomes", methods=["GET"])
@blp.arguments(OutcomeArgsSchema, location="query")
@blp.response(200, OutcomePageSchema)
def outcomes(args: dict[str, Any], code: str) -> Any:
    """Public: the decisions on an item's applications, newest first, applicants' names masked."""
    before = float(args["cursor"]) if args["cursor"] else None
    return due.outcomes(hub(), code, before, args["limit"])
