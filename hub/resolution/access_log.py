"""A person's access log: who read what about them, when, for which case and service (regulation Art. 8, 9).

Every answer that carries a person's data adds a line: the reader, the case it served, the evidence
types and the fields (``"<evidence type>.<field>"``) it returned. Resolutions write theirs with the
resolution; reads of a case record write theirs with :func:`record_read`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from hub.http import paging
from hub.http.paging import decode_stream_cursor
from hub.resolution.case import APPLICANT, Case
from hub.store import keys
from hub.store.client import Store

if TYPE_CHECKING:
    from hub.state import HubState


def page(state: HubState, id_type: str, subject_id: str, limit: int, cursor: str | None) -> dict:
    """The newest entries first, ``limit`` at a time."""
    subject_hash = state.keyring.subject_hash(id_type, subject_id)
    stream = keys.access_log(keys.event_partition(subject_hash), subject_hash)
    rows = state.store.stream_page_newest_first(stream, decode_stream_cursor(cursor), limit + 1)
    listing = paging.page(rows, limit, lambda row: row[0])
    listing["items"] = [
        {
            "at": fields["at"],
            "agency": fields["agency"],
            "service_item": fields["service_item"],
            "application": fields.get("application") or None,
            "evidence_types": [t for t in fields["evidence_types"].split(",") if t],
            "fields": [f for f in fields.get("fields", "").split(",") if f],
            "outcome": fields["outcome"],
            "resolution": fields["resolution"] or None,
        }
        for _, fields in listing["items"]
    ]
    return listing


def read_fields(materials: Iterable[Mapping[str, Any]]) -> list[str]:
    """The fields an answer carries, as ``"<evidence type>.<field>"``, sorted."""
    return sorted({f"{m['evidence_type']}.{name}" for m in materials if m.get("data") for name in m["data"]})


def read_line(
    subject_hash: str, at: str, agency: str, application: str, service_item: str, shown: list[dict]
) -> tuple[str, dict[str, str]]:
    """The access-log line (its stream and its fields) of an answer that carried the subject's data in
    ``shown`` (materials, each with the evidence type and the data it showed)."""
    evidence_types = sorted({m["evidence_type"] for m in shown if m.get("data")})
    line = {
        "at": at,
        "agency": agency,
        "application": application,
        "service_item": service_item,
        "evidence_types": ",".join(evidence_types),
        "fields": ",".join(read_fields(shown)),
        "outcome": "read",
        "resolution": "",
    }
    return keys.access_log(keys.event_partition(subject_hash), subject_hash), line


def record_reads(store: Store, lines: list[tuple[str, dict[str, str]]]) -> None:
    """Write the lines of one answer (a page may show several people's data) in one round trip."""
    if lines:
        store.record_many([(stream, line, None) for stream, line in lines], [])


def record_case_read(
    store: Store, record: Mapping[str, Any], at: str, reader: str, shown: list[dict], whole: bool = False
) -> None:
    """The lines of an answer about one case that carried data in ``shown``: one in each party's log, naming
    that party's materials (a company's representative sees the reads of their own identity). ``whole``: the
    answer was the whole case file (an archive package), a line for every party whatever it showed."""
    case = Case.from_record(record)
    by_party: dict[str, list[dict]] = {party: [] for party in case.parties} if whole else {}
    for material in shown:
        by_party.setdefault(case.subject_of(material.get("party") or APPLICANT), []).append(material)
    lines = [
        read_line(subject, at, reader, case.id, case.service_item, materials)
        for subject, materials in by_party.items()
        if whole or any(m.get("data") for m in materials)
    ]
    record_reads(store, lines)


def record_read(
    store: Store, subject_hash: str, at: str, agency: str, application: str, service_item: str, shown: list[dict]
) -> None:
    """The line of an answer about one case that carried the subject's data in ``shown``."""
    record_reads(store, [read_line(subject_hash, at, agency, application, service_item, shown)])


def record_file_read(
    store: Store, subject_hash: str, at: str, agency: str, application: str, service_item: str, material: str
) -> None:
    """The line of a caseworker opening a file of the case: one the applicant uploaded for ``material``, or a
    decision document (``material`` is then its reference)."""
    line = {
        "at": at,
        "agency": agency,
        "application": application,
        "service_item": service_item,
        "evidence_types": f"upload:{material}",
        "fields": f"upload:{material}.file",
        "outcome": "read",
        "resolution": "",
    }
    record_reads(store, [(keys.access_log(keys.event_partition(subject_hash), subject_hash), line)])
