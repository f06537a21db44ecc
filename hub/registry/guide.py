"""The public service guide of a service item (regulation Art. 6): materials, process, time limits, where."""

from __future__ import annotations

from typing import Any

from hub.registry.connectors import providers_of
from hub.registry.service_items import get_service_item, implementations_of
from hub.store import keys
from hub.store.client import Store


def _agency_summary(record: dict[str, Any] | None, code: str) -> dict[str, str]:
    if record is None:  # registry references are checked on write; this only guards old data
        return {"code": code, "name": code, "region": ""}
    return {"code": record["code"], "name": record["name"], "region": record["region"]}


def _process(item: dict[str, Any]) -> list[str]:
    """The steps of handling, as keys the pages translate."""
    steps = ["apply_online" if item["online"] and not item["in_person_required"] else "apply_in_person"]
    steps.append("platform_check")
    steps.append("accept")
    if item["co_agencies"]:
        steps.append("joint_processing")
    steps.append("decide")
    if item["produces"]:
        steps.append("issue_licence")
    return steps


def build_guide(store: Store, code: str, version: int | None, apply_url: str | None) -> dict[str, Any]:
    """The guide of one service item version, with agency names and which materials the platform holds.

    ``apply_url`` is where an applicant applies online, if the hub serves such a page.
    """
    item = get_service_item(store, code, version)
    agency_codes = [item["agency"], *item["co_agencies"]]
    agencies = store.get_many_json([keys.agency(c) for c in agency_codes])
    providers = providers_of(store)
    licence = store.get_json(keys.licence_type(item["produces"])) if item["produces"] else None
    can_apply_online = item["online"] and not item["in_person_required"]
    names = {m["code"]: m["name"] for m in item["materials"]}
    return {
        "code": item["code"],
        "name": item["name"],
        "version": item["version"],
        "effective_from": item["effective_from"],
        "legal_basis": item["legal_basis"],
        "region": item["region"],
        "level": item["level"],
        "agency": _agency_summary(agencies[0], item["agency"]),
        "co_agencies": [_agency_summary(a, c) for a, c in zip(agencies[1:], item["co_agencies"], strict=True)],
        "online": item["online"],
        "in_person_required": item["in_person_required"],
        "where_to_apply": {
            "online": apply_url if can_apply_online else None,
            "in_person": item["where_to_apply"],
        },
        "time_limits": {
            "statutory_days": item["statutory_days"],
            "committed_days": item["committed_days"],
            "unit": "working days",
        },
        "materials": [
            {
                "code": m["code"],
                "name": m["name"],
                "required": m["required"],
                "evidence_type": m["evidence_type"],
                "shared": bool(m["evidence_type"] and providers.get(m["evidence_type"])),
                "paper_required": m["paper_required"],
                "description": m["description"],
            }
            for m in item["materials"]
        ],
        "process": _process(item),
        "form_checks": [  # which answers the platform checks against whose data (Art. 9)
            check | {"material_name": names.get(check["material"], "")} for check in item.get("form_checks") or []
        ],
        "fee": item.get("fee"),  # None: free of charge
        "conditions": item.get("conditions"),
        "contact": item.get("contact"),
        "complaint_line": item.get("complaint_line"),
        "ends": (
            {"on": item["ends_on"], "kind": item["end_kind"], "successor": item.get("successor")}
            if item.get("ends_on")
            else None
        ),
        "implementations": implementations_of(store, item["code"]) if item.get("entry_type") == "catalogue" else [],
        "produces": {"code": licence["code"], "name": licence["name"]} if licence else None,
    }
