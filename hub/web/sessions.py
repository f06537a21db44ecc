"""Sessions kept on the server: the cookie holds only a random id, the store holds the rest (sealed).

Signing out deletes the record, so a copied cookie stops working everywhere at once; a session
also ends ``HUB_SESSION_TTL`` seconds after its last change. Signing in gives a fresh id (no
fixation). An applicant's sessions are indexed by their subject hash, so the operator can end them
all (``DELETE /api/v1/sessions``). The cookie is HttpOnly and SameSite=Lax: Lax, not Strict,
because the identity service sends the applicant back to the hub by a cross-site redirect.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Request, Response, request
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from hub.store import keys
from hub.store.client import Store, Tx

COOKIE = "hub_session"
ANONYMOUS_TTL_SECONDS = 900  # a session nobody signed in to (a form's CSRF token, a sign-in under way)
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)


class ServerSession(CallbackDict, SessionMixin):
    """A session's values, the id they are kept under, and whether they changed."""

    def __init__(self, initial: dict[str, Any] | None = None, session_id: str | None = None) -> None:
        def changed(_: Any) -> None:
            self.modified = True

        super().__init__(initial, changed)
        self.session_id = session_id
        self.replaced: str | None = None  # the id this session had before renew()
        self.modified = False

    def renew(self) -> str:
        """A fresh id for this session (on signing in), the old record dropped when it is saved; the new id."""
        if self.session_id is not None and self.replaced is None:
            self.replaced = self.session_id
        self.session_id = secrets.token_urlsafe(32)
        self.modified = True
        return self.session_id


class ServerSessionInterface(SessionInterface):
    """Flask's session, kept in the hub's store."""

    def __init__(self, store: Callable[[], Store], ttl_seconds: int) -> None:
        self._store = store
        self._ttl = ttl_seconds

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        session_id = request.cookies.get(COOKIE, "")
        if SESSION_ID.match(session_id):
            kept = self._store().get_json(keys.web_session(session_id))
            if kept is not None:
                return ServerSession(kept, session_id)
        return ServerSession()

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not isinstance(session, ServerSession):
            raise TypeError("a session this interface did not open")
        if not session.modified:
            return
        store = self._store()
        for gone in (session.replaced, None if session else session.session_id):
            if gone is not None:
                store.delete(keys.web_session(gone))
        if not session:
            if session.session_id is not None:
                response.delete_cookie(COOKIE, path="/")
            return
        session_id = session.session_id or session.renew()
        # Only a signed-in session (marked permanent at sign-in) lives HUB_SESSION_TTL; a stranger's form
        # visit keeps a few bytes for minutes, so a flood of visits cannot fill the store for hours.
        ttl = self._ttl if session.permanent else min(self._ttl, ANONYMOUS_TTL_SECONDS)
        store.set_json(keys.web_session(session_id), dict(session), ttl)
        response.set_cookie(
            COOKIE, session_id, httponly=True, samesite="Lax", secure=self.get_cookie_secure(app), path="/"
        )
        response.vary.add("Cookie")

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure


def remember_person(store: Store, subject_hash: str, session_id: str, ttl_seconds: int) -> None:
    """Note that ``session_id`` is one of this person's, so that their sessions can all be ended."""

    def work(tx: Tx) -> None:
        tx.scored_add(keys.sessions_of(subject_hash), session_id, time.time() + ttl_seconds)

    store.atomic(work)


def end_sessions_of(store: Store, subject_hash: str) -> int:
    """End every session of one person; how many were still open."""
    index = keys.sessions_of(subject_hash)
    ended = 0
    while members := [session_id for session_id, _ in store.scored_newest(index, None, 500)]:
        for session_id in members:
            if store.get_json(keys.web_session(session_id)) is not None:
                ended += 1
            store.delete(keys.web_session(session_id))

        def forget(tx: Tx, done: list[str] = members) -> None:
            for session_id in done:
                tx.scored_remove(index, session_id)

        store.atomic(forget)
    return ended
