"""Evidence types (what proof is made of) and licence types (each also an evidence type)."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from hub.context import Context
from hub.errors import Conflict, Invalid
from hub.registry import records
from hub.registry.references import ReferenceCheck
from hub.store import keys
from hub.store.client import Store, Tx

# What a licence adds as proof beyond its own fields: which licence, and until when it is in force.
LICENCE_EVIDENCE_FIELDS = {
    "licence_number": {"type": "string", "required": True},
    "valid_until": {"type": "date", "required": True},
}


def put_evidence_type(tx: Tx, ctx: Context, data: dict[str, Any], replace: bool = False) -> str:
    """Write an evidence type; a licence type's evidence type cannot be overwritten here."""
    existing = tx.get_json(keys.evidence_type(data["code"]))
    if existing and existing.get("licence_type"):
        raise Conflict(f"{data['code']!r} is a licence type's evidence type; change the licence type instead.")
    record = records.stamped({**data, "licence_type": False}, ctx)
    key = keys.evidence_type(data["code"])
    return records.put(tx, ctx, "evidence-type", key, keys.evidence_type_index(), data["code"], record, replace)


def put_licence_type(tx: Tx, ctx: Context, data: dict[str, Any], replace: bool = False) -> str:
    """Write a licence type and the evidence type of the same code that stands for it in resolution."""
    check = ReferenceCheck(tx)
    check.require("issuer", "agency", data["issuer"])
    check.raise_if_any(f"Licence type {data['code']!r}")
    existing_evidence = tx.get_json(keys.evidence_type(data["code"]))
    if existing_evidence and not existing_evidence.get("licence_type"):
        raise Conflict(f"An evidence type {data['code']!r} exists already and is not a licence type.")
    outcome = records.put(
        tx,
        ctx,
        "licence-type",
        keys.licence_type(data["code"]),
        keys.licence_type_index(),
        data["code"],
        records.stamped(data, ctx),
        replace,
    )
    if outcome != "unchanged":
        records.claim_code(tx, "evidence-type", keys.evidence_type_index(), data["code"])
        evidence = {
            "code": data["code"],
            "name": data["name"],
            "fields": {**data["fields"], **LICENCE_EVIDENCE_FIELDS},
            "licence_type": True,
        }
        tx.set_json(keys.evidence_type(data["code"]), records.stamped(evidence, ctx))
        tx.index_add(keys.evidence_type_index(), data["code"])
    return outcome


def check_formats(data: dict[str, Any], sm2_keys_allowed: bool) -> None:
    """Invalid for a licence type that asks for OFD on a hub that may not make the SM2 seal keys that seal it
    (its seal keys are on a PKCS#11 token, which holds no SM2, and HUB_SM2_SOFTWARE_KEYS does not allow software)."""
    if "ofd" in data.get("formats", ["pdf"]) and not sm2_keys_allowed:
        raise Invalid(
            "This hub keeps its seal keys on a PKCS#11 token, which cannot hold the SM2 keys OFD licences are sealed "
            "with: issue PDF only, or set HUB_SM2_SOFTWARE_KEYS=1 to keep SM2 seal keys in software.",
            errors={"formats": ["OFD needs SM2 seal keys, which this hub's token cannot hold."]},
        )


def create_evidence_type(store: Store, ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    return records.create(store, lambda tx: put_evidence_type(tx, ctx, data), keys.evidence_type(data["code"]))


def create_licence_type(store: Store, ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    return records.create(store, lambda tx: put_licence_type(tx, ctx, data), keys.licence_type(data["code"]))


def get_evidence_type(store: Store, code: str) -> dict[str, Any]:
    return records.get(store, "evidence type", keys.evidence_type(code), code)


def get_licence_type(store: Store, code: str) -> dict[str, Any]:
    return records.get(store, "licence type", keys.licence_type(code), code)


def list_evidence_types(store: Store, limit: int, cursor: str | None) -> dict:
    return records.listing(store, keys.evidence_type_index(), keys.evidence_type, limit, cursor)


def list_licence_types(store: Store, limit: int, cursor: str | None) -> dict:
    return records.listing(store, keys.licence_type_index(), keys.licence_type, limit, cursor)


def check_values(declared: dict[str, dict[str, Any]], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` checked against a type's declared fields (types, required, no unknown names), dates as
    ISO text; Invalid listing every problem at once."""
    errors: dict[str, list[str]] = {}
    checked: dict[str, Any] = {}
    for name in sorted(set(values) - set(declared)):
        errors[name] = ["Not a field of this type."]
    for name, spec in declared.items():
        value = values.get(name)
        if value is None:
            if spec.get("required"):
                errors[name] = ["Missing data for required field."]
            continue
        problem = _value_problem(spec.get("type", "string"), value)
        if problem:
            errors[name] = [problem]
        else:
            checked[name] = value
    if errors:
        raise Invalid("Some fields do not fit the type.", errors={f"fields.{k}": v for k, v in errors.items()})
    return checked


def _value_problem(kind: str, value: Any) -> str | None:
    if kind == "string":
        return None if isinstance(value, str) and 0 < len(value) <= 2000 else "Not a string of 1-2000 characters."
    if kind == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        return None if ok else "Not a number."
    if kind == "boolean":
        return None if isinstance(value, bool) else "Not a boolean."
    if kind == "date":
        try:
            date.fromisoformat(value)
        except (TypeError, ValueError):
            return "Not a date (YYYY-MM-DD)."
        return None
    return f"Unknown field type {kind!r}."
