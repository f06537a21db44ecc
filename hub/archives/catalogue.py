"""The archive register: search the catalogue, read an entry, dispose of archives past their retention.

Each agency's partition holds sorted sets scored by filing time: every case it led or took part in,
and (as lead) its cases by service item and by applicant. A search walks the most selective set of
each agency concerned, newest first, checks the remaining conditions on the entries, and merges.
Disposal happens only once the retention period has run out: the package is deleted, the catalogue
entry stays (with the package's hash, when, by whom and why), the application record keeps only
what identifies the case, and the disposal is an audit entry in the agency's chain.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from connectors.api import Subject
from hub.archives.filing import entry_of, filed_score
from hub.audit import log as audit
from hub.context import Context, rfc3339
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.intake import due
from hub.intake.cases import agency_of
from hub.store import case_keys, keys
from hub.store.client import Tx

if TYPE_CHECKING:
    from hub.state import HubState

# What an application record keeps once its archive is disposed of.
KEPT_AFTER_DISPOSAL = (
    *("id", "service_item", "service_item_name", "version", "agency", "co_agencies"),
    *("status", "created_at", "licence", "archive"),
)


def check_lead_or_operator(record: dict[str, Any], agency: str | None) -> None:
    """A case's package is for its lead agency and the operator."""
    if agency is not None and agency != record["agency"]:
        raise Forbidden(f"The archive of {record['id']} is for its lead agency {record['agency']!r}.")


def get_entry(state: HubState, case: str, agency: str | None) -> dict[str, Any]:
    """One catalogue entry; an agency reads only the cases it led or took part in."""
    entry = entry_of(state, case)
    if entry is None:
        raise NotFound(f"No archive of {case!r}.")
    if agency is not None and not _matches(entry, {"agency": agency}):
        raise Forbidden(f"The archive of {case} is not yours to read.")
    return entry


def search(state: HubState, caller_agency: str | None, query: dict[str, Any]) -> dict[str, Any]:
    """Catalogue entries matching ``query``, newest filed first, a page at a time."""
    wanted = query.get("agency")
    if caller_agency is not None and wanted not in (None, caller_agency):
        raise Forbidden("An agency searches its own archives only.")
    one_agency = wanted or caller_agency
    conditions = {
        "service_item": query.get("service_item"),
        "agency": one_agency,
        "subject_hash": _subject_hash(state, query),
        "from": _ms(state, query.get("archived_from"), end=False),
        "to": _ms(state, query.get("archived_to"), end=True),
    }
    if query.get("case"):
        entry = entry_of(state, query["case"]) if _is_case_id(query["case"]) else None
        return {"items": [entry] if entry is not None and _matches(entry, conditions) else [], "next": None}
    limit, (top, skip_from) = query["limit"], _cursor(query.get("cursor"))
    highest = _ms(state, query.get("archived_to"), end=True)
    if top is not None and (highest is None or top <= highest):
        highest = top
    else:
        skip_from = None  # the cursor lies past the range asked: the range's end bounds the page
    lowest = _ms(state, query.get("archived_from"), end=False)
    rows: list[tuple[float, str, dict[str, Any]]] = []
    for agency in [one_agency] if one_agency else _all_agencies(state):
        # One agency: every case it led or joined. All agencies: each case once, through its lead,
        # using the lead's narrow sets when the query names an applicant or a service item.
        index = case_keys.archives_of(agency) if one_agency else _narrowest(agency, conditions)
        lead = None if one_agency else agency
        rows += _walk(state, index, lead, highest, lowest, skip_from, limit + 1, conditions)
    rows.sort(key=lambda row: (row[0], row[1]), reverse=True)
    page = rows[:limit]
    next_cursor = f"{int(page[-1][0])}:{page[-1][1]}" if len(rows) > limit else None
    return {"items": [entry for _, _, entry in page], "next": next_cursor}


def _narrowest(agency: str, conditions: dict[str, Any]) -> str:
    if conditions["subject_hash"] is not None:
        return case_keys.archives_by_subject(agency, conditions["subject_hash"])
    if conditions.get("service_item"):
        return case_keys.archives_by_item(agency, conditions["service_item"])
    return case_keys.archives_of(agency)


def _walk(
    state: HubState,
    index: str,
    lead: str | None,
    highest: float | None,
    lowest: float | None,
    skip_from: str | None,
    wanted: int,
    conditions: dict[str, Any],
) -> list[tuple[float, str, dict[str, Any]]]:
    """Up to ``wanted`` matching entries of one set (led by ``lead``, if given), newest first, past the cursor."""
    found: list[tuple[float, str, dict[str, Any]]] = []
    batch = max(wanted, 50)
    while len(found) < wanted:
        fetched = state.store.scored_newest_between(index, highest, lowest, batch)
        # The range includes the cursor's own time: skip the members at that time already shown.
        rows = [(c, score) for c, score in fetched if skip_from is None or score != highest or c < skip_from]
        entries = state.store.get_json_each([case_keys.archive(agency_of(case), case) for case, _ in rows])
        for (case, score), entry in zip(rows, entries, strict=True):
            if entry is not None and (lead is None or entry["agency"] == lead) and _matches(entry, conditions):
                found.append((score, case, entry))
        if len(fetched) < batch or (fetched[-1][1], fetched[-1][0]) == (highest, skip_from):
            break  # the set is exhausted (or a whole batch shares one millisecond: never seen at 50+)
        highest, skip_from = fetched[-1][1], fetched[-1][0]
    return found[:wanted]


