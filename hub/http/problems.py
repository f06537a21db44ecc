"""The one mapping from errors to RFC 9457 problem details, or to an error page for a browser.

:func:`init_app` turns the hub's :class:`~hub.errors.HubError` tree, the ``certs`` package's errors and
every HTTP-level error (malformed JSON, wrong content type, unknown route or method, oversized body,
unexpected exception) into ``application/problem+json``; a browser asking for a page gets the page
that the app factory's ``render_error_page`` draws. Nothing else writes error bodies.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, g, json, request
from werkzeug.exceptions import HTTPException, InternalServerError

from certs.api import CertsError, KeyUnavailable
from certs.pades import NotAPdf, SealRefused
from certs.render import LicenceRenderError
from hub.errors import HubError, Invalid, SealUnavailable, StoreUnavailable, Unauthorized, Unprintable

log = logging.getLogger(__name__)
PROBLEM_TYPE_BASE = "urn:hub:problem:"
PROBLEM_MEDIA_TYPE = "application/problem+json"


def problem(status: int, title: str, detail: str, slug: str | None = None, **members: Any) -> Response:
    """A problem+json response; ``members`` become extension members (``errors``, ...)."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug if slug else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    request_id = getattr(g, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    body.update({k: v for k, v in members.items() if v is not None})
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MEDIA_TYPE)
    return response


def _wants_html() -> bool:
    """A browser asked for a page: a page route, or an API route that also answers as a page."""
    view = current_app.view_functions.get(request.endpoint or "")
    page_route = not request.path.startswith("/api/") and request.path not in ("/openapi.json", "/metrics")
    if not (page_route or getattr(view, "serves_html", False)):
        return False
    best = request.accept_mimetypes.best_match(["application/json", PROBLEM_MEDIA_TYPE, "text/html"])
    return best == "text/html"


ErrorPage = Callable[[int, str, str], Response]  # (status, title, detail) -> an HTML page
_ERROR_PAGE = "hub.error_page"


def _error_page(status: int, title: str, detail: str) -> Response:
    return current_app.extensions[_ERROR_PAGE](status, title, detail)


def _flatten_validation(messages: Any) -> dict[str, list[str]]:
    """webargs nests field errors by location ({"json": {...}}); callers want {field: [messages]}."""
    errors: dict[str, list[str]] = {}
    if not isinstance(messages, dict):
        return {"_body": [str(messages)]}
    for location, fields in messages.items():
        if not isinstance(fields, dict):
            errors.setdefault("_" + str(location), []).extend(_as_list(fields))
            continue
        for name, field_messages in fields.items():
            errors.setdefault(str(name), []).extend(_as_list(field_messages))
    return errors


def _as_list(messages: Any) -> list[str]:
    if isinstance(messages, list):
        return [m if isinstance(m, str) else json.dumps(m) for m in messages]
    if isinstance(messages, dict):
        return [f"{key}: {'; '.join(_as_list(value))}" for key, value in messages.items()]
    return [str(messages)]


def handle_hub_error(error: HubError) -> Response:
    if isinstance(error, StoreUnavailable):
        log.error("store unavailable", extra={"error": error.detail})
    if _wants_html():
        return _error_page(error.status, error.title, error.detail)
    response = problem(error.status, error.title, error.detail, error.slug, errors=error.errors, **error.extra)
    if isinstance(error, Unauthorized):
        response.headers["WWW-Authenticate"] = 'Bearer realm="hub"'
    return response


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    if status >= 500:
        return handle_unexpected(error)
    data = getattr(error, "data", None) or {}
    headers = dict(data.get("headers") or {})
    if status == 422 and "messages" in data:
        response = problem(
            422,
            "Invalid request",
            "The request has invalid fields; see errors.",
            "validation",
            errors=_flatten_validation(data["messages"]),
        )
    elif status == 400 and "messages" in data:
        response = problem(400, "Bad request", "The body is not valid JSON.", "malformed-json")
    elif _wants_html():
        response = _error_page(status, error.name, error.description or error.name)
    else:
        response = problem(status, error.name, error.description or error.name)
    if status == 405:
        allowed = error.get_headers()
        headers.update({k: v for k, v in allowed if k.lower() == "allow"})
    for name, value in headers.items():
        response.headers[name] = value
    return response


def handle_unexpected(error: Exception) -> Response:
    original = getattr(error, "original_exception", None) or error
    if isinstance(original, HubError):
        return handle_hub_error(original)
    log.error("unhandled exception", exc_info=original)
    return problem(
        500,
        "Internal error",
        f"The hub could not complete the request; quote request id {getattr(g, 'request_id', '-')} when reporting it.",
    )


def handle_certs_error(error: CertsError) -> Response:
    """The ``certs`` package's errors, in the hub's terms."""
    if isinstance(error, NotAPdf):
        return handle_hub_error(Invalid(str(error), errors={"file": ["Not a PDF that can be sealed."]}))
    if isinstance(error, LicenceRenderError):
        return handle_hub_error(Unprintable(str(error)))
    if isinstance(error, SealRefused | KeyUnavailable):
        log.error("seal unavailable", extra={"error": str(error)})
        return handle_hub_error(SealUnavailable(str(error)))
    return handle_unexpected(error)


def init_app(app: Flask, render_error_page: ErrorPage) -> None:
    """Register the one mapping from exceptions to problem+json (after flask-smorest's); browsers asking
    for a page get ``render_error_page``'s."""
    app.extensions[_ERROR_PAGE] = render_error_page
    app.register_error_handler(HubError, handle_hub_error)
    app.register_error_handler(CertsError, handle_certs_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(InternalServerError, handle_unexpected)
    app.register_error_handler(Exception, handle_unexpected)
