"""Whole-store integrity: every audit chain recomputes, and every document a record names is there, unchanged.

Blobs are content-addressed (:func:`hub.store.keys.blob`), so a blob is intact exactly when the SHA-256 of
its bytes is the one in its key and in the record naming it. The check reads:

- every audit chain (:func:`hub.audit.verification.verify`);
- every licence record of every licence type, and its sealed PDF and OFD, and those of the versions it replaced;
- every application of every lead agency, each uploaded material (and each upload it replaced) and each
  document the applicant was given;
- every archive catalogue entry each agency lists, and its package (unless disposed of: then only the
  entry stays, by design).

Restores run it on the restored data, backups on the snapshot they hold, tests on whatever they made.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from blobstores.api import BlobCorrupt
from hub.audit import log as audit
from hub.audit import verification
from hub.errors import NotFound
from hub.intake.cases import agency_of
from hub.state import HubState
from hub.store import case_keys, keys
from hub.store.client import Store
from hub.store.sealing import SealBroken

PAGE = 500
APPLICATION_PATTERN = keys.key("app:*", "application", "*")


@dataclass
class IntegrityReport:
    """What was checked, and every problem found (none: the store is intact)."""

    keys: int = 0
    blobs: int = 0
    licences: int = 0
    applications: int = 0
    materials: int = 0
    archives: int = 0
    audit_entries: int = 0
    audit_heads: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    def counts(self) -> dict[str, int]:
        """The numbers of things checked, by kind."""
        names = ("keys", "blobs", "licences", "applications", "materials", "archives", "audit_entries")
        return {name: getattr(self, name) for name in names}


@dataclass(frozen=True)
class _BlobRef:
    """A record's claim that a blob with this digest (and, when recorded, size) exists."""

    owner: str
    sha256: str
    size: int | None = None


def check(store: Store) -> IntegrityReport:
    """Check every audit chain and every blob every licence, application and archive names."""
    report = IntegrityReport(keys=store.key_count())
    report.blobs = sum(1 for _ in store.document_names())
    chains = verification.verify(HubState(store.settings, store))
    report.audit_entries = chains.entries
    report.problems.extend(chains.problems)
    report.audit_heads = _audit_heads(store)
    for refs in (_licence_refs, _application_refs, _archive_refs):
        try:
            _check_blobs(store, report, refs(store, report))
        except SealBroken as broken:  # a record or a blob changed, or the store is another hub's
            report.problems.append(str(broken))
    return report


def referenced_blobs(store: Store) -> set[str]:
    """The digest of every blob a licence, an application or a filed archive names, and the blob store's marker."""
    scratch = IntegrityReport(keys=0)
    named = {ref.sha256 for refs in (_licence_refs, _application_refs, _archive_refs) for ref in refs(store, scratch)}
    marker = store.get_json(keys.blob_store_marker())
    return named if marker is None else named | {marker}


def _audit_heads(store: Store) -> dict[str, dict[str, Any]]:
    partitions = audit.known_partitions(store)
    heads = store.get_json_each([keys.audit_head(partition) for partition in partitions])
    return {partition: head for partition, head in zip(partitions, heads, strict=True) if head is not None}


def _index_members(store: Store, index_key: str) -> Iterator[str]:
    after = None
    while True:
        members = store.index_page(index_key, after, PAGE)
        yield from members
        if len(members) < PAGE:
            return
        after = members[-1]


