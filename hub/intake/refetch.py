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
from hub.store import keys
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
    found = resolution.resolve(
        state,
        ctx,
        record["agency"],
        Case.from_record(record),
        Subject(record["subject"]["id_type"], record["subject"]["id"]),
        record.get("language", "zh"),
        only={m["evidence_type"] for m in wanted},
    )
    results = {m["code"]: m for m in found["materials"] if m["code"] in {w["code"] for w in wanted}}
    return state.store.atomic(lambda tx: _settle(tx, state, ctx, record, results, found, why))


def _settle(
    tx: Tx,
    state: HubState,
    ctx: Context,
    read: dict[str, Any],
    results: dict[str, dict[str, Any]],
    found: dict[str, Any],
    why: str | None,
) -> dict[str, Any]:
    agency, case = read["agency"], read["id"]
    record = tx.get_json(keys.application(agency, case))
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
    record.setdefault("later_envelopes", []).append(found["envelope"])
    if record["status"] == PENDING_MATERIALS and not record["notice"]["missing"]:
        complete(state, record)
        line = {"at": at, "type": "complete", "by": ctx.actor, "reason": None, "deadline": record["deadline"]}
        record["timeline"].append(line)
    tx.set_json(keys.application(agency, case), record)
    queues.track(tx, state, agency, record)
    audit_case(tx, agency, ctx, "application.refetch", case, {"resolution": found["id"], "materials": changed})
    return record


def retry_unavailable(state: HubState, ctx: Context, agency: str) -> int:
    """The scheduled sweep: fetch again every material of ``agency``'s open cases whose source failed; how
    many cases now have all of theirs."""
    settled = 0
    for case in state.store.index_page(keys.application_unavailable(agency), None, 10_000):
        try:
            record = refetch(state, ctx, case, why="retried by the hub")
        except Conflict:
            continue
        settled += not any(m["status"] == UNAVAILABLE for m in record["materials"])
    return settled
