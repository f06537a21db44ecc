"""Service items: the versioned catalogue of what applicants can apply for (regulation Art. 5-7).

Each code keeps every version in a list; posting a code again appends version N+1, so a case can
always be read against the version in force when it was submitted. ``entry_type`` separates the
provincial catalogue (list of contents) from implementation entries, and the region code's level
(GB/T 2260: ``XX0000`` province, ``XXYY00`` city, else county) marks city and county supplements.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from hub.audit import log as audit
from hub.context import Context
from hub.errors import Conflict, NotFound
from hub.http import json_answers
from hub.http.paging import decode_cursor, page
from hub.registry import records
from hub.registry.references import ReferenceCheck
from hub.registry.service_item_schemas import ServiceItemSchema
from hub.store import keys, outcomes
from hub.store.client import Store, Tx
from hub.store.request_counts import ReadAhead

_ANSWER_SCHEMA = ServiceItemSchema()


def level_of(region: str) -> str:
    """'province', 'city' or 'county' for a GB/T 2260 region code."""
    if region.endswith("0000"):
        return "province"
    if region.endswith("00"):
        return "city"
    return "county"


def _check_references(tx: Tx, data: dict[str, Any]) -> None:
    check = ReferenceCheck(tx)
    check.require("agency", "agency", data["agency"])
    for code in data["co_agencies"]:
        check.require("co_agencies", "agency", code)
    check.require("produces", "licence type", data["produces"])
    for material in data["materials"]:
        check.require("materials", "evidence type", material["evidence_type"])
        if material.get("fields") is not None:
            evidence_type = tx.get_json(keys.evidence_type(material["evidence_type"])) or {"fields": {}}
            for name in material["fields"]:
                if name not in evidence_type["fields"]:
                    check.add("materials", f"{material['evidence_type']!r} has no field {name!r}.")
    evidence_of = {m["code"]: m["evidence_type"] for m in data["materials"]}
    for form_check in data.get("form_checks") or []:
        evidence_type = tx.get_json(keys.evidence_type(evidence_of.get(form_check["material"]) or "")) or {}
        if evidence_type and form_check["field"] not in evidence_type.get("fields", {}):
            check.add("form_checks", f"{evidence_type['code']!r} has no field {form_check['field']!r}.")
    if data.get("successor") and tx.list_last_json(keys.service_item_versions(data["successor"])) is None:
        check.add("successor", f"Unknown service item {data['successor']!r}.")
    if data["catalogue_code"] is not None:
        catalogue = tx.list_last_json(keys.service_item_versions(data["catalogue_code"]))
        if catalogue is None:
            check.add("catalogue_code", f"Unknown service item {data['catalogue_code']!r}.")
        elif catalogue["entry_type"] != "catalogue":
            check.add("catalogue_code", f"{data['catalogue_code']!r} is not a catalogue entry.")
    check.raise_if_any(f"Service item {data['code']!r}")


def put_service_item(tx: Tx, ctx: Context, data: dict[str, Any], today: date, only_if_changed: bool = False) -> str:
    """Append a new version of a service item; 'created', 'updated', or 'unchanged' (import only)."""
    _check_references(tx, data)
    versions_key = keys.service_item_versions(data["code"])
    latest = tx.list_last_json(versions_key)
    effective_from = data["effective_from"] or today
    content = {
        **data,
        "effective_from": effective_from.isoformat() if isinstance(effective_from, date) else effective_from,
        "ends_on": data["ends_on"].isoformat() if isinstance(data.get("ends_on"), date) else data.get("ends_on"),
        "level": level_of(data["region"]),
        "supplementary": level_of(data["region"]) != "province",
    }
    if latest is not None and latest["entry_type"] != content["entry_type"]:
        raise Conflict(f"{data['code']!r} is a {latest['entry_type']} entry; a new version cannot change that.")
    if only_if_changed and latest is not None:
        # A file that does not say when a version takes effect means "as stored", not "from today".
        compared = (
            {**content, "effective_from": latest["effective_from"]} if data["effective_from"] is None else content
        )
        if records.content_of(latest) == compared:
            return "unchanged"
    version = 1 if latest is None else latest["version"] + 1
    if latest is None:
        records.claim_code(tx, "service-item", keys.service_item_index(), data["code"])
    record = records.stamped({**content, "version": version}, ctx)
    tx.list_push_json(versions_key, record)
    tx.hash_replace(keys.service_item_answer(data["code"]), {"version": str(version), "body": answer_of(record)})
    tx.index_add(keys.service_item_index(), data["code"])
    tx.index_add(keys.service_item_region_index(data["region"]), data["code"])
    if latest is not None and latest["region"] != data["region"]:
        tx.index_remove(keys.service_item_region_index(latest["region"]), data["code"])
    if latest is not None and latest.get("catalogue_code") not in (None, data["catalogue_code"]):
        tx.index_remove(keys.service_item_implementations(latest["catalogue_code"]), data["code"])
    if data["catalogue_code"] is not None:
        tx.index_add(keys.service_item_implementations(data["catalogue_code"]), data["code"])
    audit.append(
        tx,
        keys.REGISTRY,
        ctx,
        "service-item.create" if version == 1 else "service-item.new-version",
        f"service-item:{data['code']}@{version}",
        records.content_of(record),
    )
    return "created" if version == 1 else "updated"


def create_service_item(store: Store, ctx: Context, data: dict[str, Any], today: date) -> dict[str, Any]:
    """Register a service item, or its next version if the code exists."""
    versions_key = keys.service_item_versions(data["code"])

    def work(tx: Tx) -> dict[str, Any] | int:
        latest = tx.list_last_json(versions_key)
        version = 1 if latest is None else latest["version"] + 1
        made_before = outcomes.note(tx, ctx, keys.REGISTRY, f"{data['code']}@{version}")
        if made_before is not None:  # a retry after the first try committed and its worker died
            return int(made_before.rpartition("@")[2])
        put_service_item(tx, ctx, data, today)
        return tx.list_last_json(versions_key)  # the version this call wrote

    made = store.atomic(work)
    return get_service_item(store, data["code"], made) if isinstance(made, int) else made


def answer_of(record: dict[str, Any]) -> str:
    """A version's public answer as ``GET /api/v1/service-items/{code}`` sends it: dumped by its schema, encoded
    as every JSON answer is (:mod:`hub.http.json_answers`)."""
    return json_answers.encode(_ANSWER_SCHEMA.dump(record))


def answer_ahead(code: str) -> ReadAhead:
    """The read of a service item's kept answer, for making it ahead (:func:`kept_answer`)."""
    return ReadAhead(keys.service_item_answer(code))


