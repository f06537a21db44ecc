"""Materials fetched again for a running case: those whose sources failed (the lead asks, or the scheduled
sweep retries them), and one whose data owner corrected it (Art. 9).

The case keeps its applicant's identifier, sealed with the record, for this. The lead agency's read is
a resolution of its own (access-logged, audited, with its signed envelope); the materials it settles
change in one transaction with a timeline line that names them and what they became, and a case
that was waiting only for them moves on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.api import Subject
from hub.context import Context, rfc3339
from hub.errors import Conflict
from hub.intake import queues
from hub.intake.applications import PENDING_MATERIALS, UPLOADED, audit_case, complete, get
from hub.resolution import resolver as resolution
from hub.resolution.case import Case
from hub.resolution.notice import notice_for
from hub.store import case_keys
from hub.store.client import Tx

if TYPE_CHECKING:
    from hub.state import HubState

UNAVAILABLE = "unavailable"
CONCLUDED = {"approved", "rejected", "withdrawn"}


def refetch(
    state: HubState, ctx: Context, application_id: str, codes: list[str] | None = None, why: str | None = None
) -> dict[str, Any]:
    """Fetch again the materials ``codes`` names (default: every one whose source failed); the case after."""
    record = get(state, application_id)
    if record["status"] in CONCLUDED:
        raise Conflict(f"Application {application_id} is {record['status']}: nothing is fetched for it any more.")
    wanted = [
        m
        for m in record["materials"]
        if m["evidence_type"] and (m["code"] in codes if codes is not None else m["status"] == UNAVAILABLE)
    ]
    if not wanted:
        return record
    if not record.get("subject"):
        raise Conflict(f"Application {application_id} was filed before the hub kept whom to ask; ask the applicant.")
    case = Case.from_record(record)
    subjects = {case.applicant: Subject(record["subject"]["id_type"], record["subject"]["id"])}
    if case.representative and record.get("representative_subject"):
        person = record["representative_subject"]
        subjects[case.representative] = Subject(person["id_type"], person["id"])
    codes_wanted = {m["code"] for m in wanted}
    results: dict[str, dict[str, Any]] = {}
    made = []
    for subject_hash, subject in subjects.items():
        codes = (case.materials_of(subject_hash) or frozenset(codes_wanted)) & codes_wanted
        if codes:
            found = resolution.resolve(
                state, ctx, record["agency"], case, subject, record.get("language", "zh"), materials=codes
            )
            results |= {m["code"]: m for m in found["materials"] if m["code"] in codes}
            made.append(found)
    return state.store.atomic(lambda tx: _settle(tx, state, ctx, record, results, made, why))


def _settle(
    tx: Tx,
    state: HubState,
    ctx: Context,
    read: dict[str, Any],
    results: dict[str, dict[str, Any]],
    made: list[dict[str, Any]],
    why: str | None,
) -> dict[str, Any]:
    agency, case = read["agency"], read["id"]
    record = tx.get_json(case_keys.application(agency, case))
    if record is None or record["status"] in CONCLUDED:
        raise Conflict(f"Application {case} was decided while its materials were being fetched.")
    changed = []
    for material in record["materials"]:
        result = results.get(material["code"])
        if result is None or material["status"] == UPLOADED:  # the applicant uploaded it meanwhile
            continue
        material.update(status=result["status"], source=result["source"], data=result["data"])
        changed.append(f"{material['code']}: {result['status']}")
    record["notice"] = notice_for(record["materials"], record.get("language", "zh"))
    at = rfc3339(state.clock.now())
    reason = "; ".join(changed) + (f" ({why})" if why else "")
    record["timeline"].append({"at": at, "type": "refetch", "by": ctx.actor, "reason": reason, "deadline": None})
    record.setdefault("later_envelopes", []).extend(found["envelope"] for found in made)
    if record["status"] == PENDING_MATERIALS and not record["notice"]["missing"]:
        complete(state, record)
        line = {"at": at, "type": "complete", "by": ctx.actor, "reason": None, "deadline": record["deadline"]}
        record["timeline"].append(line)
    tx.set_json(case_keys.application(agency, case), record)
    queues.track(tx, state, agency, record)
    detail = {"resolutions": [found["id"] for found in made], "materials": changed}
    audit_case(tx, agency, ctx, "application.refetch", case, detail)
    return record


def retry_unavailable(state: HubState, ctx: Context, agency: str) -> int:
    """The scheduled sweep: fetch again every material of ``agency``'s open cases whose source failed; how
    many cases now have all of theirs."""
    settled = 0
    for case in state.store.index_page(case_keys.application_unavailable(agency), None, 10_000):
        try:
            record = refetch(state, ctx, case, why="retried by the hub")
        except Conflict:
            continue
        settled += not any(m["status"] == UNAVAILABLE for m in record["materials"])
    return settled
