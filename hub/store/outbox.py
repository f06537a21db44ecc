"""Each partition's outbox: what happened to its cases or licences, for subscribers (issue 19).

An event is written in the very transaction that makes it happen, so a subscriber hears of every change that
committed and of nothing that did not. :mod:`hub.ops.notifications` reads the outboxes and delivers.
Each event carries ``audience`` (who may hear of it: the agencies and the portal of a case, a licence's
issuer), which never leaves the hub, and ``body``, what subscribers receive.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from hub.store.client import Store, Tx
from hub.store.keys import key


def outbox(partition: str) -> str:
    return key(partition, "outbox")


def record(tx: Tx, partition: str, at: str, kind: str, body: dict[str, Any], audience: dict[str, Any]) -> None:
    """Queue one event in ``tx``."""
    event = {"id": uuid.uuid4().hex, "type": kind, "at": at, **body}
    tx.stream_add(outbox(partition), {"event": json.dumps(event, ensure_ascii=False), "audience": json.dumps(audience)})


Event = tuple[str, dict[str, Any], dict[str, Any]]  # (stream id, the event, its audience)


def read(store: Store, partition: str, after: str | None, limit: int) -> list[Event]:
    """Events after stream id ``after``, oldest first: (stream id, event, audience)."""
    return [
        (entry_id, json.loads(fields["event"]), json.loads(fields["audience"]))
        for entry_id, fields in store.stream_after(outbox(partition), after, limit)
    ]
