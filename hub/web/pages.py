"""The page views and the helpers API views use to answer with a page instead of JSON."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, render_template, request, url_for

from hub.errors import Invalid
from hub.http.current import hub_state
from hub.registry import service_items
from hub.web.i18n import COOKIE, LANGUAGES, current_language, translator

blp = Blueprint("pages", __name__)


def wants_html() -> bool:
    """True when the client prefers an HTML page to JSON (a browser)."""
    best = request.accept_mimetypes.best_match(["application/json", "text/html"], default="application/json")
    return best == "text/html" and request.accept_mimetypes[best] > request.accept_mimetypes["application/json"]


def apply_url(service_item: str) -> str | None:
    """The absolute address of the hub's apply page for an item, once the hub serves one."""
    settings = hub_state().settings
    if "apply_pages.choose" not in current_app.view_functions or not settings.applicant_portal:
        return None
    return settings.base_url + url_for("apply_pages.choose", service_item=service_item)


def language_url(language: str) -> str:
    """This page in another language, keeping the rest of its query (region, cursor, version)."""
    return request.path + "?" + urlencode({**request.args.to_dict(), "lang": language})


def render_page(template: str, **values: Any) -> Response:
    """A page in the visitor's language; an explicit ``?lang=`` is remembered in a cookie."""
    language = current_language()
    html = render_template(
        template, t=translator(language), lang=language, languages=LANGUAGES, language_url=language_url, **values
    )
    response = Response(html, mimetype="text/html")
    if request.args.get("lang") in LANGUAGES:
        response.set_cookie(COOKIE, language, max_age=365 * 86_400, samesite="Lax")
    response.headers["Content-Language"] = language
    response.headers["Vary"] = "Accept, Accept-Language, Cookie"
    return response


def render_error_page(status: int, title: str, detail: str) -> Response:
    """The page a browser gets for an error, in its language."""
    response = render_page("error.html", status=status, title=title, detail=detail)
    response.status_code = status
    return response


def render_guide(guide: dict[str, Any]) -> Response:
    return render_page("guide.html", guide=guide)


@blp.route("/")
def home() -> Response:
    return render_catalogue()


@blp.route("/service-items")
def render_catalogue() -> Response:
    """The public catalogue, a page at a time."""
    store = hub_state().store
    region = request.args.get("region")
    region = region if region and region.isdigit() and len(region) == 6 else None
    q = (request.args.get("q") or "").strip()[:100] or None
    try:
        listing = service_items.search(store, 50, request.args.get("cursor"), region, q, None)
    except Invalid:  # a hand-edited cursor: start from the top rather than fail the page
        listing = service_items.search(store, 50, None, region, q, None)
    return render_page("catalogue.html", listing=listing, region=region, q=q)


def render_outcomes(code: str, listing: dict[str, Any]) -> Response:
    """An item's public results, names masked, as a page."""
    return render_page("outcomes.html", code=code, listing=listing)