def _licence_refs(store: Store, report: IntegrityReport) -> Iterator[_BlobRef]:
    for type_code in _index_members(store, keys.licence_type_index()):
        numbers = list(_index_members(store, keys.licence_index(type_code)))
        for start in range(0, len(numbers), PAGE):
            batch = numbers[start : start + PAGE]
            records = store.get_many_json([keys.licence(type_code, number) for number in batch])
            # The documents of the versions each amended one replaced are kept too: their lists, in one round trip.
            amended = [n for n, r in zip(batch, records, strict=True) if r and int(r.get("version", 1)) > 1]
            lists = store.list_all_many_json([keys.licence_versions(type_code, n) for n in amended])
            earlier = dict(zip(amended, lists, strict=True))
            for number, record in zip(batch, records, strict=True):
                report.licences += 1
                if record is None:
                    report.problems.append(f"licence {type_code}/{number}: indexed but its record is missing")
                    continue
                for version in [record, *earlier.get(number, [])]:
                    owner = f"licence {record['number']} version {version.get('version', 1)}"
                    yield _BlobRef(owner, version["sha256"])
                    if version.get("ofd_sha256"):
                        yield _BlobRef(owner + " (OFD)", version["ofd_sha256"])


def _application_refs(store: Store, report: IntegrityReport) -> Iterator[_BlobRef]:
    for key in store.keys_matching(APPLICATION_PATTERN):
        record = store.get_json(key)
        if record is None:
            continue  # deleted while scanning
        report.applications += 1
        application_id = key.rsplit(":", 1)[-1]
        for material in record.get("materials") or []:
            for upload in [material.get("file"), *(material.get("earlier_files") or [])]:  # and those it replaced
                if upload:
                    report.materials += 1
                    owner = f"application {application_id} material {material['code']}"
                    yield _BlobRef(owner, upload["sha256"], upload.get("size"))
        for document in record.get("documents") or []:  # what the applicant was given: notices, decisions
            yield _BlobRef(f"application {application_id} document {document['reference']}", document["sha256"])


def _archive_refs(store: Store, report: IntegrityReport) -> Iterator[_BlobRef]:
    seen: set[str] = set()  # a joint case is listed by every agency involved
    for agency in _index_members(store, keys.agency_index()):
        for case_id in _scored_members(store, case_keys.archives_of(agency)):
            if case_id in seen:
                continue
            seen.add(case_id)
            entry = _archive_entry(store, case_id, report)
            if entry is None:
                continue
            report.archives += 1
            if not (entry.get("disposed") or entry.get("disposed_at")):  # a disposed package is gone on purpose
                package = entry["package"]
                yield _BlobRef(f"archive {case_id}", package["sha256"], package["size"])


def _scored_members(store: Store, key: str) -> Iterator[str]:
    offset = 0
    while True:
        rows = store.scored_up_to(key, float("inf"), offset, PAGE)
        yield from (member for member, _ in rows)
        if len(rows) < PAGE:
            return
        offset += PAGE


def _archive_entry(store: Store, case_id: str, report: IntegrityReport) -> dict[str, Any] | None:
    try:
        lead = agency_of(case_id)
    except NotFound:
        report.problems.append(f"archive {case_id}: not an application id")
        return None
    entry = store.get_json(case_keys.archive(lead, case_id))
    if entry is None:
        report.problems.append(f"archive {case_id}: listed but its catalogue entry is missing")
    return entry


def _check_blobs(store: Store, report: IntegrityReport, refs: Iterator[_BlobRef]) -> None:
    """Read the blobs ``refs`` name, a batch at a time, and note each one missing or changed."""
    batch: list[_BlobRef] = []
    for ref in refs:
        batch.append(ref)
        if len(batch) == PAGE:
            _check_batch(store, report, batch)
            batch = []
    _check_batch(store, report, batch)


def _check_batch(store: Store, report: IntegrityReport, batch: list[_BlobRef]) -> None:
    for ref in batch:
        try:
            content = store.document(ref.sha256)
        except BlobCorrupt as corrupt:
            report.problems.append(f"{ref.owner}: document {ref.sha256} does not match its digest ({corrupt})")
            continue
        if content is None:
            report.problems.append(f"{ref.owner}: document {ref.sha256} is missing")
        elif hashlib.sha256(content).hexdigest() != ref.sha256:
            report.problems.append(f"{ref.owner}: document {ref.sha256} does not match its digest")
        elif ref.size is not None and len(content) != ref.size:
            report.problems.append(f"{ref.owner}: document {ref.sha256} has {len(content)} bytes, not {ref.size}")
