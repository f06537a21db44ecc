"""Agencies: the administrative organs that provide data, implement service items and issue licences."""

from __future__ import annotations

from typing import Any

from hub.context import Context
from hub.registry import records
from hub.store import keys
from hub.store.client import Store, Tx

KIND = "agency"


def put_agency(tx: Tx, ctx: Context, data: dict[str, Any], replace: bool = False) -> str:
    """Write an agency; see :func:`records.put`."""
    record = records.stamped(data, ctx)
    return records.put(tx, ctx, KIND, keys.agency(data["code"]), keys.agency_index(), data["code"], record, replace)


def create_agency(store: Store, ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """Register a new agency; Conflict if the code is taken."""
    return records.create(store, lambda tx: put_agency(tx, ctx, data), keys.agency(data["code"]))


def get_agency(store: Store, code: str) -> dict[str, Any]:
    return records.get(store, KIND, keys.agency(code), code)


def list_agencies(store: Store, limit: int, cursor: str | None) -> dict:
    return records.listing(store, keys.agency_index(), keys.agency, limit, cursor)


def chinese_name(name: str) -> str:
    """The Chinese part of a bilingual name such as ``省市场监督管理局 (Market Regulation)``: what a seal
    and a licence print for the agency."""
    head, _, _ = name.partition(" (")
    return head.strip() or name
