"""Collecting blobs no record names (issue 16): uploads of cases since disposed of, packages of a filing
that lost a race, files stored by a request that then failed.

Two passes, so that a blob stored a moment before the record that names it is committed is never
taken: a collection notes each blob nothing names (with the time), and a later one deletes those
still named by nothing once they have been so for ``grace_seconds``. A blob named again, or stored
again, stops being a candidate.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.ops import integrity
from hub.store import keys
from hub.store.client import Store, Tx

PAGE = 1000


@dataclass
class Collection:
    """What one collection did."""

    blobs: int = 0
    noted: int = 0
    collected: int = 0
    named_again: int = 0
    leftovers: int = 0  # temporary files of writes a crash cut short


def _candidates(store: Store) -> dict[str, float]:
    found: dict[str, float] = {}
    while rows := store.scored_up_to(keys.unreferenced_blobs(), float("inf"), len(found), PAGE):
        found.update(rows)
        if len(rows) < PAGE:
            break
    return found


def collect(store: Store, now_s: float, grace_seconds: float) -> Collection:
    """Note the blobs nothing names, and delete those nothing has named for ``grace_seconds``."""
    named = integrity.referenced_blobs(store)
    candidates = _candidates(store)
    result = Collection()
    noted: list[str] = []
    cleared: list[str] = [key for key in candidates if key in named]
    for name in set(store.document_names()):
        result.blobs += 1
        if name in named:
            continue
        since = candidates.get(name)
        if since is None:
            noted.append(name)
        elif now_s - since >= grace_seconds:
            store.delete_document(name)
            cleared.append(name)
            result.collected += 1

    def work(tx: Tx) -> None:
        for name in noted:
            tx.scored_add(keys.unreferenced_blobs(), name, now_s)
        for name in cleared:
            tx.scored_remove(keys.unreferenced_blobs(), name)

    store.atomic(work)
    result.noted, result.named_again = len(noted), len(cleared) - result.collected
    result.leftovers = store.blobs.collect_leftovers(grace_seconds)
    return result
