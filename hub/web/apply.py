"""The hub's own applicant pages: a front-end of the intake service, like the province's online hall.

Applicants sign in through the province's identity service (OpenID Connect, :mod:`hub.web.signin`);
with ``HUB_DEMO=1`` and no identity service configured, a demo form stands in for it. The session
(kept on the server, :mod:`hub.web.sessions`) holds the applicant; signing out deletes it
everywhere. A person's cases are theirs, not the session's: every case they are a party to, filed
through any channel, and every licence they hold is listed. Every POST carries the session's CSRF
token. The pages act as one portal agency; the services decide everything (:mod:`hub.intake`,
:mod:`hub.licences`, :mod:`hub.resolution.access_log`), the views only check that what is read
belongs to the signed-in applicant and put answers into words.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import date
from typing import Any

from authlib.integrations.base_client import OAuthError
from flask import Blueprint, Response, abort, flash, g, redirect, request, session, url_for
from marshmallow import ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from connectors.api import Subject
from hub.context import Context
from hub.errors import Forbidden, HubError, Invalid, NotFound
from hub.http.current import hub_state
from hub.http.hooks import BODY_METHODS
from hub.intake import applications
from hub.licences import access
from hub.licences import register as licences
from hub.licences.schemas import HolderSchema
from hub.registry import guide, service_items, types
from hub.resolution import access_log
from hub.resolution.case import Case
from hub.web import sessions, signin
from hub.web.i18n import current_language, translator
from hub.web.pages import render_page
from hub.web.words import Words, agency_names, plain_words

log = logging.getLogger(__name__)
blp = Blueprint("apply_pages", __name__, url_prefix="/apply")

CHANNEL = "web"
APPLICANT = "apply_applicant"  # {"id_type", "id", "name"}: in the server-side session, sealed at rest
CSRF = "apply_csrf"
CSRF_FIELD = "csrf_token"
OPEN_ENDPOINTS = {"apply_pages.login", "apply_pages.sign_in", "apply_pages.signed_in"}
VERIFIED = "apply_verified"  # True when the identity service, not the demo's form, said who the applicant is
NEXT = "apply_next"  # where to go once the identity service sends the applicant back
ID_TYPES = ("resident-id", "credit-code")
MY_CASES = 100  # the newest cases listed on "my applications"
ITEMS_SHOWN = 200
ACCESS_LOG_PAGE = 20


def portal() -> str:
    """The agency these pages submit as (HUB_APPLICANT_PORTAL); the pages are off without one, and without a
    sign-in that proves who the applicant is (OpenID Connect, or the demo's with HUB_DEMO=1)."""
    settings = hub_state().settings
    if not settings.applicant_portal or not (settings.oidc or settings.demo):
        abort(404)
    return settings.applicant_portal


def acting() -> Context:
    return Context(actor=f"applicant-pages:{portal()}", request_id=g.request_id)


def signed_in_applicant() -> dict[str, str] | None:
    """The signed-in applicant (the session lives on the server, sealed at rest: hub.web.sessions)."""
    return session.get(APPLICANT) or None


def text(key: str) -> str:
    return translator(current_language())(key)


def csrf_token() -> str:
    """This session's CSRF token, made on first use."""
    if CSRF not in session:
        session[CSRF] = secrets.token_urlsafe(32)
    return session[CSRF]


def render(template: str, status: int = 200, **values: Any) -> Response:
    applicant = signed_in_applicant()
    response = render_page(
        template,
        csrf=csrf_token(),
        applicant=applicant,
        applicant_id_masked=licences.mask_id(applicant["id"]) if applicant else None,
        say=Words(current_language(), hub_state()),
        **values,
    )
    response.status_code = status
    return response


@blp.before_request
def guard() -> Response | None:
    portal()
    if request.method in BODY_METHODS:
        limit = hub_state().settings.max_upload_bytes
        request.max_content_length = limit  # also bounds chunked bodies, which declare no length
        if request.content_length is not None and request.content_length > limit:
            raise RequestEntityTooLarge()
        expected, given = session.get(CSRF), request.form.get(CSRF_FIELD, "")
        if not expected or not hmac.compare_digest(expected.encode(), given.encode()):
            abort(400, description=text("apply_csrf"))
    if request.endpoint not in OPEN_ENDPOINTS and not signed_in_applicant():
        return redirect(url_for("apply_pages.login", next=request.full_path.rstrip("?")), 303)
    return None


@blp.after_request
def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"  # personal data and live statuses
    return response


@blp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge) -> Response:
    mb = max(1, hub_state().settings.max_upload_bytes // 1_048_576)
    flash(text("apply_too_large").format(mb=mb), "error")
    return redirect(request.referrer or url_for("apply_pages.my_applications"), 303)


# -- signing in and out
@blp.route("/login", methods=["GET"])
def login() -> Response:
    """Off to the province's identity service; or, in the demo without one, the demo sign-in form."""
    settings = hub_state().settings
    if settings.oidc:
        session[NEXT] = _safe_next()
        return signin.provider().authorize_redirect(signin.callback_url(settings))
    return render("apply_login.html", error=None, id_types=ID_TYPES, form={}, next=_safe_next())


@blp.route("/callback", methods=["GET"])
def signed_in() -> Response:
    """The identity service sends the applicant back: check its ID token and admit whom it names."""
    settings = hub_state().settings
    if not settings.oidc:
        abort(404)
    try:
        token = signin.provider().authorize_access_token()
        applicant = signin.applicant_from(token.get("userinfo") or {}, settings)
    except (OAuthError, ValidationError, ValueError) as error:
        log.warning("applicant sign-in refused", extra={"error": type(error).__name__})
        return render("apply_login.html", 401, error=text("apply_login_failed"), oidc=True, form={}, next=None)
    next_page = session.pop(NEXT, None)
    _admit(applicant, verified=True)
    return redirect(next_page or url_for("apply_pages.choose"), 303)


@blp.route("/login", methods=["POST"])
def sign_in() -> Response:
    """The demo sign-in (HUB_DEMO=1 without an identity service): admit whom the form names."""
    settings = hub_state().settings
    if settings.oidc or not settings.demo:
        abort(404)
    form = {name: request.form.get(name, "").strip() for name in ("id_type", "id", "name")}
    try:
        applicant = HolderSchema().load(form)
    except ValidationError:
        error = text("apply_login_invalid")
        return render("apply_login.html", 422, error=error, id_types=ID_TYPES, form=form, next=_safe_next())
    _admit(applicant, verified=False)
    return redirect(_safe_next() or url_for("apply_pages.choose"), 303)


def _admit(applicant: dict[str, str], verified: bool) -> None:
    """Sign ``applicant`` in: a fresh session under a fresh id, noted among the person's sessions; ``verified``
    when the identity service proved who it is (not the demo's form)."""
    state = hub_state()
    session.clear()
    session_id = session.renew()
    session.permanent = True  # signed in: the session lives HUB_SESSION_TTL (hub.web.sessions)
    session[APPLICANT] = {"id_type": applicant["id_type"], "id": applicant["id"], "name": applicant["name"]}
    session[CSRF] = secrets.token_urlsafe(32)  # a fresh token for the signed-in applicant
    session[VERIFIED] = verified
    subject_hash = state.keyring.subject_hash(applicant["id_type"], applicant["id"])
    sessions.remember_person(state.store, subject_hash, session_id, state.settings.session_ttl)


def _safe_next() -> str | None:
    """Where to go after signing in: a path of these pages only, never another site."""
    target = request.values.get("next") or ""
    if any(character in target for character in "\r\n\\") or not target.isprintable():
        return None  # a header split or a backslash some browsers read as '/': never a place to send anyone
    return target if target.startswith("/apply") and not target.startswith("/apply/login") else None


@blp.route("/logout", methods=["POST"])
def sign_out() -> Response:
    """Forget the applicant and their applications: the session is deleted on the server, so a copy of its
    cookie opens nothing."""
    session.clear()
    session.renew()
    flash(text("apply_signed_out"), "ok")
    return redirect(url_for("apply_pages.login"), 303)


# -- choosing and applying
@blp.route("", methods=["GET"])
def choose() -> Response:
    """The service items that can be applied for online, each with a link to its guide."""
    if request.args.get("service_item"):  # the guide's "apply online" link
        return redirect(url_for("apply_pages.service", code=request.args["service_item"]), 303)
    listing = service_items.list_service_items(hub_state().store, ITEMS_SHOWN, None)
    online = [item for item in listing["items"] if item.get("online") and not item.get("in_person_required")]
    return render("apply_choose.html", items=online)


@blp.route("/services/<code>", methods=["GET"])
def service(code: str) -> Response:
    """One item's guide at a glance and the application form."""
    return _service_page(code, None, 200, {})


def _service_page(code: str, error: str | None, status: int, answers: dict[str, Any]) -> Response:
    item_guide = guide.build_guide(hub_state().store, code, None, None)
    return render(
        "apply_service.html", status, guide=item_guide, fields=_form_fields(item_guide), error=error, answers=answers
    )


def _form_fields(item_guide: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The answers the item's licence needs (the lead agency issues it from the form), and those the platform
    checks against shared data (Art. 9), each saying against what."""
    fields: dict[str, dict[str, Any]] = {}
    if item_guide["produces"]:
        fields = dict(types.get_licence_type(hub_state().store, item_guide["produces"]["code"])["fields"])
    for check in item_guide.get("form_checks") or []:
        field = fields.get(check["form_field"], {"type": "string"})
        fields[check["form_field"]] = field | {"checked": f"{check['material_name']} · {check['field']}"}
    return fields


@blp.route("/services/<code>", methods=["POST"])
def submit(code: str) -> Response:
    """Apply: the platform searches first, and the page shows what it found and what is still missing."""
    item_guide = guide.build_guide(hub_state().store, code, None, None)
    fields = _form_fields(item_guide)
    answers = {name: request.form.get(f"form.{name}", "").strip() for name in fields}
    applicant = signed_in_applicant()
    body = {"service_item": code, "applicant": applicant, "channel": CHANNEL, "form": _typed(fields, answers)}
    try:
        record = applications.submit(hub_state(), acting(), portal(), body, current_language())
    except HubError as error:
        return _service_page(code, plain_words(error), error.status, answers)
    return redirect(url_for("apply_pages.application", application_id=record["id"]), 303)


def _typed(fields: dict[str, dict[str, Any]], answers: dict[str, str]) -> dict[str, Any]:
    """Form answers as the licence type declares them; what cannot be read is left for the service to refuse."""
    typed: dict[str, Any] = {}
    for name, value in answers.items():
        kind = fields[name].get("type")
        if kind == "boolean":
            typed[name] = value in ("1", "on", "true")
        elif not value:
            continue
        elif kind == "number":
            try:
                typed[name] = int(value) if value.lstrip("-").isdigit() else float(value)
            except ValueError:
                typed[name] = value
        else:
            typed[name] = value
    return typed


# -- my applications
def owned(application_id: str) -> dict[str, Any]:
    """The application if the signed-in applicant made it; 404 for anything else, so ids reveal nothing."""
    state, applicant = hub_state(), signed_in_applicant()
    try:
        record = applications.get(state, application_id)
    except NotFound:
        abort(404)
    mine = state.keyring.subject_hash(applicant["id_type"], applicant["id"])
    if not any(hmac.compare_digest(party, mine) for party in Case.from_record(record).parties):
        abort(404)  # the applicant's, or the representative's: a party's own case
    return record


@blp.route("/applications", methods=["GET"])
def my_applications() -> Response:
    """Every case the signed-in person is a party to, whatever channel filed it, and the licences they hold."""
    state, person = hub_state(), signed_in_applicant() or {}
    subject_hash = state.keyring.subject_hash(person["id_type"], person["id"])
    records = applications.of_person(state, subject_hash, MY_CASES)
    held = access.held_by_subject(state, subject_hash)
    return render("apply_list.html", records=records, licences=held)


@blp.route("/applications/<application_id>", methods=["GET"])
def application(application_id: str) -> Response:
    """One application: what the platform found, what is missing, uploads, status, deadline, timeline."""
    return _application_page(owned(application_id), None, 200)


def _application_page(record: dict[str, Any], error: str | None, status: int) -> Response:
    deadline = date.fromisoformat(record["deadline"]) if record.get("deadline") else None
    days_left = hub_state().calendars.remaining(hub_state().today(), deadline) if deadline else None
    missing = [m for m in record["materials"] if m["code"] in record["notice"]["missing"]]
    sources = {m["source"]["agency"] for m in record["materials"] if m.get("source")}
    actors = {line["by"].removeprefix("agency:").split("/", 1)[0] for line in record["timeline"] if line.get("by")}
    sources |= {code for code in actors if ":" not in code}
    licence = licences.get_record(hub_state(), record["licence"]) if record.get("licence") else None
    return render(
        "apply_application.html",
        status,
        record=record,
        licence=licences.public_view(licence) if licence else None,
        licence_has_ofd=bool(licence and licence.get("ofd_sha256")),
        missing=missing,
        error=error,
        days_left=days_left,
        agency_names=agency_names(sources | {record["agency"]}),
    )


@blp.route("/applications/<application_id>/materials", methods=["POST"])
def upload(application_id: str) -> Response:
    """Upload one missing material; errors are told on the application's page."""
    record = owned(application_id)
    code = request.form.get("material", "")
    upload_file = request.files.get("file")
    if upload_file is None or not upload_file.filename:
        return _application_page(record, text("apply_no_file"), 400)
    try:
        applications.add_material(
            hub_state(), acting(), portal(), application_id, code, upload_file.stream, current_language()
        )
    except HubError as error:
        return _application_page(owned(application_id), plain_words(error), error.status)
    flash(text("apply_uploaded"), "ok")
    return redirect(url_for("apply_pages.application", application_id=application_id), 303)


@blp.route("/licences/<number>.pdf", methods=["GET"])
def licence_pdf(number: str) -> Response:
    """The sealed licence PDF, only for its holder."""
    return _licence_file(number, access.pdf_for_reader, "application/pdf", "pdf")


@blp.route("/licences/<number>.ofd", methods=["GET"])
def licence_ofd(number: str) -> Response:
    """The sealed licence OFD, only for its holder, when its type issues one."""
    return _licence_file(number, access.ofd_for_reader, "application/ofd", "ofd")


def _licence_file(number: str, read: Any, mimetype: str, suffix: str) -> Response:
    applicant = signed_in_applicant()
    holder = Subject(applicant["id_type"], applicant["id"])
    try:  # the pages act as their portal for the signed-in holder; anyone else's licence is not there
        record, content = read(hub_state(), number, portal(), frozenset({"portal"}), holder)
    except (NotFound, Forbidden):
        abort(404)
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{record["number"]}.{suffix}"'
    return response


# -- who read my data
@blp.route("/access-log", methods=["GET"])
def reads() -> Response:
    """Who read what about the signed-in applicant, newest first."""
    applicant = signed_in_applicant()
    cursor = request.args.get("cursor")
    try:
        listing = access_log.page(hub_state(), applicant["id_type"], applicant["id"], ACCESS_LOG_PAGE, cursor)
    except (Invalid, ValueError):  # a hand-edited cursor: start from the top rather than fail the page
        listing = access_log.page(hub_state(), applicant["id_type"], applicant["id"], ACCESS_LOG_PAGE, None)
    names = agency_names({entry["agency"] for entry in listing["items"]})
    return render("apply_access_log.html", listing=listing, agency_names=names)
