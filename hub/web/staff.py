"""Staff sign-in, shared by the operator console and the agency desk.

A staff member signs in with a token of the area's role. The session (kept on the server,
:mod:`hub.web.sessions`) holds only the token's hash and id, never the secret, and a CSRF token;
the token is looked up again on every request, so revoking it ends the session at once, and
signing out deletes the session everywhere. An area that admits agency staff may also let them sign
in through the province's identity service (OpenID Connect, :mod:`hub.web.signin`): the ID token's
``HUB_OIDC_AGENCY_CLAIM`` names the member's agency, which must be registered, and is checked again
on every request. Every POST form carries the CSRF token, and no page is cached.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from authlib.integrations.base_client import OAuthError
from flask import Blueprint, Response, abort, flash, g, redirect, request, session, url_for

from hub.context import Context, Principal
from hub.errors import NotFound, Unauthorized
from hub.http import authn
from hub.http.current import hub_state
from hub.registry import agencies
from hub.store.client import Store
from hub.web import signin
from hub.web.i18n import current_language, translator
from hub.web.pages import render_page

CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class StaffArea:
    """One signed-in area: its blueprint's name, the role its tokens carry, and the names of its texts."""

    name: str  # the blueprint, and the prefix of its session keys and page texts
    role: str
    signed_in_key: str  # the session key of the signed-in token's hash and id
    home: str  # the endpoint a sign-in leads to
    wrong_role: str  # the text for a token without the role
    identity_service: bool = False  # staff may sign in through the province's identity service too

    @property
    def staff_key(self) -> str:
        return f"{self.name}_staff"

    @property
    def csrf_key(self) -> str:
        return f"{self.name}_csrf"

    def install(self, blp: Blueprint) -> None:
        """The guard, the no-store header and the sign-in, sign-out routes on ``blp``."""
        blp.before_request(self.guard)
        blp.after_request(_no_store)
        blp.add_url_rule("/login", "login", self.login_form, methods=["GET"])
        blp.add_url_rule("/login", "sign_in", self.sign_in, methods=["POST"])
        blp.add_url_rule("/logout", "sign_out", self.sign_out, methods=["POST"])
        if self.identity_service:
            blp.add_url_rule("/login/identity-service", "oidc_login", self.oidc_login, methods=["GET"])
            blp.add_url_rule("/callback", "oidc_callback", self.oidc_callback, methods=["GET"])

    def csrf_token(self) -> str:
        """This session's CSRF token, made on first use."""
        if self.csrf_key not in session:
            session[self.csrf_key] = secrets.token_urlsafe(32)
        return session[self.csrf_key]

    def principal_for(self, store: Store, token_hash: str, token_id: str) -> Principal | None:
        """Who a stored token hash is, or None once it is revoked or lacks the area's role."""
        principal = authn.principal_for_hash(store, token_hash)
        if principal is None or principal.token_id != token_id or self.role not in principal.roles:
            return None
        return principal

    def guard(self) -> Response | None:
        if request.method == "POST":
            expected, given = session.get(self.csrf_key), request.form.get(CSRF_FIELD, "")
            if not expected or not hmac.compare_digest(expected.encode(), given.encode()):
                abort(400, description=translator(current_language())("console_csrf"))
        if request.endpoint in {f"{self.name}.{view}" for view in ("login", "sign_in", "oidc_login", "oidc_callback")}:
            return None
        signed_in = session.get(self.signed_in_key) or {}
        token_hash, token_id = signed_in.get("token_hash", ""), signed_in.get("token_id", "")
        principal = self.principal_for(hub_state().store, token_hash, token_id) or self._staff_member()
        if principal is None:
            session.pop(self.signed_in_key, None)
            return redirect(url_for(f"{self.name}.login"), 303)
        g.principal = principal
        return None

    def _staff_member(self) -> Principal | None:
        """Whom the identity service signed in, while their agency is registered."""
        staff = session.get(self.staff_key)
        if not staff or self.role != "agency":
            return None
        try:
            agencies.get_agency(hub_state().store, staff["agency"])
        except NotFound:
            return None
        return Principal(token_id=f"staff-{staff['member']}", roles=frozenset({"agency"}), agency=staff["agency"])

    def oidc_login(self) -> Response:
        """Off to the province's identity service."""
        settings = hub_state().settings
        if not settings.oidc:
            abort(404)
        return signin.provider().authorize_redirect(settings.base_url + url_for(f"{self.name}.oidc_callback"))

    def oidc_callback(self) -> Response:
        """The identity service sends the member of staff back: admit them if their agency is registered."""
        settings, words = hub_state().settings, translator(current_language())
        if not settings.oidc:
            abort(404)
        try:
            claims = signin.provider().authorize_access_token().get("userinfo") or {}
        except OAuthError:
            return self._login_page(words("console_bad_token"), 401)
        agency = str(claims.get(settings.oidc_agency_claim) or "")
        try:
            agencies.get_agency(hub_state().store, agency)
        except NotFound:
            return self._login_page(words(self.wrong_role), 403)
        session.clear()
        session.renew()
        session.permanent = True
        member = hashlib.sha256(f"{settings.oidc_issuer}|{claims.get('sub', '')}".encode()).hexdigest()[:16]
        session[self.staff_key] = {"agency": agency, "member": member}
        self.csrf_token()
        return redirect(url_for(self.home), 303)

    def login_form(self) -> Response:
        """The sign-in form."""
        return self._login_page(None, 200)

    def sign_in(self) -> Response:
        """Admit a token of the area's role: keep its hash and id in the session, never the secret."""
        text = translator(current_language())
        secret = request.form.get("token", "").strip()
        try:
            principal = authn.authenticate(hub_state().store, "Bearer " + secret)
        except Unauthorized:
            return self._login_page(text("console_bad_token"), 401)
        if self.role not in principal.roles:
            return self._login_page(text(self.wrong_role), 403)
        session.clear()  # a fresh session under a fresh id, and a fresh CSRF token, for the one signed in
        session.renew()
        session.permanent = True  # signed in: the session lives HUB_SESSION_TTL (hub.web.sessions)
        session[self.signed_in_key] = {"token_hash": authn.hash_token(secret), "token_id": principal.token_id}
        self.csrf_token()
        return redirect(url_for(self.home), 303)

    def sign_out(self) -> Response:
        """Forget whoever was signed in: the session's record is deleted, so a copy of its cookie opens nothing."""
        session.clear()
        session.renew()
        flash(translator(current_language())("console_signed_out"), "ok")
        return redirect(url_for(f"{self.name}.login"), 303)

    def _login_page(self, error: str | None, status: int) -> Response:
        identity_service = self.identity_service and hub_state().settings.oidc
        response = render_page(
            "staff_login.html", area=self.name, csrf=self.csrf_token(), error=error, identity_service=identity_service
        )
        response.status_code = status
        return response


def acting() -> Context:
    """Who acts in this request: the signed-in staff member."""
    return Context(actor=g.principal.actor, request_id=g.request_id)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"  # staff pages show cases, configuration and audit data
    return response
