"""A discrepancy settled by the owner of the data (Art. 9), and what follows for the case it was found in.

``confirmed``: the platform's data was right; the case's timeline says so. ``corrected``: the owner fixed
its records, so the hub drops any cached answer of that evidence type for the applicant and fetches the
material again for the case (:mod:`hub.intake.refetch`); the timeline line names the new value, which a
reader sees only where the policies let it see that material (:mod:`hub.intake.disclosure`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.context import Context
from hub.errors import Conflict
from hub.intake import discrepancies, refetch
from hub.intake.cases import add_to_timeline
from hub.sources import evidence_cache

if TYPE_CHECKING:
    from hub.state import HubState


def settle(state: HubState, ctx: Context, agency: str, discrepancy_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The owner says it corrected its data, or that its data was right; the case follows."""
    entry = discrepancies.settle(state, ctx, agency, discrepancy_id, body)
    outcome, note = body["outcome"], body.get("note")
    line: dict[str, Any] = {
        "at": entry["settlement"]["at"],
        "type": "discrepancy.settled",
        "by": ctx.actor,
        "reason": f"{entry['material']}.{entry['field']}: {outcome}" + (f" ({note})" if note else ""),
        "deadline": None,
        "material": entry["material"],
        "field": entry["field"],
    }
    if outcome == "corrected" and entry.get("subject"):
        providers = state.sources.provider_agencies(entry["evidence_type"])
        evidence_cache.forget(state.store, ctx, agency, providers, entry["evidence_type"], entry["subject"])
        try:
            record = refetch.refetch(state, ctx, entry["application"], [entry["material"]], f"corrected by {agency}")
        except Conflict:  # decided meanwhile, or filed before the hub kept whom to ask: the note stands alone
            record = None
        material = next((m for m in (record or {}).get("materials", []) if m["code"] == entry["material"]), None)
        if material is not None and material.get("data") and entry["field"] in material["data"]:
            line["value"] = material["data"][entry["field"]]
    add_to_timeline(state, entry["application"], line)
    return entry
