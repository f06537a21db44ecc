"""What a request under an ``Idempotency-Key`` created, remembered in the transaction that created it.

:mod:`hub.http.idempotency` keeps a request's answer once the request has answered. A worker killed
after its service committed but before the answer was kept leaves the work done and no answer: a
retry of the same key would do the work a second time (a second licence, a second case). So a
creating service notes the id of what it made, under the request's key, in the very transaction
that makes it, and a retry finds that note and answers with the thing made, creating nothing.

The note lives in the created thing's partition, so it shares the transaction's Redis Cluster slot.
"""

from __future__ import annotations

from hub.context import Context, RequestKey
from hub.store.client import Store, Tx
from hub.store.keys import idempotent_outcome


def _key(request_key: RequestKey, partition: str) -> str:
    return idempotent_outcome(partition, request_key.actor, request_key.key)


def _matching(request_key: RequestKey, note: dict[str, str] | None) -> str | None:
    # A note from an earlier use of the key for another request (its answer expired since) is no retry of this one.
    return note["id"] if note is not None and note.get("fingerprint") == request_key.fingerprint else None


def earlier(store: Store, ctx: Context, partition: str) -> str | None:
    """The id of what an earlier try of this request created in ``partition``, if one committed."""
    request_key = ctx.request_key
    return None if request_key is None else _matching(request_key, store.get_json(_key(request_key, partition)))


def note(tx: Tx, ctx: Context, partition: str, created_id: str) -> str | None:
    """Within the creating transaction: note ``created_id`` under this request's key. If an earlier try
    committed first, return its id instead: the caller then writes nothing and answers with that."""
    request_key = ctx.request_key
    if request_key is None:
        return None
    key = _key(request_key, partition)
    found = _matching(request_key, tx.get_json(key))
    if found is None:
        tx.set_json(key, {"id": created_id, "fingerprint": request_key.fingerprint}, request_key.ttl_seconds)
    return found
