"""The public service guide of an item at ``/api/v1/service-items/{code}/guide``: JSON, or a page for a browser."""

from __future__ import annotations

from typing import Any

from hub.http.blueprint import HubBlueprint
from hub.http.current import hub_state
from hub.http.schemas import ProblemSchema
from hub.registry import guide
from hub.registry.service_item_schemas import GuideSchema, ServiceItemQuerySchema
from hub.web import pages

# The guide answers JSON or, for a browser, HTML; flask-smorest documents one content type by itself.
GUIDE_CONTENT = {
    "description": "The service guide",
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Guide"}},
        "text/html": {"schema": {"type": "string"}},
    },
}
blp = HubBlueprint("guides", __name__, url_prefix="/api/v1/service-items", description="The service catalogue")


@blp.route("/<code>/guide", methods=["GET"])
@blp.arguments(ServiceItemQuerySchema, location="query")
@blp.response(200, GuideSchema)
@blp.alt_response(404, schema=ProblemSchema)
@blp.doc(responses={"200": GUIDE_CONTENT})
def get_guide(args: dict[str, Any], code: str) -> Any:
    """Public, no token: the service guide, as JSON, or as a page for a browser (Accept: text/html)."""
    document = guide.build_guide(hub_state().store, code, args.get("version"), pages.apply_url(code))
    if pages.wants_html():
        return pages.render_guide(document)
    return document


get_guide.serves_html = True  # errors on this route answer a browser with a page too
