"""Who may have a licence's sealed PDF (the one rule the API and the applicant pages both apply), every handing
over of a licence in its holder's access log, and the licences a holder has, for their own pages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.api import Subject
from hub.context import rfc3339
from hub.errors import Forbidden, NotFound
from hub.licences import register
from hub.resolution import access_log
from hub.store import keys

if TYPE_CHECKING:
    from hub.state import HubState


def record_for_reader(
    state: HubState, number: str, agency: str | None, roles: frozenset[str], holder: Subject | None
) -> dict[str, Any]:
    """A licence's record, for its issuer, the operator (no agency), or a portal acting for ``holder``;
    Forbidden for anyone else (another agency naming the holder too: it did not issue it)."""
    record = register.get_record(state, number)
    issuer_or_operator = bool(roles & {"agency", "operator"}) and agency in (None, record["issuer"])
    for_holder = "portal" in roles and holder is not None and register.held_by(state, record, holder.id_type, holder.id)
    if not issuer_or_operator and not for_holder:
        raise Forbidden(f"Licence {record['number']} is for its issuer, or a portal acting for its holder.")
    return record


def pdf_for_reader(
    state: HubState, number: str, agency: str | None, roles: frozenset[str], holder: Subject | None
) -> tuple[dict[str, Any], bytes]:
    """A licence's record and sealed PDF, for whom :func:`record_for_reader` allows."""
    record = record_for_reader(state, number, agency, roles, holder)
    return record, register.pdf(state, record["number"])


def ofd_for_reader(
    state: HubState, number: str, agency: str | None, roles: frozenset[str], holder: Subject | None
) -> tuple[dict[str, Any], bytes]:
    """A licence's record and sealed OFD, for whom :func:`record_for_reader` allows; NotFound when its type
    issues no OFD (or did not when this version was sealed)."""
    record = record_for_reader(state, number, agency, roles, holder)
    if not record.get("ofd_sha256"):
        raise NotFound(f"licence {record['number']} has no OFD: its type issues PDF only (or did when it was sealed)")
    content = state.store.document(record["ofd_sha256"])
    if content is None:
        raise NotFound(f"the OFD of licence {record['number']} is missing")
    return record, content


def log_reads(
    state: HubState,
    records: list[dict[str, Any]],
    reader: str,
    application: str = "",
    fields: set[str] | None = None,
) -> None:
    """Each licence record (or PDF) handed to ``reader`` shows its holder's name and fields (only ``fields``,
    when given): a line in the holder's access log, as any read of a person's data is, naming what it served
    (``application``: a case, or ``grant:<id>``)."""
    at = rfc3339(state.clock.now())
    lines = []
    for record in records:
        shown_fields = {name: True for name in record.get("fields", {}) if fields is None or name in fields}
        holder = {"holder_name": True, "holder_id_masked": True}
        shown = [{"evidence_type": record["type"], "data": {**holder, **shown_fields}}]
        lines.append(access_log.read_line(record["holder"]["subject_hash"], at, reader, application, "", shown))
    access_log.record_reads(state.store, lines)


def held_by_subject(state: HubState, subject_hash: str) -> list[dict[str, Any]]:
    """Every licence a person or organisation holds, of every type, newest first: for their own pages."""
    found: list[dict[str, Any]] = []
    for type_code in state.store.index_page(keys.licence_type_index(), None, 10_000):
        numbers = state.store.index_page(keys.licence_holder_index(type_code, subject_hash), None, 1000)
        records = state.store.get_many_json([keys.licence(type_code, n) for n in numbers])
        found += [register.with_effective_status(state, record) for record in records if record]
    return sorted(found, key=lambda record: record["issued_at"], reverse=True)