def _matches(entry: dict[str, Any], conditions: dict[str, Any]) -> bool:
    if conditions.get("service_item") and entry["service_item"] != conditions["service_item"]:
        return False
    if conditions.get("agency") and conditions["agency"] not in {entry["agency"], *entry["co_agencies"]}:
        return False
    if conditions.get("subject_hash") and entry["subject_hash"] != conditions["subject_hash"]:
        return False
    archived, low, high = filed_score(entry), conditions.get("from"), conditions.get("to")
    return (low is None or archived >= low) and (high is None or archived <= high)


def _ms(state: HubState, day: date | None, end: bool) -> int | None:
    """The first (or, with ``end``, last) millisecond of a day where the province is, as a score."""
    if day is None:
        return None
    start = int(datetime.combine(day, time.min, tzinfo=ZoneInfo(state.settings.timezone)).timestamp() * 1000)
    return start + 86_400_000 - 1 if end else start


def _cursor(cursor: str | None) -> tuple[float | None, str | None]:
    if not cursor:
        return None, None
    score, _, case = cursor.partition(":")
    if not score.isdigit() or not case:
        raise Invalid("Bad cursor.", errors={"cursor": ["Use the 'next' value of the previous page."]})
    return float(score), case


def _subject_hash(state: HubState, query: dict[str, Any]) -> str | None:
    if not query.get("applicant_id"):
        return None
    subject = Subject(query["applicant_id_type"], query["applicant_id"])
    return state.keyring.subject_hash(subject.id_type, subject.id)


def _is_case_id(case: str) -> bool:
    try:
        agency_of(case)
    except NotFound:
        return False
    return True


def _all_agencies(state: HubState) -> list[str]:
    return state.store.index_page(keys.agency_index(), None, 100_000)


# -- retention and disposal
def due_for_disposal(state: HubState, on: date, limit: int) -> list[dict[str, Any]]:
    """Archives whose retention ended before ``on``, not yet disposed of, soonest ended first."""
    highest = due.score(on) - 1
    ended: list[dict[str, Any]] = []
    for agency in _all_agencies(state):
        rows = state.store.scored_up_to(case_keys.archives_by_retention(agency), highest, 0, limit)
        ended += [e for e in state.store.get_json_each([case_keys.archive(agency, case) for case, _ in rows]) if e]
    return sorted(ended, key=lambda entry: entry["retention"]["until"])[:limit]


def dispose(state: HubState, ctx: Context, case: str, reason: str) -> dict[str, Any]:
    """Dispose of one archive whose retention has ended: the package goes, the register remembers it."""
    if not reason.strip():
        raise Invalid("Disposal needs a reason.", errors={"reason": ["Say why (the disposal decision)."]})
    agency, today = agency_of(case), state.today()

    def work(tx: Tx) -> dict[str, Any]:
        entry = tx.get_json(case_keys.archive(agency, case))
        if entry is None:
            raise NotFound(f"No archive of {case!r}.")
        if entry["disposed"] is not None:
            return entry  # disposed of already (a repeat finishes deleting the package, below)
        until = entry["retention"]["until"]
        if until is None or date.fromisoformat(until) >= today:
            kept = "permanently" if until is None else f"until {until}"
            raise Conflict(f"The archive of {case} is kept {kept}; it cannot be disposed of yet.")
        entry["disposed"] = {"at": rfc3339(state.clock.now()), "by": ctx.actor, "reason": reason}
        tx.set_json(case_keys.archive(agency, case), entry)
        tx.index_remove(case_keys.archives_by_retention(agency), case)
        tx.index_remove(case_keys.application_outcomes(agency, entry["service_item"]), case)
        record = tx.get_json(case_keys.application(agency, case))
        if record is not None:
            kept_record = {k: record.get(k) for k in KEPT_AFTER_DISPOSAL} | {"disposed": entry["disposed"]}
            tx.set_json(case_keys.application(agency, case), kept_record)
        tx.delete(case_keys.application_audit(agency, case))
        detail = {"sha256": entry["package"]["sha256"], "reason": reason, "retention_until": until}
        audit.append(tx, case_keys.application_partition(agency), ctx, "archive.dispose", f"application:{case}", detail)
        return entry

    entry = state.store.atomic(work)
    state.store.delete_document(entry["package"]["sha256"])
    return entry


def dispose_due(state: HubState, ctx: Context, on: date, reason: str, limit: int = 1000) -> list[dict[str, Any]]:
    """Dispose of every archive whose retention ended before ``on``."""
    return [dispose(state, ctx, entry["case"], reason) for entry in due_for_disposal(state, on, limit)]
