"""Whole-catalogue import and export: a YAML or JSON file of agencies, types, connectors and items.

An import is validated completely before anything is written, then applied in one transaction:
either every record in the file takes effect, with its audit entry, or none does. Records equal
to what is stored are left alone, so importing the same file twice changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from marshmallow import Schema, ValidationError

from hub.context import Context
from hub.errors import Conflict, Invalid
from hub.registry.agencies import put_agency
from hub.registry.connectors import put_connector
from hub.registry.records import content_of
from hub.registry.schemas import AgencySchema, ConnectorSchema, EvidenceTypeSchema, LicenceTypeSchema
from hub.registry.service_item_schemas import ServiceItemSchema
from hub.registry.service_items import put_service_item
from hub.registry.types import check_formats, put_evidence_type, put_licence_type
from hub.store import keys
from hub.store.client import Store, Tx

# In dependency order: each section may refer to the ones before it.
SECTIONS: dict[str, tuple[type[Schema], Callable[..., str]]] = {
    "agencies": (AgencySchema, put_agency),
    "evidence_types": (EvidenceTypeSchema, put_evidence_type),
    "licence_types": (LicenceTypeSchema, put_licence_type),
    "connectors": (ConnectorSchema, put_connector),
    "service_items": (ServiceItemSchema, put_service_item),
}
Progress = Callable[[int], None]


@dataclass
class ImportReport:
    """What an import did, per section: counts of created, updated and unchanged records."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(sum(c.values()) for c in self.counts.values())


def read_file(path: Path) -> dict[str, Any]:
    """Parse a catalogue file (YAML, or JSON, which YAML reads too); Invalid with the parser's reason."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Invalid(f"Cannot read {path}: {exc}") from None
    try:
        document = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise Invalid(f"{path} is not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}: {exc}") from None
    if not isinstance(document, dict):
        raise Invalid(f"{path}: the top level must be a mapping of sections ({', '.join(SECTIONS)}).")
    return document


def validate(
    document: dict[str, Any],
    progress: Progress | None = None,
    check_connector: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    sm2_keys_allowed: bool = True,
) -> dict[str, list[dict[str, Any]]]:
    """Every record of every section loaded through its schema; Invalid listing every error with its place.

    ``check_connector`` has each connector's kind check (and normalise) its configuration; ``sm2_keys_allowed``
    is False on a hub that may not seal OFD licences (:func:`~hub.registry.types.check_formats`).
    """
    unknown = set(document) - set(SECTIONS)
    errors: dict[str, list[str]] = {}
    if unknown:
        errors["_file"] = [f"Unknown sections: {', '.join(sorted(unknown))}; expected {', '.join(SECTIONS)}."]
    loaded: dict[str, list[dict[str, Any]]] = {}
    for section, (schema_class, _) in SECTIONS.items():
        rows = document.get(section) or []
        if not isinstance(rows, list):
            errors[section] = ["Must be a list."]
            continue
        schema = schema_class()
        loaded[section] = []
        for position, row in enumerate(rows):
            try:
                record = schema.load(row)
                if section == "connectors" and check_connector is not None:
                    record = check_connector(record)
                if section == "licence_types":
                    check_formats(record, sm2_keys_allowed)
                loaded[section].append(record)
            except ValidationError as exc:
                for name, messages in _flatten(exc.messages).items():
                    errors[f"{section}[{position}].{name}"] = messages
            except Invalid as exc:
                for name, messages in (exc.errors or {"_": [exc.detail]}).items():
                    errors[f"{section}[{position}].{name}"] = messages
            if progress:
                progress(1)
    if errors:
        raise Invalid(f"The catalogue has {len(errors)} invalid entries; nothing was imported.", errors=errors)
    # Catalogue entries first, so implementation entries in the same file can refer to them.
    loaded["service_items"].sort(key=lambda item: item["entry_type"] != "catalogue")
    return loaded


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    if isinstance(messages, list):
        return {prefix or "_": [str(m) for m in messages]}
    flat: dict[str, list[str]] = {}
    for name, inner in messages.items():
        flat.update(_flatten(inner, f"{prefix}.{name}" if prefix else str(name)))
    return flat


def apply(
    store: Store,
    ctx: Context,
    records: dict[str, list[dict[str, Any]]],
    today: date,
    progress: Progress | None = None,
) -> ImportReport:
    """Write every validated record in one transaction; nothing is written if any record is refused."""

    def work(tx: Tx) -> ImportReport:
        report = ImportReport()
        for section, (_, put) in SECTIONS.items():
            counts = report.counts.setdefault(section, {"created": 0, "updated": 0, "unchanged": 0})
            for record in records.get(section, []):
                if section == "service_items":
                    outcome = put(tx, ctx, record, today, only_if_changed=True)
                else:
                    outcome = put(tx, ctx, record, replace=True)
                counts[outcome] += 1
                if progress:
                    progress(1)
        return report

    try:
        return store.atomic(work)
    except (Invalid, Conflict) as exc:
        raise type(exc)(f"Nothing was imported: {exc.detail}", errors=exc.errors) from None


def import_document(
    store: Store,
    ctx: Context,
    document: dict[str, Any],
    today: date,
    check_connector: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    sm2_keys_allowed: bool = True,
) -> ImportReport:
    """Validate and apply a parsed catalogue document."""
    loaded = validate(document, check_connector=check_connector, sm2_keys_allowed=sm2_keys_allowed)
    return apply(store, ctx, loaded, today)


DERIVED = {"level", "supplementary", "active", "licence_type", "last_test"}


def export(store: Store) -> dict[str, list[dict[str, Any]]]:
    """The current registry as a document :func:`import_document` accepts (newest service item versions)."""
    document: dict[str, list[dict[str, Any]]] = {}
    indexes = {
        "agencies": (keys.agency_index(), keys.agency),
        "evidence_types": (keys.evidence_type_index(), keys.evidence_type),
        "licence_types": (keys.licence_type_index(), keys.licence_type),
        "connectors": (keys.connector_index(), keys.connector),
    }
    for section, (index, key_of) in indexes.items():
        records = _all(store, index, lambda codes, key_of=key_of: store.get_many_json([key_of(c) for c in codes]))
        rows = [content_of(r) for r in records]
        if section == "evidence_types":
            rows = [r for r in rows if not r.get("licence_type")]
        document[section] = [{k: v for k, v in r.items() if k not in DERIVED} for r in rows]
    items = _all(
        store,
        keys.service_item_index(),
        lambda codes: store.list_last_many_json([keys.service_item_versions(c) for c in codes]),
    )
    items.sort(key=lambda item: item["entry_type"] != "catalogue")
    document["service_items"] = [{k: v for k, v in content_of(r).items() if k not in DERIVED} for r in items]
    return document


def _all(store: Store, index: str, fetch: Callable[[list[str]], list[Any]]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    after = None
    while True:
        codes = store.index_page(index, after, 500)
        result.extend(r for r in fetch(codes) if r is not None)
        if len(codes) < 500:
            return result
        after = codes[-1]
