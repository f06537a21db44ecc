"""What a request under an ``Idempotency-Key`` created, remembered in the transaction that created it.

:mod:`hub.idempotency` keeps a request's answer once the request has answered. A worker killed
after its service committed but before the answer was kept leaves the work done and no answer: a
retry of the same key would do the work a second time (a second licence, a second case). So a
creating service notes the id of what it made, under the request's key, in the very transaction
that makes it, and a retry finds that note and answers with the thing made, creating nothing.

The note lives in the created thing's partition, so it shares the transaction's Redis Cluster slot.
"""

from __future__ import annotations

from .context import Context
from .keys import idempotent_outcome
from .store import Store, Tx


def _key(ctx: Context, partition: str) -> str | None:
    request_key = ctx.request_key
    return None if request_key is None else idempotent_outcome(partition, request_key.actor, request_key.key)


def _matching(ctx: Context, note: dict[str, str] | None) -> str | None:
    # A note from an earlier use of the key for another request (its answer expired since) is no retry of this one.
    if note is None or ctx.request_key is None or note.get("fingerprint") != ctx.request_key.fingerprint:
        return None
    return note["id"]


def earlier(store: Store, ctx: Context, partition: str) -> str | None:
    """The id of what an earlier try of this request created in ``partition``, if one committed."""
    key = _key(ctx, partition)
    return None if key is None else _matching(ctx, store.get_json(key))


def note(tx: Tx, ctx: Context, partition: str, created_id: str) -> str | None:
    """Within the creating transaction: note ``created_id`` under this request's key. If an earlier try
    committed first, return its id instead: the caller then writes nothing and answers with that."""
    key = _key(ctx, partition)
    if key is None:
        return None
    found = _matching(ctx, tx.get_json(key))
    if found is None:
        assert ctx.request_key is not None  # for the type checker: _key gave a key
        tx.set_json(key, {"id": created_id, "fingerprint": ctx.request_key.fingerprint}, ctx.request_key.ttl_seconds)
    return found
