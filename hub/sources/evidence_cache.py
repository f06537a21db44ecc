"""Reusing a source's answer for a while, where the evidence type allows it.

An evidence type sets ``cache_ttl_seconds`` (0, the default, means never: personal data is asked
for afresh each time). A cached answer lives in the subject's event partition, is written in the
same transaction as the resolution that fetched it, and is dropped when the providing agency says
its data changed (``POST /api/v1/evidence-cache/invalidations``).
"""

from __future__ import annotations

from typing import Any

from connectors.api import Record
from hub.audit import log as audit
from hub.context import Context
from hub.errors import Forbidden, NotFound
from hub.store import keys
from hub.store.client import Store, Tx


def ttls(evidence_records: dict[str, dict[str, Any] | None]) -> dict[str, int]:
    """The evidence types that may be cached, with their TTLs."""
    return {
        code: record["cache_ttl_seconds"]
        for code, record in evidence_records.items()
        if record and record.get("cache_ttl_seconds")
    }


def read(
    store: Store,
    partition: str,
    subject_hash: str,
    cacheable: dict[str, int],
    wanted: dict[str, frozenset[str]],
) -> dict[str, dict[str, Any]]:
    """Cached answers for the cacheable evidence types that hold every ``wanted`` field of their type:
    {evidence type: {"fields", "asked", "agency", "connector"}}. An answer is kept cut down to the fields
    its read asked for, so a read that needs more asks the source again."""
    codes = list(cacheable)
    found = store.get_many_json([keys.evidence_cache(partition, code, subject_hash) for code in codes])
    return {
        code: entry
        for code, entry in zip(codes, found, strict=True)
        if entry and wanted.get(code, frozenset()) <= set(entry.get("asked", ()))
    }


def remember(tx: Tx, partition: str, subject_hash: str, evidence_type: str, entry: dict[str, Any], ttl: int) -> None:
    """Keep a fresh answer for ``ttl`` seconds, inside the resolution's transaction."""
    tx.set_json(keys.evidence_cache(partition, evidence_type, subject_hash), entry, ttl)


def as_record(entry: dict[str, Any]) -> Record:
    return Record(fields=entry["fields"])


def forget(
    store: Store, ctx: Context, agency: str | None, providers: list[str], evidence_type: str, subject_hash: str
) -> bool:
    """Drop a cached answer because its source changed; only a providing agency or the operator may."""
    if agency is not None and agency not in providers:
        raise Forbidden(f"Only an agency that provides {evidence_type!r} may invalidate its cached answers.")
    if not providers and agency is None and not store.get_json(keys.evidence_type(evidence_type)):
        raise NotFound(f"No evidence type {evidence_type!r}.")
    partition = keys.event_partition(subject_hash)
    key = keys.evidence_cache(partition, evidence_type, subject_hash)

    def work(tx: Tx) -> bool:
        existed = tx.exists(key)
        tx.delete(key)
        audit.append(
            tx, partition, ctx, "evidence-cache.invalidate", f"evidence-type:{evidence_type}", {"subject": subject_hash}
        )
        return existed

    return store.atomic(work)
