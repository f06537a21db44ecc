"""Discrepancies (regulation Art. 9): a form value that contradicts the platform's data for the field the item
maps it to (its ``form_checks``: never by name alone).

The application records it, and the agency that provided the data (the owner of the connector that
supplied the value) gets it in its queue to check and correct its records. Each discrepancy lives in
the owner's partition with its own audit chain; the application keeps their ids and gets a timeline
line when one is settled (:mod:`hub.intake.corrections`).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from hub.audit import log as audit
from hub.context import Context, rfc3339
from hub.errors import Conflict, Forbidden, NotFound
from hub.intake import cases
from hub.resolution import access_log
from hub.resolution.case import APPLICANT, Case
from hub.store import case_keys
from hub.store.client import Tx

if TYPE_CHECKING:
    from hub.state import HubState

OPEN, SETTLED = "open", "settled"
OUTCOMES = ("corrected", "confirmed")  # the source fixed its data, or its data was right


def find(form: dict[str, Any], materials: list[dict[str, Any]], checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every check where the applicant's form says one thing and the resolved material another."""
    by_code = {m["code"]: m for m in materials}
    found = []
    for check in checks:
        material = by_code.get(check["material"])
        if material is None or material["status"] != "resolved" or not material["data"]:
            continue
        field, answer = check["field"], form.get(check["form_field"])
        if answer is None or field not in material["data"]:
            continue
        platform_value = material["data"][field]
        if _normalised(answer) != _normalised(platform_value):
            found.append(
                {
                    "material": material["code"],
                    "evidence_type": material["evidence_type"],
                    "field": field,
                    "form_field": check["form_field"],
                    "form_value": answer,
                    "platform_value": platform_value,
                    "agency": material["source"]["agency"],
                    "connector": material["source"]["connector"],
                }
            )
    return found


def _normalised(value: Any) -> str:
    return " ".join(str(value).split()).casefold()


def record(state: HubState, ctx: Context, case: dict[str, Any], found: list[dict[str, Any]]) -> list[str]:
    """File each discrepancy of the application ``case`` with its providing agency; their ids. Filing the same
    ones again for the same application (a retry that finishes an interrupted submission) files nothing new."""
    application_id = case["id"]
    parties = Case.from_record(case)
    party_of = parties.party_of or {}
    ids = []
    for item in found:
        # The id follows from what it is about, so a second filing finds the first.
        about = f"{application_id}\n{item['material']}\n{item['field']}"
        discrepancy_id = f"disc.{item['agency']}.{hashlib.sha256(about.encode()).hexdigest()[:20]}"
        entry = {
            **item,
            "id": discrepancy_id,
            "application": application_id,
            "service_item": case["service_item"],
            "subject": parties.subject_of(party_of.get(item["material"], APPLICANT)),  # whose values: for their log
            "status": OPEN,
            "created_at": rfc3339(state.clock.now()),
            "settlement": None,
        }

        def work(tx: Tx, entry: dict[str, Any] = entry) -> None:
            agency = entry["agency"]
            if tx.exists(case_keys.discrepancy(agency, entry["id"])):
                return
            tx.set_json(case_keys.discrepancy(agency, entry["id"]), entry)
            tx.index_add(case_keys.discrepancy_open(agency), entry["id"])
            detail = {"application": application_id, "field": entry["field"], "evidence_type": entry["evidence_type"]}
            audit.append(
                tx,
                case_keys.discrepancy_partition(agency),
                ctx,
                "discrepancy.open",
                f"discrepancy:{entry['id']}",
                detail,
            )

        state.store.atomic(work)
        ids.append(discrepancy_id)
    return ids


def agency_of(discrepancy_id: str) -> str:
    prefix, _, rest = discrepancy_id.partition(".")
    agency, _, token = rest.rpartition(".")
    if prefix != "disc" or not agency or len(token) != 20:
        raise NotFound(f"No discrepancy {discrepancy_id!r}.")
    return agency


