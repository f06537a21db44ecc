"""Once-only proof resolution (regulation Art. 8): ask every source at once, tell the applicant once.

Every read serves a case: the reader takes part in an application, the subject is its applicant, and
the item version is the one it was submitted under. For that version and subject, every material
with an evidence type is fetched from every active connector that provides it, concurrently, under
one overall deadline; the first good answer wins. Each material ends ``resolved``, ``missing``
(nothing holds it, or it has no evidence type) or ``unavailable`` (a source exists but failed or
timed out). Policies decide first what the asking agency may read, field by field, and only the
fields the item's materials need are ever allowed: a source's answer is cut down to them before it
is cached, kept or returned. The resolution, its audit entry and the subject's access-log line
(reader, case, fields) are written in one transaction; the evidence is returned in a signed envelope.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Collection, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from connectors.api import ConnectorError, NotHeld, Record, Subject
from hub.audit import log as audit
from hub.context import Context, rfc3339
from hub.errors import Forbidden
from hub.registry.service_items import get_service_item
from hub.resolution import case as cases
from hub.resolution.access_log import read_fields
from hub.resolution.case import Case
from hub.resolution.notice import notice_for
from hub.sources import evidence_cache
from hub.sources.fetching import Observed
from hub.store import keys
from hub.store.client import Tx
from policies import needed_by

if TYPE_CHECKING:
    from hub.state import HubState

RESOLVED, MISSING, UNAVAILABLE = "resolved", "missing", "unavailable"


@dataclass(frozen=True)
class Attempt:
    """What one source said about one evidence type."""

    evidence_type: str
    connector_id: str
    agency: str
    outcome: Record | NotHeld | ConnectorError | None  # None: still running at the deadline
    cached: bool = False


def _evidence_types_of(item: dict[str, Any]) -> list[str]:
    seen: dict[str, None] = {}
    for material in item["materials"]:
        if material["evidence_type"]:
            seen.setdefault(material["evidence_type"], None)
    return list(seen)


def _fan_out(
    state: HubState, wanted: Mapping[str, list], subject: Subject, permitted: Mapping[str, frozenset[str]]
) -> tuple[dict[str, list[Attempt]], list[tuple[str, Observed]]]:
    """Ask every provider of every wanted evidence type at once; stop each type at its first record.

    Returns what each source said per evidence type (records hold only the ``permitted`` fields: each
    source is asked for no more, and :meth:`~hub.sources.fetching.Source.fetch` keeps no more), and every
    finished call for the health view.
    """
    deadline = time.monotonic() + state.settings.resolution_deadline_ms / 1000
    running: dict[Future, tuple[str, Any]] = {}
    for evidence_type, providers in wanted.items():
        for source in providers:
            timeout_s = min(source.timeout_s, max(0.0, deadline - time.monotonic()))
            fields = permitted.get(evidence_type, frozenset())
            future = state.executor.submit(source.fetch, evidence_type, subject, timeout_s, fields)
            running[future] = (evidence_type, source)
    attempts: dict[str, list[Attempt]] = {evidence_type: [] for evidence_type in wanted}
    observed: list[tuple[str, Observed]] = []
    settled: set[str] = set()
    pending = set(running)
    while pending:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        done, pending = wait(pending, timeout=remaining, return_when=FIRST_COMPLETED)
        for future in done:
            evidence_type, source = running[future]
            call = future.result()  # sources return their failure; they do not raise
            observed.append((source.id, call))
            attempts[evidence_type].append(Attempt(evidence_type, source.id, source.agency, call.outcome))
            if isinstance(call.outcome, Record):
                settled.add(evidence_type)
        # Nothing more is needed from a type that has its record; leave those calls to finish alone.
        pending = {f for f in pending if running[f][0] not in settled}
    for future in pending:
        evidence_type, source = running[future]
        future.cancel()
        attempts[evidence_type].append(Attempt(evidence_type, source.id, source.agency, None))
    return attempts, observed


def _material_result(
    material: dict, attempts: dict[str, list[Attempt]], shown: Mapping[str, frozenset], fields_of: Mapping[str, list]
) -> dict:
    evidence_type = material["evidence_type"]
    result = {
        "code": material["code"],
        "name": material["name"],
        "required": material["required"],
        "evidence_type": evidence_type,
    }
    tried = attempts.get(evidence_type, []) if evidence_type else []
    record = next((a for a in tried if isinstance(a.outcome, Record)), None)
    if record is not None:
        fields = shown.get(evidence_type, frozenset()) & frozenset(needed_by(material, fields_of))
        data = {name: value for name, value in record.outcome.fields.items() if name in fields}
        return result | {
            "status": RESOLVED,
            "source": {"agency": record.agency, "connector": record.connector_id, "cached": record.cached},
            "data": data,
        }
    failed = [a for a in tried if not isinstance(a.outcome, NotHeld)]
    status = UNAVAILABLE if failed else MISSING
    return result | {"status": status, "source": None, "data": None}


def resolve_for_case(
    state: HubState,
    ctx: Context,
    agency: str,
    application_id: str,
    service_item: str,
    subject: Subject,
    language: str,
) -> dict[str, Any]:
    """Resolve for the case ``application_id`` names; refused (403, audited) unless ``agency`` takes part
    in it, ``subject`` is one of its parties (the applicant, or the applicant's representative) and
    ``service_item`` its item. A party's read covers the materials that are that party's."""
    case = cases.find(state.store, application_id)
    subject_hash = state.keyring.subject_hash(subject.id_type, subject.id)
    if case is None:
        reason = f"there is no application {application_id!r}"
    elif not case.takes_part(agency):
        reason = f"agency {agency!r} takes no part in application {application_id}"
    elif subject_hash not in case.parties:
        reason = f"the subject is no party to application {application_id}"
    elif case.service_item != service_item:
        reason = f"application {application_id} is for service item {case.service_item!r}"
    else:
        return resolve(state, ctx, agency, case, subject, language, case.materials_of(subject_hash))
    _record_refusal(state, ctx, agency, service_item, application_id, subject_hash, {"reason": reason})
    raise Forbidden(f"Refused: {reason}. A person's data is read only for a case the reader handles.")


def resolve(
    state: HubState,
    ctx: Context,
    agency: str,
    case: Case,
    subject: Subject,
    language: str,
    materials: Collection[str] | None = None,
) -> dict[str, Any]:
    """Resolve every material of the case's service item version for ``subject`` (one of its parties), as
    ``agency`` (its lead or a co-agency); or, given ``materials``, the materials of those codes."""
    store = state.store
    item = get_service_item(store, case.service_item, case.version)
    if materials is not None:
        item = item | {"materials": [m for m in item["materials"] if m["code"] in materials]}
    evidence_types = _evidence_types_of(item)
    evidence_records = dict(
        zip(evidence_types, store.get_many_json([keys.evidence_type(c) for c in evidence_types]), strict=True)
    )
    fields_of = {code: list((record or {}).get("fields", {})) for code, record in evidence_records.items()}
    subject_hash = state.keyring.subject_hash(subject.id_type, subject.id)
    partition = keys.event_partition(subject_hash)
    decisions = state.policies.decide(agency, item, evidence_records, subject.id_type)
    refused = [evidence_type for evidence_type in evidence_types if not decisions[evidence_type].allowed]
    if refused:
        detail = {"service_item": item["code"], "version": item["version"], "evidence_types": refused}
        _record_refusal(state, ctx, agency, item["code"], case.id, subject_hash, detail)
        raise Forbidden(
            f"Agency {agency!r} may not read {', '.join(refused)} for service item {item['code']!r}.",
            evidence_types=refused,
        )
    # The policies allow only fields the item's materials need; nothing else is fetched, kept or shown.
    permitted = {evidence_type: decisions[evidence_type].fields for evidence_type in evidence_types}
    cacheable = evidence_cache.ttls(evidence_records)
    cached = evidence_cache.read(store, partition, subject_hash, cacheable, permitted)
    providers = state.sources.providers([t for t in evidence_types if t not in cached])
    attempts, observed = _fan_out(state, {t: p for t, p in providers.items() if p}, subject, permitted)
    for evidence_type, entry in cached.items():
        record = evidence_cache.as_record(entry).only(permitted[evidence_type])
        attempts[evidence_type] = [Attempt(evidence_type, entry["connector"], entry["agency"], record, cached=True)]
    fresh = {
        evidence_type: record
        for evidence_type in cacheable
        if evidence_type not in cached
        and (record := next((a for a in attempts.get(evidence_type, []) if isinstance(a.outcome, Record)), None))
    }
    materials = [_material_result(m, attempts, permitted, fields_of) for m in item["materials"]]
    resolution_id = f"{partition}-{uuid.uuid4().hex}"
    created_at = rfc3339(state.clock.now())
    notice = notice_for(materials, language)
    summary = {
        "id": resolution_id,
        "application": case.id,
        "service_item": item["code"],
        "version": item["version"],
        "agency": agency,
        "subject": subject_hash,
        "created_at": created_at,
        "materials": [{k: m[k] for k in ("code", "evidence_type", "status", "source")} for m in materials],
        "notice": notice,
    }
    read = sorted({m["evidence_type"] for m in materials if m["status"] == RESOLVED})

    def write(tx: Tx) -> None:
        tx.set_json(keys.resolution(partition, resolution_id), summary)
        for evidence_type, attempt in fresh.items():
            entry = {
                "fields": dict(attempt.outcome.fields),
                "asked": sorted(permitted[evidence_type]),
                "agency": attempt.agency,
                "connector": attempt.connector_id,
            }
            evidence_cache.remember(tx, partition, subject_hash, evidence_type, entry, cacheable[evidence_type])
        tx.stream_add(
            keys.access_log(partition, subject_hash),
            {
                "at": created_at,
                "agency": agency,
                "application": case.id,
                "service_item": item["code"],
                "evidence_types": ",".join(read),
                "fields": ",".join(read_fields(materials)),
                "outcome": "read" if read else "nothing-read",
                "resolution": resolution_id,
            },
        )
        audit.append(
            tx,
            partition,
            ctx,
            "resolution.create",
            f"resolution:{resolution_id}",
            {k: summary[k] for k in ("application", "service_item", "version", "agency", "subject", "materials")},
        )

    state.store.atomic(write)
    state.sources.observe(observed)
    envelope = state.pki.sign_envelope(
        {
            "resolution": resolution_id,
            "application": case.id,
            "issued_at": created_at,
            "agency": agency,
            "service_item": item["code"],
            "version": item["version"],
            "subject": {"id_type": subject.id_type, "id": subject.id},
            "materials": [
                {k: m[k] for k in ("code", "evidence_type", "source", "data")}
                for m in materials
                if m["status"] == RESOLVED
            ],
        }
    )
    return {**summary, "subject": {"id_type": subject.id_type}, "materials": materials, "envelope": envelope}


def _record_refusal(
    state: HubState,
    ctx: Context,
    agency: str,
    service_item: str,
    application_id: str,
    subject_hash: str,
    detail: dict[str, Any],
) -> None:
    """A refused read, in the subject's access log and the audit log, in one transaction."""
    at = rfc3339(state.clock.now())
    partition = keys.event_partition(subject_hash)
    refused = detail.get("evidence_types", [])

    def write(tx: Tx) -> None:
        tx.stream_add(
            keys.access_log(partition, subject_hash),
            {
                "at": at,
                "agency": agency,
                "application": application_id,
                "service_item": service_item,
                "evidence_types": ",".join(refused),
                "fields": "",
                "outcome": "refused",
                "resolution": "",
            },
        )
        audit.append(
            tx,
            partition,
            ctx,
            "resolution.refuse",
            f"service-item:{service_item}",
            {"agency": agency, "application": application_id, "subject": subject_hash, **detail},
        )

    state.store.atomic(write)
