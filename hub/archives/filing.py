"""Filing a concluded case: gather its documents, build the sealed package, register it.

When a case concludes, its id joins the lead agency's pending set in the same transaction as the
decision; :func:`file_case` then builds the package (zipped a piece at a time into a spool that
stays in memory up to ``SPOOL_BYTES`` and goes to an unnamed temporary file beyond), stores the zip
in the blob store (by content, before anything names it) and, in one transaction of the lead
agency's partition, writes the catalogue entry, its indexes, the application's link to it and the
audit entry; the co-agencies' indexes follow, and last the case leaves the pending set. A filing
interrupted by a crash leaves the case pending: :func:`file_pending` (a scheduled job and ``hub
archive file``) finishes it, and the first download files a case not filed at all.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from typing import IO, TYPE_CHECKING, Any

from hub.archives import package
from hub.archives.package import CaseFile, json_file
from hub.audit import log as audit
from hub.context import Context, rfc3339
from hub.errors import Conflict, NotFound
from hub.intake import applications, cases, discrepancies, due
from hub.intake.uploads import EXTENSIONS
from hub.licences import register as licences
from hub.registry import service_items
from hub.resolution import access_log
from hub.store import case_keys, keys
from hub.store.client import Tx

if TYPE_CHECKING:
    from hub.state import HubState

log = logging.getLogger(__name__)
CONCLUDED = {"approved", "rejected", "withdrawn"}
DEFAULT_RETENTION_YEARS = 30
# Fields of the application record that go into files of their own, not into application.json; and the
# applicant's identifier, which the case kept only to ask sources again while it ran.
OWN_FILES = {"evidence_envelope", "later_envelopes", "subject", "representative_subject"}
SPOOL_BYTES = 1024 * 1024


class CaseIncomplete(Conflict):
    """A document the case names is missing from the store, so no complete package can be made."""

    slug, title = "case-incomplete", "Case documents missing"


class Gone(NotFound):
    """The archive existed and was disposed of when its retention ended."""

    status, slug, title = 410, "disposed", "Archive disposed of"


def entry_of(state: HubState, application_id: str) -> dict[str, Any] | None:
    """A case's catalogue entry, or None while it is not filed."""
    return state.store.get_json(case_keys.archive(cases.agency_of(application_id), application_id))


def file_case(state: HubState, ctx: Context, application_id: str) -> dict[str, Any]:
    """File a concluded case's package (or return the entry filed already)."""
    filed = entry_of(state, application_id)
    if filed is not None:
        return filed
    record = applications.get(state, application_id)
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        entry, built = prepare(state, record, spool)
        spool.seek(0)
        state.store.put_document(built.sha256, iter(lambda: spool.read(package.READ_BYTES), b""))
    stored = state.store.atomic(lambda tx: _register(tx, ctx, record, entry))
    if stored is not entry and stored["package"]["sha256"] != built.sha256:
        state.store.delete_document(built.sha256)  # another process filed it meanwhile: ours is not needed
    _settle(state, stored)
    return stored


def _settle(state: HubState, entry: dict[str, Any]) -> None:
    """The last steps of a filing, each idempotent: every co-agency indexes the case under its own code
    (a partition of its own, so a transaction of its own), then the case leaves the pending set. A crash
    before the end leaves it pending, and the sweep settles it again."""
    score = filed_score(entry)
    for agency in entry["co_agencies"]:
        state.store.atomic(lambda tx, agency=agency: tx.scored_add(case_keys.archives_of(agency), entry["case"], score))
    state.store.atomic(lambda tx: tx.index_remove(case_keys.archives_pending(entry["agency"]), entry["case"]))


def prepare(state: HubState, record: dict[str, Any], out: IO[bytes]) -> tuple[dict[str, Any], package.Package]:
    """Build a concluded case's sealed package into ``out`` from its documents; the catalogue entry for it."""
    if record["status"] not in CONCLUDED:
        raise Conflict(f"Application {record['id']} is {record['status']}: only a concluded case is archived.")
    if record.get("pending_documents"):
        raise CaseIncomplete(f"Application {record['id']} is still owed a decision document; it is filed after.")
    archived_at = state.clock.now()
    item = service_items.get_service_item(state.store, record["service_item"], record["version"])
    metadata = _metadata(state, record, item, archived_at)
    files = _case_files(state, record, item)
    try:
        built = package.build(files, metadata, state.local_time(archived_at), state.pki.sign_detached, out)
    except package.ContentChanged as error:
        raise CaseIncomplete(f"A document of {record['id']} is not what the case names: {error}") from error
    return _entry(record, metadata, built), built


