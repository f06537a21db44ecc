"""Licences issued before status lists and kept answers get both, once, after an upgrade (``hub licences
backfill``): an index in their type's status list at their current status, so their credentials carry a
status, and their public answer kept ready, so a look-up of them is one read. Each licence is done in
its own transaction, so it is safe while the hub serves, and a licence that has both is left as it is."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.licences import register, status_lists
from hub.store import keys, status_keys
from hub.store.client import Tx

if TYPE_CHECKING:
    from hub.state import HubState

PAGE = 500


def backfill(state: HubState) -> int:
    """How many licences were given what they lacked."""
    done = 0
    for type_code in state.store.index_page(keys.licence_type_index(), None, 100_000):
        after = None
        while page := state.store.index_page(keys.licence_index(type_code), after, PAGE):
            done += sum(state.store.atomic(lambda tx, t=type_code, k=key: _complete(tx, t, k)) for key in page)
            after = page[-1]
    return done


def _complete(tx: Tx, type_code: str, number_key: str) -> bool:
    record_key = keys.licence(type_code, number_key)
    record = tx.get_json(record_key)
    if record is None:
        return False
    changed = False
    if record.get("status_index") is None:
        record = {**record, "status_index": status_lists.claim(tx, type_code)}
        if record["status"] != register.IN_FORCE:
            status_lists.mark(tx, type_code, record["status_index"], record["status"])
        tx.set_json(record_key, record)
        changed = True
    if changed or not tx.exists(status_keys.licence_answer(type_code, number_key)):
        register.keep_answer(tx, record, register.history_in(tx, record))
        changed = True
    return changed
