"""The plumbing every registry aggregate shares: stamping, writing with audit, reading, listing."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from hub.audit import log as audit
from hub.context import Context, now, rfc3339
from hub.errors import Conflict, NotFound
from hub.http.paging import decode_cursor, page
from hub.store import keys
from hub.store.client import Store, Tx


def stamped(data: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """``data`` with the time and actor of its creation."""
    return {**data, "created_at": rfc3339(now()), "created_by": ctx.actor}


def content_of(record: dict[str, Any]) -> dict[str, Any]:
    """A record without the fields the hub stamps, to compare two versions of it."""
    return {k: v for k, v in record.items() if k not in {"created_at", "created_by", "version"}}


def folded(code: str, kind: str = "") -> str:
    """What two codes must not share: the code case-folded; for a licence type, only its letters and digits,
    upper-cased, since its licences' numbers are compared so (``x-lic``, ``X-LIC`` and ``xlic`` are one)."""
    if kind == "licence-type":
        return re.sub(r"[^0-9A-Za-z]", "", code).upper()
    return code.casefold()


def claim_code(tx: Tx, kind: str, index: str, code: str) -> None:
    """Conflict if ``index`` holds another code that differs from ``code`` only in case (registry codes are
    unique whatever their case); else note ``code`` for the rest of this transaction."""
    taken = tx.scratch.get("codes:" + index)
    if taken is None:  # read once per transaction: a catalogue import claims many codes of a kind
        taken = {folded(member, kind): member for member in tx.index_members(index)}
        tx.scratch["codes:" + index] = taken
    holder = taken.get(folded(code, kind))
    if holder is not None and holder != code:
        raise Conflict(
            f"The {kind.replace('-', ' ')} {code!r} would be {holder!r}, which exists already: codes are unique "
            "whatever their case.",
            errors={"code": [f"Taken by {holder!r}."]},
        )
    taken[folded(code, kind)] = code


def put(
    tx: Tx,
    ctx: Context,
    kind: str,
    key: str,
    index: str,
    code: str,
    record: dict[str, Any],
    replace: bool,
    audit_detail: dict[str, Any] | None = None,
) -> str:
    """Write one record with its audit entry; return 'created', 'updated' or 'unchanged'.

    Without ``replace``, an existing record with that code is a Conflict.
    """
    existing = tx.get_json(key)
    if existing is None:
        claim_code(tx, kind, index, code)
    if existing is not None:
        if not replace:
            raise Conflict(f"The {kind.replace('-', ' ')} {code!r} exists already.")
        if content_of(existing) == content_of(record):
            return "unchanged"
    tx.set_json(key, record)
    tx.index_add(index, code)
    action = "updated" if existing is not None else "created"
    audit.append(
        tx,
        keys.REGISTRY,
        ctx,
        f"{kind}.{'update' if existing else 'create'}",
        f"{kind}:{code}",
        content_of(audit_detail or record),
    )
    return action


def create(store: Store, put_one: Callable[[Tx], Any], key: str) -> dict[str, Any]:
    """Run one ``put`` and answer with the record exactly as that transaction wrote it."""

    def work(tx: Tx) -> dict[str, Any]:
        put_one(tx)
        return tx.get_json(key)  # reads see the transaction's own queued writes

    return store.atomic(work)


def get(store: Store, kind: str, key: str, code: str) -> dict[str, Any]:
    """One record, or NotFound."""
    record = store.get_json(key)
    if record is None:
        raise NotFound(f"No {kind} with code {code!r}.")
    return record


def listing(store: Store, index: str, key_of: Callable[[str], str], limit: int, cursor: str | None) -> dict:
    """A page of records from a lexicographic index of codes."""
    codes = store.index_page(index, decode_cursor(cursor), limit + 1)
    records = store.get_many_json([key_of(code) for code in codes])
    return page([r for r in records if r is not None], limit, lambda r: r.get("code") or r["id"])