def open_for(state: HubState, agency: str, limit: int, cursor: str | None) -> dict[str, Any]:
    """The agency's open discrepancies, oldest id first."""
    ids = state.store.index_page(case_keys.discrepancy_open(agency), cursor, limit + 1)
    records = [r for r in state.store.get_many_json([case_keys.discrepancy(agency, i) for i in ids[:limit]]) if r]
    _log_reads(state, agency, records)
    return {"items": records, "next": ids[limit - 1] if len(ids) > limit else None}


def open_summaries(state: HubState, agency: str, limit: int) -> list[dict[str, Any]]:
    """The agency's open discrepancies without either value (what a list shows: no read of anyone's data)."""
    ids = state.store.index_page(case_keys.discrepancy_open(agency), None, limit)
    records = [r for r in state.store.get_many_json([case_keys.discrepancy(agency, i) for i in ids]) if r]
    kept = ("id", "application", "service_item", "material", "evidence_type", "field", "form_field", "created_at")
    return [{name: record.get(name) for name in kept} for record in records]


def _log_reads(state: HubState, agency: str, entries: list[dict[str, Any]]) -> None:
    """A discrepancy shows the applicant's claim and the platform's value: a read in the applicant's log."""
    at, lines = rfc3339(state.clock.now()), []
    for entry in entries:
        if entry.get("subject"):  # filed before discrepancies named their applicant: nobody to tell
            shown = [{"evidence_type": entry["evidence_type"], "data": {entry["field"]: entry["platform_value"]}}]
            item = entry.get("service_item", "")
            lines.append(access_log.read_line(entry["subject"], at, agency, entry["application"], item, shown))
    access_log.record_reads(state.store, lines)


def settle(state: HubState, ctx: Context, agency: str, discrepancy_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The providing agency says it corrected its data, or that its data was right."""
    owner = agency_of(discrepancy_id)
    if agency != owner:
        raise Forbidden(f"Discrepancy {discrepancy_id} is for {owner!r} to settle.")

    def work(tx: Tx) -> dict[str, Any]:
        entry = tx.get_json(case_keys.discrepancy(owner, discrepancy_id))
        if entry is None:
            raise NotFound(f"No discrepancy {discrepancy_id!r}.")
        if entry["status"] != OPEN:
            raise Conflict(f"Discrepancy {discrepancy_id} is settled already.")
        settlement = {
            "outcome": body["outcome"],
            "note": body.get("note"),
            "at": rfc3339(state.clock.now()),
            "by": ctx.actor,
        }
        entry.update(status=SETTLED, settlement=settlement)
        tx.set_json(case_keys.discrepancy(owner, discrepancy_id), entry)
        tx.index_remove(case_keys.discrepancy_open(owner), discrepancy_id)
        audit.append(
            tx,
            case_keys.discrepancy_partition(owner),
            ctx,
            "discrepancy.settle",
            f"discrepancy:{discrepancy_id}",
            settlement,
        )
        return entry

    entry = state.store.atomic(work)
    _log_reads(state, agency, [entry])
    return entry


def material_of(state: HubState, agency: str, discrepancy_id: str) -> dict[str, Any]:
    """For the owner of a discrepancy's data: the material of the case it is about, as the case holds it (a read
    in the applicant's access log)."""
    owner = agency_of(discrepancy_id)
    if agency != owner:
        raise Forbidden(f"Discrepancy {discrepancy_id} is about {owner!r}'s data.")
    entry = state.store.get_json(case_keys.discrepancy(owner, discrepancy_id))
    case = None
    if entry is not None:
        application = entry["application"]
        case = state.store.get_json(case_keys.application(cases.agency_of(application), application))
    if entry is None or case is None:
        raise NotFound(f"No discrepancy {discrepancy_id!r}.")
    material = next(m for m in case["materials"] if m["code"] == entry["material"])
    shown = {k: material[k] for k in ("code", "name", "evidence_type", "status", "source", "data")}
    if entry.get("subject") and shown["data"]:
        line = access_log.read_line(
            entry["subject"], rfc3339(state.clock.now()), agency, case["id"], case["service_item"], [shown]
        )
        access_log.record_reads(state.store, [line])
    return {"discrepancy": entry, "application": case["id"], "service_item": case["service_item"], "material": shown}
