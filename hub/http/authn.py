"""Who is calling: the principal behind a bearer token, looked up by the token's SHA-256.

Tokens are 256-bit random secrets, so a plain SHA-256 is the right hash: there is nothing to
brute-force, and looking a token up costs one GET. Issuing and revoking them is the registry's
(:mod:`hub.registry.tokens`).
"""

from __future__ import annotations

import hashlib

from flask import g, has_request_context

from hub.context import Principal
from hub.errors import Unauthorized
from hub.store import keys
from hub.store.client import Store


def hash_token(secret: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(secret.encode()).hexdigest()


def authenticate(store: Store, authorization: str | None) -> Principal:
    """The principal behind an ``Authorization: Bearer`` header; Unauthorized if none is valid."""
    if not authorization:
        raise Unauthorized("This route needs a bearer token (Authorization: Bearer <token>).")
    scheme, _, secret = authorization.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("Use the Bearer scheme: Authorization: Bearer <token>.")
    principal = principal_for_hash(store, hash_token(secret.strip()))
    if principal is None:
        raise Unauthorized("The bearer token is not valid (unknown or revoked).")
    return principal


def principal_for_hash(store: Store, token_hash: str) -> Principal | None:
    """The principal of a stored token hash, or None if no such token is valid now.

    Looked up once per request: the rate limiter reads the token's record with its count
    (:func:`remember_token`), and the view's authentication finds it here."""
    seen = g.setdefault("principals_by_hash", {}) if has_request_context() else {}
    if token_hash not in seen:
        seen[token_hash] = _principal(store.get_json(keys.token(token_hash)))
    return seen[token_hash]


def remember_token(token_hash: str, record: dict | None) -> None:
    """Keep, for this request only, a token's record read by another route to the store (None: no such token)."""
    g.setdefault("principals_by_hash", {})[token_hash] = _principal(record)


def token_key(token_hash: str) -> str:
    """Where a token's record is kept, for a caller reading it along with other data."""
    return keys.token(token_hash)


def _principal(record: dict | None) -> Principal | None:
    if record is None:
        return None
    return Principal(token_id=record["id"], roles=frozenset(record["roles"]), agency=record["agency"])
