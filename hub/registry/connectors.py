"""Connector records: which agency's data source provides which evidence types, and how to reach it.

This module keeps the records only; the connector kinds that act on them live in ``connectors/``.
A connector is registered inactive, so that an operator tests it before it serves resolution.
"""

from __future__ import annotations

from typing import Any

from .. import keys
from ..context import Context
from ..store import Store, Tx
from . import records
from .references import ReferenceCheck


def put_connector(tx: Tx, ctx: Context, data: dict[str, Any], replace: bool = False) -> str:
    """Write a connector record after checking its agency and evidence types exist."""
    check = ReferenceCheck(tx)
    check.require("agency", "agency", data["agency"])
    for code in data["provides"]:
        check.require("provides", "evidence type", code)
    if len(set(data["provides"])) != len(data["provides"]):
        check.add("provides", "List each evidence type once.")
    check.raise_if_any(f"Connector {data['id']!r}")
    existing = tx.get_json(keys.connector(data["id"]))
    active = bool(existing and existing.get("active"))
    record = records.stamped({**data, "active": active}, ctx)
    return records.put(
        tx, ctx, "connector", keys.connector(data["id"]), keys.connector_index(), data["id"], record, replace
    )


def create_connector(store: Store, ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    store.atomic(lambda tx: put_connector(tx, ctx, data))
    return get_connector(store, data["id"])


def get_connector(store: Store, connector_id: str) -> dict[str, Any]:
    return records.get(store, "connector", keys.connector(connector_id), connector_id)


def list_connectors(store: Store, limit: int, cursor: str | None) -> dict:
    return records.listing(store, keys.connector_index(), keys.connector, limit, cursor)


def providers_of(store: Store) -> dict[str, list[str]]:
    """Evidence type code -> ids of the connectors that provide it."""
    result: dict[str, list[str]] = {}
    after = None
    while True:
        ids = store.index_page(keys.connector_index(), after, 500)
        for record in store.get_many_json([keys.connector(i) for i in ids]):
            for code in (record or {}).get("provides", []):
                result.setdefault(code, []).append(record["id"])
        if len(ids) < 500:
            return result
        after = ids[-1]
