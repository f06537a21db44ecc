"""Which person a portal acts for, proven (issue 19): a portal reads one person's cases or access log only with
that person's proof, the ID token the province's identity service issued when the person signed in to the
portal, in the ``Applicant-Token`` header (or, with ``HUB_DEMO=1`` only, the demo's assertion
``demo <id_type>:<id>``).

The ID token is checked as a relying party would: its signature against the identity service's published
keys (fetched from its discovery document, kept ``KEYS_TTL_S``), its issuer, its audience (the hub's
client id or a portal's, ``HUB_OIDC_PORTAL_AUDIENCES``) and its expiry; the person is what its
``HUB_OIDC_ID_CLAIM`` and ``HUB_OIDC_ID_TYPE_CLAIM`` say.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import requests
from flask import request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from hub.config import Settings
from hub.errors import Forbidden
from hub.identifiers import canonical_form

HEADER = "Applicant-Token"
KEYS_TTL_S = 300
_keys: dict[str, tuple[float, Any]] = {}
_lock = threading.Lock()


def require_person(settings: Settings, id_type: str, subject_id: str) -> None:
    """Forbidden unless this request proves it acts for the person ``id_type``/``subject_id``."""
    proven = _proven(settings, request.headers.get(HEADER, "").strip())
    if proven is None or proven[0] != id_type or canonical_form(proven[1]) != canonical_form(subject_id):
        raise Forbidden(
            f"A portal reads a person's cases and access log only with that person's proof: the identity service's "
            f"ID token in the {HEADER} header"
            + (", or the demo's 'demo <id_type>:<id>'" if settings.demo else "")
            + "."
        )


def _proven(settings: Settings, token: str) -> tuple[str, str] | None:
    if settings.demo and token.startswith("demo "):
        id_type, _, subject_id = token.removeprefix("demo ").partition(":")
        return (id_type, subject_id) if subject_id else None
    if not token or not settings.oidc:
        return None
    audiences = [settings.oidc_client_id, *(a.strip() for a in settings.oidc_portal_audiences.split(",") if a.strip())]
    issuer = str(settings.oidc_issuer).rstrip("/")
    try:
        claims = jwt.decode(token, _key_set(settings), algorithms=["RS256", "ES256"]).claims
        jwt.JWTClaimsRegistry(
            leeway=30, iss={"essential": True, "value": issuer}, aud={"essential": True, "values": audiences}
        ).validate(claims)
    except (JoseError, ValueError, KeyError, requests.RequestException):  # unreadable, unsigned, or keys unreachable
        return None
    subject_id = claims.get(settings.oidc_id_claim)
    return (claims.get(settings.oidc_id_type_claim) or "resident-id", str(subject_id)) if subject_id else None


def _key_set(settings: Settings) -> Any:
    """The identity service's signing keys, fetched through its discovery document and kept a while."""
    issuer = str(settings.oidc_issuer).rstrip("/")
    with _lock:
        fetched = _keys.get(issuer)
        if fetched is not None and time.monotonic() - fetched[0] < KEYS_TTL_S:
            return fetched[1]
    discovery = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=5).json()
    key_set = KeySet.import_key_set(requests.get(discovery["jwks_uri"], timeout=5).json())
    with _lock:
        _keys[issuer] = (time.monotonic(), key_set)
    return key_set