def _register(tx: Tx, ctx: Context, record: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    agency, case = record["agency"], record["id"]
    existing = tx.get_json(case_keys.archive(agency, case))
    if existing is not None:
        return existing
    current = tx.get_json(case_keys.application(agency, case))
    if current is None or current["status"] != record["status"] or current["timeline"] != record["timeline"]:
        raise Conflict(f"Application {case} changed while it was being archived; file it again.")
    score = filed_score(entry)
    tx.set_json(case_keys.archive(agency, case), entry)
    tx.scored_add(case_keys.archives_of(agency), case, score)
    tx.scored_add(case_keys.archives_by_item(agency, record["service_item"]), case, score)
    tx.scored_add(case_keys.archives_by_subject(agency, record["applicant"]["subject_hash"]), case, score)
    if entry["retention"]["until"] is not None:
        until = date.fromisoformat(entry["retention"]["until"])
        tx.scored_add(case_keys.archives_by_retention(agency), case, due.score(until))
    current["archive"] = link_to(entry)
    tx.set_json(case_keys.application(agency, case), current)
    detail = {"sha256": entry["package"]["sha256"], "manifest_sha256": entry["package"]["manifest_sha256"]}
    audit.append(tx, case_keys.application_partition(agency), ctx, "archive.file", f"application:{case}", detail)
    return entry


def filed_score(entry: dict[str, Any]) -> int:
    """An entry's place in the catalogue's sorted sets: its filing time in whole epoch milliseconds."""
    return int(datetime.fromisoformat(entry["archived_at"]).timestamp() * 1000)


def link_to(entry: dict[str, Any]) -> dict[str, Any]:
    """What an application record keeps of its archive."""
    return {"sha256": entry["package"]["sha256"], "archived_at": entry["archived_at"]}


def file_pending(state: HubState, ctx: Context, limit: int = 500) -> dict[str, Any]:
    """File every concluded case still waiting for its package (after a crash, or a seal outage)."""
    filed, failed = [], []
    for agency in state.store.index_page(keys.agency_index(), None, 100_000):
        for case, _ in state.store.scored_up_to(case_keys.archives_pending(agency), float("inf"), 0, limit):
            try:
                _settle(state, file_case(state, ctx, case))  # (a case filed but not settled is settled now)
                filed.append(case)
            except Exception as error:  # one case's trouble must not stop the others; it stays pending
                log.warning("archive filing failed", extra={"case": case, "error": str(error)})
                failed.append(case)
    return {"filed": filed, "failed": failed}


def package_of(
    state: HubState, ctx: Context, record: dict[str, Any], reader: str
) -> tuple[dict[str, Any], Iterator[bytes]]:
    """A case's catalogue entry and its package, filing it first if it is still pending. The package carries
    the applicant's evidence, so handing it to ``reader`` is a line in the applicant's access log. The package
    comes in checked chunks, straight from the blob store."""
    application_id = record["id"]
    entry = file_case(state, ctx, application_id)
    if entry.get("disposed") is not None:
        raise Gone(f"The archive of {application_id} was disposed of on {entry['disposed']['at'][:10]}.")
    content = state.store.document_stream(entry["package"]["sha256"])
    if content is None:
        raise NotFound(f"The package of {application_id} is missing from the store; restore it from a backup.")
    at, materials = rfc3339(state.clock.now()), record.get("materials", [])
    access_log.record_case_read(state.store, record, at, reader, materials, whole=True)
    return entry, content


# -- what goes into a package
def _metadata(state: HubState, record: dict[str, Any], item: dict[str, Any], archived_at: datetime) -> dict[str, Any]:
    concluded_at = record["timeline"][-1]["at"]
    years = item.get("retention_years", DEFAULT_RETENTION_YEARS)
    concluded_on = state.local_time(datetime.fromisoformat(concluded_at)).date()
    return {
        "case": record["id"],
        "service_item": {"code": item["code"], "version": item["version"], "name": item["name"]},
        "agencies": {"lead": record["agency"], "co": list(record["co_agencies"])},
        "applicant": {k: record["applicant"][k] for k in ("id_type", "id_masked", "name")},
        "representative": (
            {k: record["representative"][k] for k in ("id_type", "id_masked", "name", "role")}
            if record.get("representative")
            else None
        ),
        "outcome": record["status"],
        "licence": record["licence"],
        "dates": {"submitted": record["created_at"], "concluded": concluded_at, "archived": rfc3339(archived_at)},
        "retention": {"years": years, "until": None if years is None else _years_after(concluded_on, years)},
    }


def _years_after(day: date, years: int) -> str:
    try:
        return day.replace(year=day.year + years).isoformat()
    except ValueError:  # 29 February, in a year that has none
        return day.replace(year=day.year + years, day=28).isoformat()


def _entry(record: dict[str, Any], metadata: dict[str, Any], built: package.Package) -> dict[str, Any]:
    return {
        "case": record["id"],
        "service_item": record["service_item"],
        "version": record["version"],
        "service_item_name": record["service_item_name"],
        "agency": record["agency"],
        "co_agencies": list(record["co_agencies"]),
        "applicant": {
            "id_type": record["applicant"]["id_type"],
            "id_masked": record["applicant"]["id_masked"],
            "name_masked": licences.mask_name(record["applicant"]["name"]),
        },
        "subject_hash": record["applicant"]["subject_hash"],  # for searches by applicant; never shown
        "outcome": record["status"],
        "licence": record["licence"],
        "submitted_at": metadata["dates"]["submitted"],
        "concluded_at": metadata["dates"]["concluded"],
        "archived_at": metadata["dates"]["archived"],
        "retention": metadata["retention"],
        "package": {
            "sha256": built.sha256,
            "size": built.size,
            "manifest_sha256": built.manifest_sha256,
            "files": len(built.manifest["files"]),
        },
        "disposed": None,
    }


def _case_files(state: HubState, record: dict[str, Any], item: dict[str, Any]) -> list[CaseFile]:
    files = [
        json_file("application.json", {k: v for k, v in record.items() if k not in OWN_FILES}),
        json_file("service-item.json", item),
        *_material_files(state, record),
        *_evidence_files(record),
        json_file("decisions.json", _decisions(record)),
        json_file("notices.json", {"notice": record["notice"], "notifications": record["notifications"]}),
        *_licence_files(state, record),
        *_decision_files(state, record),
        json_file("audit.json", _audit_extract(state, record)),
    ]
    if record["discrepancies"]:
        found = state.store.get_json_each([_discrepancy_key(d) for d in record["discrepancies"]])
        files.append(json_file("discrepancies.json", [d for d in found if d is not None]))
    return files


def _material_files(state: HubState, record: dict[str, Any]) -> list[CaseFile]:
    """Each material's upload, and under ``materials/earlier/`` the uploads it replaced (numbered from 1)."""
    files = []
    for material in record["materials"]:
        earlier = material.get("earlier_files") or []
        named = [(f"materials/earlier/{material['code']}-{n}", upload) for n, upload in enumerate(earlier, start=1)]
        if material.get("file"):
            named.append((f"materials/{material['code']}", material["file"]))
        for name, upload in named:
            media_type, sha256 = upload["media_type"], upload["sha256"]
            missing = f"The upload {name} of {record['id']} is missing."
            files.append(
                CaseFile(name + EXTENSIONS.get(media_type, ""), media_type, sha256, _stored(state, sha256, missing))
            )
    return files


def _stored(state: HubState, sha256: str, missing: str) -> Callable[[], Iterable[bytes]]:
    """A document's content, read from the blob store a checked piece at a time when it is zipped."""

    def chunks() -> Iterable[bytes]:
        stream = state.store.document_stream(sha256)
        if stream is None:
            raise CaseIncomplete(missing)
        return stream

    return chunks


def _evidence_files(record: dict[str, Any]) -> list[CaseFile]:
    resolved = [
        {k: m[k] for k in ("code", "evidence_type", "source", "data")}
        for m in record["materials"]
        if m["status"] == "resolved"
    ]
    files = [json_file("evidence/resolved.json", {"resolution": record["resolution"], "materials": resolved})]
    if record.get("evidence_envelope"):
        files.append(CaseFile.of("evidence/envelope.jws", record["evidence_envelope"].encode(), "application/jose"))
    for number, envelope in enumerate(record.get("later_envelopes") or [], start=2):  # materials fetched again
        files.append(CaseFile.of(f"evidence/envelope-{number}.jws", envelope.encode(), "application/jose"))
    return files


def _decisions(record: dict[str, Any]) -> dict[str, Any]:
    decision = record["timeline"][-1]
    return {"outcome": record["status"], "decision": decision, "tasks": record["tasks"], "timeline": record["timeline"]}


def _licence_files(state: HubState, record: dict[str, Any]) -> list[CaseFile]:
    number = record["licence"]
    if not number:
        return []
    licence = licences.get_record(state, number)
    history = licences.history(state, None, number)
    document = _stored(state, licence["sha256"], f"The document of licence {number} is missing.")
    files = [
        CaseFile(f"licence/{number}.pdf", "application/pdf", licence["sha256"], document),
        json_file(f"licence/{number}.json", {"record": licence, "history": history}),
    ]
    if licence.get("ofd_sha256"):  # issued as OFD too (GB/T 33190), sealed with the agency's SM2 seal
        ofd = _stored(state, licence["ofd_sha256"], f"The OFD of licence {number} is missing.")
        files.insert(1, CaseFile(f"licence/{number}.ofd", "application/ofd", licence["ofd_sha256"], ofd))
    return files


def _decision_files(state: HubState, record: dict[str, Any]) -> list[CaseFile]:
    """The sealed decision documents the applicant was given (acceptance, requests, refusals)."""
    return [
        CaseFile(
            f"documents/{document['reference']}.pdf",
            "application/pdf",
            document["sha256"],
            _stored(state, document["sha256"], f"The document {document['reference']} is missing."),
        )
        for document in record.get("documents") or []
    ]


def _audit_extract(state: HubState, record: dict[str, Any]) -> dict[str, Any]:
    entries = state.store.list_all_json(case_keys.application_audit(record["agency"], record["id"]))
    return {
        "partition": case_keys.application_partition(record["agency"]),
        "hash": "SHA-256 over the JSON of the fields " + ", ".join(audit.ENTRY_FIELDS) + " (keys sorted, UTF-8)",
        "entries": entries,
    }


def _discrepancy_key(discrepancy_id: str) -> str:
    return case_keys.discrepancy(discrepancies.agency_of(discrepancy_id), discrepancy_id)
