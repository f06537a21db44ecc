"""Connector records: which agency's data source provides which evidence types, and how to reach it.

This module keeps the records only; the connector kinds that act on them live in ``connectors/``.
A connector is registered inactive, so that an operator tests it before it serves resolution.
"""

from __future__ import annotations

import uuid
from typing import Any

from hub.audit import log as audit
from hub.context import Context, now, rfc3339
from hub.errors import Conflict, NotFound
from hub.registry import records
from hub.registry.credentials import with_credentials
from hub.registry.references import ReferenceCheck
from hub.store import keys
from hub.store.client import Store, Tx

CONNECTION_FIELDS = ("agency", "kind", "provides", "config", "timeout_ms")


def check_references(store: Store, data: dict[str, Any]) -> None:
    """Refuse a connector naming unknown records before its config is checked (which may resolve hosts)."""
    store.atomic(lambda tx: _check_references(tx, data))


def _check_references(tx: Tx, data: dict[str, Any]) -> None:
    check = ReferenceCheck(tx)
    check.require("agency", "agency", data["agency"])
    for code in data["provides"]:
        check.require("provides", "evidence type", code)
    if len(set(data["provides"])) != len(data["provides"]):
        check.add("provides", "List each evidence type once.")
    check.raise_if_any(f"Connector {data['id']!r}")


def put_connector(tx: Tx, ctx: Context, data: dict[str, Any], replace: bool = False) -> str:
    """Write a connector record after checking its agency and evidence types exist."""
    _check_references(tx, data)
    existing = tx.get_json(keys.connector(data["id"])) or {}
    # Activation and the last test hold only for the configuration they were made with.
    same = all(existing.get(name) == data[name] for name in CONNECTION_FIELDS)
    state = {"active": existing.get("active", False), "last_test": existing.get("last_test")} if same else {}
    record = records.stamped({**data, "active": False, "last_test": None, **state}, ctx)
    # Credentials (header values, a TLS client key): the audit log records that they changed, not what they are.
    redacted_config = with_credentials(record["config"], lambda value: "[redacted]")
    redacted = {**record, "config": redacted_config}
    outcome = records.put(
        tx,
        ctx,
        "connector",
        keys.connector(data["id"]),
        keys.connector_index(),
        data["id"],
        record,
        replace,
        audit_detail=redacted if redacted_config != record["config"] else None,
    )
    if outcome != "unchanged":
        _mark_changed(tx)
    return outcome


def _mark_changed(tx: Tx) -> None:
    """In every transaction that changes a connector record: workers then read the list again (a random
    marker, not a counter, so a store emptied or restored never repeats the one a worker holds)."""
    tx.set_json(keys.connectors_changed(), uuid.uuid4().hex)


def create_connector(store: Store, ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    return records.create(store, lambda tx: put_connector(tx, ctx, data), keys.connector(data["id"]))


def get_connector(store: Store, connector_id: str) -> dict[str, Any]:
    return records.get(store, "connector", keys.connector(connector_id), connector_id)


def record_test(store: Store, ctx: Context, connector_id: str, result: dict[str, Any]) -> None:
    """Keep the outcome of an operator's test on the connector, audited."""

    def work(tx: Tx) -> None:
        record = tx.get_json(keys.connector(connector_id))
        if record is None:
            raise NotFound(f"No connector {connector_id!r}.")
        last_test = {"at": rfc3339(now()), "ok": result["ok"], "latency_ms": result["latency_ms"]}
        tx.set_json(keys.connector(connector_id), {**record, "last_test": last_test})
        _mark_changed(tx)
        audit.append(tx, keys.REGISTRY, ctx, "connector.test", f"connector:{connector_id}", last_test)

    store.atomic(work)


def set_active(store: Store, ctx: Context, connector_id: str, active: bool) -> dict[str, Any]:
    """Activate a connector that passed its last test, or deactivate one."""

    def work(tx: Tx) -> dict[str, Any]:
        record = tx.get_json(keys.connector(connector_id))
        if record is None:
            raise NotFound(f"No connector {connector_id!r}.")
        if active and not (record.get("last_test") or {}).get("ok"):
            raise Conflict(f"Test connector {connector_id!r} successfully before activating it.")
        if record.get("active") == active:
            return record
        updated = {**record, "active": active}
        tx.set_json(keys.connector(connector_id), updated)
        _mark_changed(tx)
        action = "connector.activate" if active else "connector.deactivate"
        audit.append(tx, keys.REGISTRY, ctx, action, f"connector:{connector_id}", None)
        return updated

    return store.atomic(work)


def list_connectors(store: Store, limit: int, cursor: str | None) -> dict:
    return records.listing(store, keys.connector_index(), keys.connector, limit, cursor)


def providers_of(store: Store) -> dict[str, list[str]]:
    """Evidence type code -> ids of the connectors that provide it; a licence type the hub issues is provided by
    its own register (``licences.<code>``) when no connector provides it."""
    result: dict[str, list[str]] = {}
    after = None
    while True:
        ids = store.index_page(keys.connector_index(), after, 500)
        for record in store.get_many_json([keys.connector(i) for i in ids]):
            for code in (record or {}).get("provides", []):
                result.setdefault(code, []).append(record["id"])
        if len(ids) < 500:
            break
        after = ids[-1]
    for code in store.index_page(keys.licence_type_index(), None, 100_000):
        result.setdefault(code, [f"licences.{code}"])
    return result
