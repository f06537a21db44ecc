"""The holder's own licences on the /apply pages: each licence as it is now, its credential (file and QR
code), and the grants that let a bank, a landlord or another agency use it (Art. 12).

The pages are the holder's portal: the signed-in person is the holder, proven by the sign-in; the services
decide (:mod:`hub.licences.access`, :mod:`hub.licences.credentials`, :mod:`hub.licences.grants`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, request, url_for

from certs import qr
from connectors.api import Subject
from hub.errors import Forbidden, HubError, NotFound
from hub.http.current import hub_state
from hub.licences import access, credentials, grants
from hub.licences import register as licences
from hub.registry import types
from hub.web.apply import acting, guard, no_store, portal, render, signed_in_applicant, text
from hub.web.words import plain_words

blp = Blueprint("apply_licences", __name__, url_prefix="/apply")
blp.before_request(guard)  # the same sign-in and CSRF rules as the rest of /apply
blp.after_request(no_store)


def _holder() -> Subject:
    applicant = signed_in_applicant() or {}
    return Subject(applicant["id_type"], applicant["id"])


def _mine(number: str) -> dict[str, Any]:
    """The signed-in holder's licence ``number``; 404 for anyone else's (no hint that it exists)."""
    try:
        return access.record_for_reader(hub_state(), number, portal(), frozenset({"portal"}), _holder())
    except (NotFound, Forbidden):
        abort(404)


def _page(record: dict[str, Any], status: int = 200, error: str | None = None, new_grant: Any = None) -> Response:
    state = hub_state()
    pickup_url = None
    if record["status"] not in credentials.UNUSABLE:
        code = credentials.offer(state, record)
        pickup_url = f"{state.settings.base_url}{url_for('credentials.pick_up_credential', code=code)}"
    licence_fields = types.get_licence_type(state.store, record["type"])["fields"]
    return render(
        "apply_licence.html",
        status,
        licence=record,
        public=licences.public_view(record),
        field_labels={name: spec.get("label") or name for name, spec in licence_fields.items()},
        credential_qr=qr.qr_svg(pickup_url) if pickup_url else None,
        pickup_url=pickup_url,
        has_credential=pickup_url is not None,
        grants=[grant for grant in grants.listing(state, _holder()) if grant["licence"] == record["number"]],
        new_grant=new_grant,
        new_grant_qr=qr.qr_svg(new_grant["code"]) if new_grant else None,
        max_days=grants.MAX_DAYS,
        error=error,
    )


@blp.route("/licences/<number>", methods=["GET"])
def licence(number: str) -> Response:
    """One of my licences: its status and versions, its credential, and who may use it."""
    return _page(_mine(number))


@blp.route("/licences/<number>.sd-jwt", methods=["GET"])
def credential_file(number: str) -> Response:
    """My licence as a verifiable credential (SD-JWT VC), every disclosure attached."""
    record = _mine(number)
    try:
        token = credentials.credential(hub_state(), acting(), record)
    except HubError:
        abort(404)
    response = Response(token, mimetype=credentials.MEDIA_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{record["number"]}.sd-jwt"'
    return response


@blp.route("/licences/<number>/grants", methods=["POST"])
def share(number: str) -> Response:
    """Let a relying party use this licence: the one-time code and its QR code are shown once, here."""
    record = _mine(number)
    chosen = request.form.getlist("fields")
    body = {
        "relying_party": request.form.get("relying_party", "").strip(),
        "purpose": request.form.get("purpose", "").strip(),
        "days": request.form.get("days", "7").strip() or "7",
        "fields": None if request.form.get("scope") != "some" else chosen,
    }
    if not body["purpose"] or not body["relying_party"] or not body["days"].isdigit():
        return _page(record, 422, error=text("apply_share_incomplete"))
    try:
        made = grants.create(hub_state(), acting(), _holder(), number, body)
    except HubError as error:
        return _page(record, error.status, error=plain_words(error))
    return _page(record, 201, new_grant=made)


@blp.route("/grants/<grant_id>/revocation", methods=["POST"])
def revoke(grant_id: str) -> Response:
    """End one of my grants now."""
    try:
        ended = grants.revoke(hub_state(), acting(), _holder(), grant_id)
    except NotFound:
        abort(404)
    flash(text("apply_grant_revoked"), "ok")
    return redirect(url_for("apply_licences.licence", number=ended["licence"]), 303)