def kept_answer(store: Store, code: str, already_read: Mapping[str, Any] | None = None) -> str | None:
    """The newest version's public answer, kept ready by the write that made it (``already_read`` may hold it,
    read ahead, by key); None for an item last written before answers were kept, or no such item."""
    key = keys.service_item_answer(code)
    kept = (already_read or {}).get(key)
    if kept is None:
        kept = store.hash_get_all(key)
    return kept.get("body") or None


def keep_missing_answers(store: Store, batch: int = 500) -> int:
    """Keep the newest version's answer of every service item that has none (last written before answers were
    kept); how many. Each item in its own transaction, which a new version written meanwhile makes run again:
    safe while serving."""
    kept, after = 0, None
    while True:
        codes = store.index_page(keys.service_item_index(), after, batch)
        for code in codes:
            kept += store.atomic(lambda tx, code=code: _keep_if_missing(tx, code))
        if len(codes) < batch:
            return kept
        after = codes[-1]


def _keep_if_missing(tx: Tx, code: str) -> int:
    latest = tx.list_last_json(keys.service_item_versions(code))
    if latest is None or tx.exists(keys.service_item_answer(code)):
        return 0
    tx.hash_replace(keys.service_item_answer(code), {"version": str(latest["version"]), "body": answer_of(latest)})
    return 1


def get_service_item(store: Store, code: str, version: int | None = None) -> dict[str, Any]:
    """The newest version of a service item, or version ``version``."""
    key = keys.service_item_versions(code)
    record = store.list_get_json(key, -1 if version is None else version - 1)
    if record is None or (version is not None and record["version"] != version):
        which = f" version {version}" if version is not None else ""
        raise NotFound(f"No service item {code!r}{which}.")
    return record


def list_versions(store: Store, code: str) -> list[dict[str, Any]]:
    """Every version of a service item, oldest first."""
    versions = store.list_all_json(keys.service_item_versions(code))
    if not versions:
        raise NotFound(f"No service item {code!r}.")
    return versions


def list_service_items(store: Store, limit: int, cursor: str | None, region: str | None = None) -> dict:
    """A page of service items (newest versions), optionally of one region."""
    index = keys.service_item_region_index(region) if region else keys.service_item_index()
    codes = store.index_page(index, decode_cursor(cursor), limit + 1)
    items = store.list_last_many_json([keys.service_item_versions(code) for code in codes])
    return page([item for item in items if item is not None], limit, lambda item: item["code"])


def search(
    store: Store, limit: int, cursor: str | None, region: str | None, text: str | None, agency: str | None
) -> dict:
    """A page of service items whose code or name holds ``text`` (any case), led by ``agency`` and of ``region``
    when given, by code."""
    wanted, found, after = (text or "").casefold(), [], decode_cursor(cursor)
    index = keys.service_item_region_index(region) if region else keys.service_item_index()
    while len(found) <= limit:
        codes = store.index_page(index, after, 500)
        if not codes:
            break
        for item in store.list_last_many_json([keys.service_item_versions(code) for code in codes]):
            if item is None or (agency and item["agency"] != agency):
                continue
            if wanted in item["code"].casefold() or wanted in item["name"].casefold():
                found.append(item)
        after = codes[-1]
    return page(found[: limit + 1], limit, lambda item: item["code"])


def ended(item: dict[str, Any], today: date) -> bool:
    """Whether an item version has been withdrawn or abolished by ``today``."""
    return bool(item.get("ends_on")) and date.fromisoformat(item["ends_on"]) <= today


def implementations_of(store: Store, catalogue_code: str) -> list[str]:
    """The codes of the implementation items that implement a catalogue entry, in order."""
    return store.index_page(keys.service_item_implementations(catalogue_code), None, 10_000)
