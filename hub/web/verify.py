"""The public verification pages: upload a PDF and read the verdict, and the QR link's status page.

Anyone may use them, without a token. The services decide (:mod:`hub.licences.verification`,
:mod:`hub.licences.register`); these views only hand them the upload or the number and put their answer
into plain words in the visitor's language. Codes the pages have no words for are shown as they are, never dropped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from hub.context import Context
from hub.errors import HubError, Invalid, NotFound
from hub.http.current import hub_state
from hub.http.hooks import BODY_METHODS, MULTIPART, accepts
from hub.http.problems import handle_hub_error
from hub.http.ratelimit import read_with_count, reads_with_count
from hub.licences import register as licences
from hub.licences import verification
from hub.state import HubState
from hub.web.i18n import current_language, text_of, translator
from hub.web.pages import render_page

blp = Blueprint("verify_pages", __name__, url_prefix="/verify")

PUBLIC = "public"  # how the audit log names an anonymous visitor
UPLOAD_FIELD = "file"
# The order a reader follows; a report's own key order is not kept (cached reports come back sorted).
CHECK_ORDER = ("format", "integrity", "signer_chain", "revocation", "timestamp", "coverage", "changes_after_signing")


def _context() -> Context:
    return Context(actor=PUBLIC, request_id=g.request_id)


class Wording:
    """Plain words in one language for the codes a verification report carries; unknown codes verbatim."""

    def __init__(self, language: str, state: HubState) -> None:
        self.language = language
        self.state = state

    def _first(self, keys: list[str], fallback: Any) -> str:
        for key in keys:
            text = text_of(key, self.language)
            if text is not None:
                return text
        return "" if fallback is None else str(fallback)

    def word(self, kind: str, value: Any) -> str:
        """The name of a value (a verdict, status, outcome, kind, coverage or modification level)."""
        return self._first([f"verify_{kind}_{value}"], value)

    def reason(self, code: Any) -> str:
        """A document or signature reason code as a sentence (signature reasons are sub-indications)."""
        return self._first([f"verify_reason_{code}", f"verify_sub_{str(code).upper()}"], code)

    def check(self, name: str, check: Any) -> str:
        """What one check found, as a sentence: by its sub-indication, else by its outcome."""
        if not isinstance(check, dict):
            return str(check)
        outcome, sub_indication = check.get("outcome"), check.get("sub_indication")
        if sub_indication:
            keys = [f"verify_check_{name}_{sub_indication}", f"verify_sub_{sub_indication}"]
            return self._first(keys, sub_indication)
        return self._first([f"verify_check_{name}_{outcome}"], self.word("outcome", outcome))

    def checks(self, checks: Any) -> list[tuple[str, Any]]:
        """A signature's checks in reading order, any the pages do not know at the end."""
        if not isinstance(checks, dict):
            return []
        rank = {name: position for position, name in enumerate(CHECK_ORDER)}
        return sorted(checks.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0]))

    def when(self, value: Any) -> str:
        """An RFC 3339 time as a reader writes it, in the province's time zone; anything else as it is."""
        if not value:
            return "–"
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
        if moment.tzinfo is None:
            return moment.strftime("%Y-%m-%d %H:%M:%S")
        local = self.state.local_time(moment)
        offset = local.strftime("%z")
        zone = "UTC" if offset == "+0000" else f"UTC{offset[:3]}:{offset[3:]}"
        return f"{local:%Y-%m-%d %H:%M:%S} {zone}"


def _render(template: str, status: int = 200, **values: Any) -> Response:
    language = current_language()
    response = render_page(template, say=Wording(language, hub_state()), **values)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"  # verdicts and statuses change; never serve a stale one
    return response


def _upload_limit_mb() -> int:
    return max(1, hub_state().settings.max_upload_bytes // 1_048_576)


def _wants_json() -> bool:
    """JSON only when the client prefers it to a page (browsers, and clients that say nothing, get HTML)."""
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


@blp.before_request
def _bound_the_upload() -> None:
    """The upload limit that :mod:`hub.http.hooks` gives multipart API routes, for these page routes."""
    if request.method not in BODY_METHODS:
        return
    limit = hub_state().settings.max_upload_bytes
    request.max_content_length = limit  # also bounds chunked bodies, which declare no length
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()


@blp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge) -> Response:
    message = translator(current_language())("verify_too_large").format(mb=_upload_limit_mb())
    return _render("verify.html", 413, result=None, failure=message, limit_mb=_upload_limit_mb())


@blp.errorhandler(HubError)
def _explain(error: HubError) -> Response:
    """A failed check is told on the page it came from; everything else goes to the app's one handler."""
    if request.endpoint == "verify_pages.check":
        plain = translator(current_language())("verify_unreadable") if isinstance(error, Invalid) else None
        failure = f"{plain} ({error.detail})" if plain else error.detail
        return _render("verify.html", error.status, result=None, failure=failure, limit_mb=_upload_limit_mb())
    if request.endpoint == "verify_pages.licence_status" and isinstance(error, NotFound) and not _wants_json():
        return _render("licence_status.html", 404, licence=None, number=request.view_args.get("number", ""))
    return handle_hub_error(error)


@blp.route("", methods=["GET"])
def form() -> Response:
    """The upload form."""
    return _render("verify.html", result=None, failure=None, limit_mb=_upload_limit_mb())


@blp.route("", methods=["POST"])
@accepts(MULTIPART)
def check() -> Response:
    """Verify an uploaded PDF or OFD and show the verdict, the licence and every signature."""
    upload = request.files.get(UPLOAD_FIELD)
    if upload is None or not upload.filename:
        failure = translator(current_language())("verify_no_file")
        return _render("verify.html", 400, result=None, failure=failure, limit_mb=_upload_limit_mb())
    result = verification.verify_document(hub_state(), upload.read(), _context())
    return _render("verify.html", result=result, failure=None, limit_mb=_upload_limit_mb())


@blp.route("/<number>", methods=["GET"])
@read_with_count(lambda number: licences.answer_ahead(hub_state(), number))
def licence_status(number: str) -> Response:
    """The QR link: a licence's public status, as a page, or as JSON for ``Accept: application/json``."""
    if _wants_json():
        body, etag = licences.status_answer(hub_state(), number, reads_with_count())
        response = Response(body, mimetype="application/json")
        response.set_etag(etag)
        response.headers["Cache-Control"] = "no-cache"  # kept, but asked again each time: a status changes
        response.headers["Vary"] = "Accept"
        return response.make_conditional(request)
    record = licences.public_status(hub_state(), number)
    return _render("licence_status.html", licence=record, number=number)
