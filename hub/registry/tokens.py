"""Bearer tokens: issued once, stored only as SHA-256 hashes, bound to an agency or the operator; listed
and revoked, every change audited. Requests are authenticated by :mod:`hub.http.authn`."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from hub.audit import log as audit
from hub.context import Context, now, rfc3339
from hub.errors import Conflict, Invalid, NotFound
from hub.http.authn import hash_token
from hub.store import keys, outcomes
from hub.store.client import Store, Tx

ROLES = ("operator", "agency", "portal")
AGENCY_ROLES = frozenset({"agency", "portal"})
TOKEN_PREFIX = "hub_"  # noqa: S105 - a prefix, not a secret


def _check_roles(agency: str | None, roles: list[str]) -> frozenset[str]:
    wanted = frozenset(roles)
    if not wanted:
        raise Invalid("A token needs at least one role.", errors={"roles": ["Give at least one role."]})
    if agency is None and wanted != {"operator"}:
        raise Invalid("Operator tokens carry the operator role only.", errors={"roles": ["Only 'operator'."]})
    if agency is not None and not wanted <= AGENCY_ROLES:
        bad = ", ".join(sorted(wanted - AGENCY_ROLES))
        raise Invalid(
            f"An agency token may carry 'agency' and 'portal' only, not {bad}.",
            errors={"roles": [f"Not allowed for an agency: {bad}."]},
        )
    return wanted


def _write_token(
    tx: Tx, ctx: Context, secret: str, agency: str | None, roles: frozenset[str], token_id: str | None = None
) -> dict[str, Any]:
    record = {
        "id": token_id or uuid.uuid4().hex[:16],
        "agency": agency,
        "roles": sorted(roles),
        "created_at": rfc3339(now()),
        "created_by": ctx.actor,
    }
    token_hash = hash_token(secret)
    tx.set_json(keys.token(token_hash), record)
    tx.hash_set(keys.tokens_of(agency), record["id"], token_hash)
    audit.append(
        tx, keys.REGISTRY, ctx, "token.create", f"token:{record['id']}", {"agency": agency, "roles": record["roles"]}
    )
    return record


def create_token(store: Store, ctx: Context, agency: str | None, roles: list[str]) -> dict[str, Any]:
    """Issue a new token for ``agency`` (None: the operator); the answer holds the secret once.

    A retry of a request whose token committed before its worker died answers with that token, without
    its secret (as a replay does: the hub never kept it), and makes no second one."""
    wanted = _check_roles(agency, roles)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = uuid.uuid4().hex[:16]

    def work(tx: Tx) -> dict[str, Any]:
        if agency is not None and not tx.exists(keys.agency(agency)):
            raise NotFound(f"No agency with code {agency!r}.")
        made_before = outcomes.note(tx, ctx, keys.REGISTRY, token_id)
        if made_before is not None:
            return _made_before(tx, agency, made_before)
        return _write_token(tx, ctx, secret, agency, wanted, token_id) | {"token": secret}

    return store.atomic(work)


def _made_before(tx: Tx, agency: str | None, token_id: str) -> dict[str, Any]:
    token_hash = tx.hash_get(keys.tokens_of(agency), token_id)
    record = None if token_hash is None else tx.get_json(keys.token(token_hash))
    if record is None:
        raise Conflict(f"The token this request made, {token_id!r}, has been revoked since.")
    return record


def ensure_operator_token(store: Store, secret: str) -> bool:
    """Make ``secret`` a valid operator token (HUB_ADMIN_TOKEN); True if it was new."""
    if len(secret) < 16:
        raise Invalid("HUB_ADMIN_TOKEN must be at least 16 characters.")

    def work(tx: Tx) -> bool:
        if tx.exists(keys.token(hash_token(secret))):
            return False
        _write_token(tx, Context.system("admin-token"), secret, None, frozenset({"operator"}))
        return True

    return store.atomic(work)


def list_tokens(store: Store, agency: str | None) -> list[dict[str, Any]]:
    """Every token of one owner, without secrets."""
    by_id = store.hash_get_all(keys.tokens_of(agency))
    records = store.get_many_json([keys.token(h) for h in by_id.values()])
    return sorted((r for r in records if r), key=lambda r: r["created_at"])


def revoke_token(store: Store, ctx: Context, agency: str | None, token_id: str) -> None:
    """Revoke one token of ``agency`` (None: the operator)."""
    owner = f"agency {agency!r}" if agency else "the operator"

    def work(tx: Tx) -> None:
        token_hash = tx.hash_get(keys.tokens_of(agency), token_id)
        if token_hash is None:
            raise NotFound(f"No token {token_id!r} of {owner}.")
        tx.delete(keys.token(token_hash))
        tx.hash_delete(keys.tokens_of(agency), token_id)
        audit.append(tx, keys.REGISTRY, ctx, "token.revoke", f"token:{token_id}", {"agency": agency})

    store.atomic(work)
