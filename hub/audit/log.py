"""The hash-chained audit log.

Each partition (see :mod:`hub.store.keys`) has its own chain: a Redis stream whose entries carry a
sequence number, the previous entry's hash and their own hash, SHA-256 over a canonical JSON of
every field. The chain's head (last sequence and hash) is kept beside it, and an entry is appended
inside the same transaction as the change it records, so neither exists without the other.
Verification recomputes every chain: a changed, inserted or deleted entry breaks it. A consistent
rewrite (every later hash and the head recomputed) does not break a chain, but it changes the hash
at a sequence number that a sealed checkpoint (:mod:`hub.audit.checkpoints`) names, and so is caught too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from hub.context import Context, now, rfc3339
from hub.store import case_keys, keys
from hub.store.client import Store, Tx

GENESIS = "0" * 64
ENTRY_FIELDS = ("seq", "at", "actor", "action", "target", "request_id", "detail", "prev")


def entry_hash(fields: dict[str, str]) -> str:
    """SHA-256 over the canonical JSON of an entry's fields (all but its own hash)."""
    canonical = json.dumps({name: fields[name] for name in ENTRY_FIELDS}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def append(tx: Tx, partition: str, ctx: Context, action: str, target: str, detail: Any = None) -> dict[str, str]:
    """Queue an audit entry in ``tx``, chained to the partition's head; return the entry (with its hash)."""
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
    tx.hot.add(keys.audit_head(partition))  # every writer of the partition changes it: see HotKeyLocks
    tx.scratch[scratch_key] = new_head
    return fields


@dataclass(frozen=True)
class ChainReport:
    """The result of recomputing one or all chains (and, for all, of checking the checkpoints)."""

    intact: bool
    entries: int
    problems: tuple[str, ...] = ()
    oldest_at: str | None = None  # the time of the oldest entry checked
    checkpoints: dict[str, Any] | None = None  # count, latest, signatures_checked, problems


Expected = dict[int, dict[str, int]]  # seq -> {hash a checkpoint names for that entry: that checkpoint's seq}


def verify_partition(store: Store, partition: str, expected: Expected | None = None) -> ChainReport:
    """Recompute one partition's chain from its first entry to its recorded head, and compare the
    entries that checkpoints name (``expected``, see :mod:`hub.audit.checkpoints`) as they go by."""
    problems: list[str] = []
    expected = dict(expected or {})  # a copy: each entry's claims are used up as it goes by
    expected_prev, expected_seq, count, oldest_at = GENESIS, 1, 0, None
    for entry_id, fields in store.stream_entries(keys.audit_stream(partition)):
        count += 1
        if any(name not in fields for name in (*ENTRY_FIELDS, "hash")):
            problems.append(f"{partition} {entry_id}: fields missing")
            continue
        oldest_at = oldest_at or fields["at"]
        if fields["seq"] != str(expected_seq):
            problems.append(f"{partition} {entry_id}: sequence {fields['seq']}, expected {expected_seq}")
        if fields["prev"] != expected_prev:
            problems.append(f"{partition} {entry_id}: does not chain to the entry before it")
        if entry_hash(fields) != fields["hash"]:
            problems.append(f"{partition} {entry_id}: contents do not match its hash")
        problems += _checkpoint_mismatches(partition, fields, expected)
        expected_prev = fields["hash"]
        expected_seq = int(fields["seq"]) + 1 if fields["seq"].isdigit() else expected_seq + 1
    head = store.get_json(keys.audit_head(partition)) or {"seq": 0, "hash": GENESIS}
    if head["hash"] != expected_prev or head["seq"] != expected_seq - 1:
        problems.append(f"{partition}: last entry is not the recorded head (entries removed at the end?)")
    problems += [
        f"{partition}: checkpoint {checkpoint} names entry {seq}, which the chain no longer has (entries removed)"
        for seq, claims in sorted(expected.items())
        for checkpoint in sorted(set(claims.values()))
    ]
    return ChainReport(intact=not problems, entries=count, problems=tuple(problems), oldest_at=oldest_at)


def _checkpoint_mismatches(partition: str, fields: dict[str, str], expected: Expected) -> list[str]:
    """Problems where a checkpoint names another hash for this entry (whose claims are used up)."""
    claims = expected.pop(int(fields["seq"]), {}) if fields["seq"].isdigit() else {}
    return [
        f"{partition}: entry {fields['seq']} differs from checkpoint {checkpoint} (rewritten after it was sealed)"
        for claimed, checkpoint in sorted(claims.items(), key=lambda claim: claim[1])
        if claimed != fields["hash"]
    ]


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
    intake = [case_keys.application_partition(code) for code in agencies]
    intake += [case_keys.discrepancy_partition(code) for code in agencies]
    return [keys.REGISTRY, keys.PKI, *keys.event_partitions(), *datasets, *licences, *intake]


def page(store: Store, partition: str, before: str | None, limit: int) -> list[dict[str, str]]:
    """A page of one chain's entries, newest first, each with its stream id."""
    rows = store.stream_page_newest_first(keys.audit_stream(partition), before, limit)
    return [fields | {"id": entry_id} for entry_id, fields in rows]
