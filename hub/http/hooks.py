"""What happens around every request: request ids, body checks, security headers (CSP, HSTS behind TLS),
metrics, access log."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from flask import Flask, Response, abort, current_app, g, request

from hub import metrics
from hub.http.current import hub_state
from hub.http.problems import problem

log = logging.getLogger("hub.access")
REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")
BODY_METHODS = {"POST", "PUT", "PATCH"}
KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


JSON = "application/json"
MULTIPART = "multipart/form-data"


def accepts(*media_types: str) -> Callable:
    """Mark the body types a view takes (JSON unless marked); multipart ones get the upload size limit."""

    def mark(view: Callable) -> Callable:
        view.accepted_media_types = frozenset(media_types)  # type: ignore[attr-defined]
        return view

    return mark


def _is_json(mimetype: str) -> bool:
    return mimetype == "application/json" or mimetype.endswith("+json")


def _start() -> Response | None:
    g.started = time.perf_counter()
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = offered if _SAFE_REQUEST_ID.match(offered) else uuid.uuid4().hex
    if request.method not in BODY_METHODS or not request.path.startswith("/api/"):
        return None
    view = request.url_rule and request.url_rule.endpoint and _view_function()
    accepted = getattr(view, "accepted_media_types", frozenset({JSON})) if view else frozenset({JSON})
    settings = hub_state().settings
    limit = settings.max_upload_bytes if MULTIPART in accepted else settings.max_body_bytes
    request.max_content_length = limit  # also bounds chunked bodies, which declare no length
    if request.content_length is not None and request.content_length > limit:
        abort(413)
    has_body = bool(request.content_length) or request.headers.get("Transfer-Encoding", "").lower() == "chunked"
    if not has_body:
        return None
    if (JSON in accepted and _is_json(request.mimetype)) or request.mimetype in accepted:
        return None
    expected = " or ".join(sorted(accepted))
    return problem(
        415,
        "Unsupported Media Type",
        f"Send the body as {expected}, not {request.mimetype or 'an untyped body'}.",
        "unsupported-media-type",
    )


def _view_function():
    return current_app.view_functions.get(request.url_rule.endpoint)


# Pages load only the hub's own stylesheets, scripts (the API docs) and images, and post only to the hub.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
DATA_CSP = "default-src 'none'; frame-ancestors 'none'"  # JSON, PEM, zip: nothing in them may run or load
# A PDF is shown by the browser's own viewer, which a document CSP of 'none' would keep from loading.
PDF_CSP = "frame-ancestors 'none'"
HSTS = "max-age=31536000"
# gunicorn believes these from 127.0.0.1 even with no trusted proxy; the hub does not, then.
FORWARDED_SCHEME_HEADERS = ("X-Forwarded-Proto", "X-Forwarded-Protocol", "X-Forwarded-Ssl")


def came_over_tls() -> bool:
    """The request reached the hub, or its trusted proxy (HUB_TRUSTED_PROXIES), over TLS."""
    if request.scheme != "https":
        return False
    if hub_state().settings.trusted_proxies:
        return True  # ProxyFix took the scheme from the trusted proxy's X-Forwarded-Proto
    return not any(name in request.headers for name in FORWARDED_SCHEME_HEADERS)


def _security_headers(response: Response) -> None:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", PAGE_CSP)
    elif response.mimetype == "application/pdf":
        headers.setdefault("Content-Security-Policy", PDF_CSP)
    else:
        headers.setdefault("Content-Security-Policy", DATA_CSP)
    if came_over_tls():  # browsers ignore both over plain HTTP (and log COOP as an error there)
        headers.setdefault("Strict-Transport-Security", HSTS)
        if response.mimetype == "text/html":
            headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")


# Routes whose path carries a one-time secret (a credential pick-up code): the log names the route instead.
SECRET_IN_PATH = frozenset({"credentials.pick_up_credential"})


def _finish(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
    _security_headers(response)
    if request.path.startswith("/api/"):
        response.headers.setdefault("Cache-Control", "no-store")
    started = g.get("started")
    if started is not None:
        seconds = time.perf_counter() - started
        route = request.url_rule.rule if request.url_rule else "unmatched"
        method = request.method if request.method in KNOWN_METHODS else "OTHER"  # bounded label values
        metrics.observe_request(method, route, response.status_code, seconds)
        principal = g.get("principal")
        log.info(
            "request",
            extra={
                "method": request.method,
                "path": route if request.endpoint in SECRET_IN_PATH else request.path,
                "route": route,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 3),
                "actor": principal.actor if principal else None,
            },
        )
    return response


def init_app(app: Flask) -> None:
    """Install the request hooks."""
    app.before_request(_start)
    app.after_request(_finish)
