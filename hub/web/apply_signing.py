"""The applicant signs the application form, and reads the case's documents (Art. 6, 11), on the /apply pages.

Only an applicant whom the province's identity service signed in may sign (the demo's form proves nobody):
the page shows what is signed, the applicant confirms it in so many words, and the hub signs for them
(:mod:`hub.intake.signed_form`). The case's documents (the notices it was given, the signed form) are the
applicant's to open here.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, request, session, url_for

from hub.errors import HubError
from hub.http.current import hub_state
from hub.intake import disclosure, signed_form
from hub.web.apply import VERIFIED, acting, guard, no_store, owned, portal, render, signed_in_applicant, text
from hub.web.words import plain_words

blp = Blueprint("apply_signing", __name__, url_prefix="/apply")
blp.before_request(guard)  # the same sign-in and CSRF rules as the rest of /apply
blp.after_request(no_store)


@blp.route("/applications/<application_id>/sign", methods=["GET"])
def sign_form(application_id: str) -> Response:
    """What the applicant is about to sign, and the confirmation."""
    return render("apply_sign.html", record=owned(application_id), verified=bool(session.get(VERIFIED)), error=None)


@blp.route("/applications/<application_id>/sign", methods=["POST"])
def sign(application_id: str) -> Response:
    """Sign the form for the signed-in applicant, once they confirmed it."""
    record = owned(application_id)
    if not session.get(VERIFIED):
        return render("apply_sign.html", 403, record=record, verified=False, error=text("apply_sign_unverified"))
    if request.form.get("confirm") != "yes":
        return render("apply_sign.html", 422, record=record, verified=True, error=text("apply_sign_confirm_needed"))
    try:
        signed_form.sign(hub_state(), acting(), application_id, signed_in_applicant() or {})
    except HubError as error:
        return render("apply_sign.html", error.status, record=record, verified=True, error=plain_words(error))
    flash(text("apply_signed"), "ok")
    return redirect(url_for("apply_pages.application", application_id=application_id), 303)


@blp.route("/applications/<application_id>/documents/<reference>", methods=["GET"])
def document(application_id: str, reference: str) -> Response:
    """One of the case's documents (a notice it was given, the signed form)."""
    record = owned(application_id)
    try:
        found, content = disclosure.decision_document(hub_state(), record, portal(), frozenset({"portal"}), reference)
    except HubError:
        abort(404)
    response = Response(content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{found["reference"]}.pdf"'
    return response
