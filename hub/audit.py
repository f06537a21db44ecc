"""The hash-chained audit log.

Each partition (see :mod:`hub.keys`) has its own chain: a Redis stream whose entries carry a
sequence number, the previous entry's hash and their own hash, SHA-256 over a canonical JSON of
every field. The chain's head (last sequence and hash) is kept beside it, and an entry is appended
inside the same transaction as the change it records, so neither exists without the other.
Verification recomputes every chain: a changed, inserted or deleted entry breaks it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from . import keys
from .context import Context, now, rfc3339
from .store import Store, Tx

GENESIS = "0" * 64
ENTRY_FIELDS = ("seq", "at", "actor", "action", "target", "request_id", "detail", "prev")


def entry_hash(fields: dict[str, str]) -> str:
    """SHA-256 over the canonical JSON of an entry's fields (all but its own hash)."""
    canonical = json.dumps({name: fields[name] for name in ENTRY_FIELDS}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def append(tx: Tx, partition: str, ctx: Context, action: str, target: str, detail: Any = None) -> str:
    """Queue an audit entry in ``tx``, chained to the partition's head; return its hash."""
    scratch_key = "audit-head:" + partition
    head = tx.scratch.get(scratch_key)
    if head is None:
        head = tx.get_json(keys.audit_head(partition)) or {"seq": 0, "hash": GENESIS}
    fields = {
        "seq": str(head["seq"] + 1),
        "at": rfc3339(now()),
        "actor": ctx.actor,
        "action": action,
        "target": target,
        "request_id": ctx.request_id,
        "detail": json.dumps(detail, sort_keys=True, ensure_ascii=False, separators=(",", ":")),
        "prev": head["hash"],
    }
    fields["hash"] = entry_hash(fields)
    tx.stream_add(keys.audit_stream(partition), fields)
    new_head = {"seq": head["seq"] + 1, "hash": fields["hash"]}
    tx.set_json(keys.audit_head(partition), new_head)
    tx.scratch[scratch_key] = new_head
    return fields["hash"]


@dataclass(frozen=True)
class ChainReport:
    """The result of recomputing one or all chains."""

    intact: bool
    entries: int
    problems: tuple[str, ...] = ()


def verify_partition(store: Store, partition: str) -> ChainReport:
    """Recompute one partition's chain from its first entry to its recorded head."""
    problems: list[str] = []
    expected_prev, expected_seq, count = GENESIS, 1, 0
    for entry_id, fields in store.stream_entries(keys.audit_stream(partition)):
        count += 1
        if any(name not in fields for name in (*ENTRY_FIELDS, "hash")):
            problems.append(f"{partition} {entry_id}: fields missing")
            continue
        if fields["seq"] != str(expected_seq):
            problems.append(f"{partition} {entry_id}: sequence {fields['seq']}, expected {expected_seq}")
        if fields["prev"] != expected_prev:
            problems.append(f"{partition} {entry_id}: does not chain to the entry before it")
        if entry_hash(fields) != fields["hash"]:
            problems.append(f"{partition} {entry_id}: contents do not match its hash")
        expected_prev = fields["hash"]
        expected_seq = int(fields["seq"]) + 1 if fields["seq"].isdigit() else expected_seq + 1
    head = store.get_json(keys.audit_head(partition)) or {"seq": 0, "hash": GENESIS}
    if head["hash"] != expected_prev or head["seq"] != expected_seq - 1:
        problems.append(f"{partition}: last entry is not the recorded head (entries removed at the end?)")
    return ChainReport(intact=not problems, entries=count, problems=tuple(problems))


def known_partitions(store: Store) -> list[str]:
    """Every partition that can hold a chain, derived from the registry rather than from a list kept
    beside the chains (which would be one more key to tamper with, and one outside every slot)."""
    datasets: list[str] = []
    after = None
    while True:
        ids = store.index_page(keys.connector_index(), after, 500)
        datasets += [keys.dataset_partition(connector_id) for connector_id in ids]
        if len(ids) < 500:
            break
        after = ids[-1]
    licences = [keys.licence_partition(code) for code in store.index_page(keys.licence_type_index(), None, 100_000)]
    agencies = store.index_page(keys.agency_index(), None, 100_000)
    intake = [keys.application_partition(code) for code in agencies]
    intake += [keys.discrepancy_partition(code) for code in agencies]
    return [keys.REGISTRY, keys.PKI, *keys.event_partitions(), *datasets, *licences, *intake]


def verify(store: Store) -> ChainReport:
    """Recompute every partition's chain."""
    reports = [verify_partition(store, p) for p in known_partitions(store)]
    return ChainReport(
        intact=all(r.intact for r in reports),
        entries=sum(r.entries for r in reports),
        problems=tuple(p for r in reports for p in r.problems),
    )


def page(store: Store, partition: str, before: str | None, limit: int) -> list[dict[str, str]]:
    """A page of one chain's entries, newest first, each with its stream id."""
    rows = store.stream_page_newest_first(keys.audit_stream(partition), before, limit)
    return [fields | {"id": entry_id} for entry_id, fields in rows]
