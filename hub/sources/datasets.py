"""Datasets that small agencies upload instead of running a service (the ``csv`` connector kind).

An upload is a UTF-8 CSV with a header row: the connector's key column (``subject_id`` by
default), optionally ``id_type`` (default ``resident-id``) and ``evidence_type`` (needed when the
connector provides several types), and one column per field of the evidence type. Every row is
checked against the evidence type's field schema before anything is written; then the whole
dataset replaces the previous one in one transaction, with its audit entry. Rows are indexed by the
keyed hash of the subject, like everything else the hub keeps about people.
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date
from typing import Any

from connectors.api import Subject
from hub.audit import log as audit
from hub.context import Context, now, rfc3339
from hub.errors import Invalid
from hub.identifiers import canonical
from hub.store import keys
from hub.store.client import Store, Tx
from hub.store.keyring import Keyring

BOOLEANS = {"true": True, "1": True, "yes": True, "是": True, "false": False, "0": False, "no": False, "否": False}
MAX_ERRORS = 20
# Bounds on what one upload may make the worker parse, hash and write in one request (within HUB_TIMEOUT):
# an agency with more rows than this runs a service (the ``rest`` kind) instead.
MAX_ROWS = 100_000
MAX_COLUMNS = 200
RESERVED = {"id_type", "evidence_type"}


def _coerce(kind: str, text: str) -> Any:
    if kind == "number":
        return int(text) if text.lstrip("-").isdigit() else float(text)
    if kind == "boolean":
        if text.lower() not in BOOLEANS:
            raise ValueError("not a boolean (true/false, 1/0, yes/no, 是/否)")
        return BOOLEANS[text.lower()]
    if kind == "date":
        return date.fromisoformat(text).isoformat()
    return text


def parse(
    content: bytes, connector: dict[str, Any], evidence_records: dict[str, dict[str, Any]], keyring: Keyring
) -> dict[str, dict[str, dict[str, Any]]]:
    """Rows by evidence type and subject hash; Invalid listing the first problems by line."""
    key_column = connector["config"].get("key_column", "subject_id")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("The dataset must be UTF-8 text.", errors={"file": ["Not UTF-8."]}) from None
    try:
        return _parse_rows(text, key_column, connector["provides"], evidence_records, keyring)
    except csv.Error as exc:  # a cell past csv's field size limit, say
        raise Invalid(f"The dataset is not readable CSV: {exc}.", errors={"file": [str(exc)]}) from None


def _check_size(text: str) -> None:
    """Refuse too many columns or rows before any row is checked, hashed or stored."""
    header = next(csv.reader(io.StringIO(text)), [])
    if len(header) > MAX_COLUMNS:
        message = f"{len(header)} columns; at most {MAX_COLUMNS}."
        raise Invalid("The dataset has too many columns.", errors={"header": [message]})
    rows = sum(1 for _ in csv.reader(io.StringIO(text))) - 1
    if rows > MAX_ROWS:
        message = f"{rows} rows; at most {MAX_ROWS} (a larger source is better served as a rest connector)."
        raise Invalid("The dataset has too many rows.", errors={"file": [message]})


def _parse_rows(
    text: str,
    key_column: str,
    provides: list[str],
    evidence_records: dict[str, dict[str, Any]],
    keyring: Keyring,
) -> dict[str, dict[str, dict[str, Any]]]:
    _check_size(text)
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    problems: dict[str, list[str]] = {}
    if key_column not in header:
        problems["header"] = [f"The key column {key_column!r} is missing."]
    if len(provides) > 1 and "evidence_type" not in header:
        problems.setdefault("header", []).append("Add an evidence_type column: this connector provides several.")
    known = {name for code in provides for name in evidence_records[code]["fields"]} | RESERVED | {key_column}
    unknown = [name for name in header if name not in known]
    if unknown:
        named = ", ".join(unknown[:MAX_ERRORS]) + (
            f" and {len(unknown) - MAX_ERRORS} more" if len(unknown) > MAX_ERRORS else ""
        )
        problems.setdefault("header", []).append(f"Columns that no evidence type has: {named}.")
    if problems:
        raise Invalid("The dataset's header is not usable.", errors=problems)
    rows: dict[str, dict[str, dict[str, Any]]] = {code: {} for code in provides}
    for line, raw in enumerate(reader, start=2):
        try:
            evidence_type, subject_hash, record = _row(raw, key_column, provides, evidence_records, keyring)
        except ValueError as exc:
            problems[f"line {line}"] = [str(exc)]
            if len(problems) >= MAX_ERRORS:
                break
            continue
        if subject_hash in rows[evidence_type]:
            problems[f"line {line}"] = ["The same subject appears twice for this evidence type."]
        rows[evidence_type][subject_hash] = record
    if problems:
        raise Invalid(
            f"The dataset has invalid rows (the first {len(problems)} shown); nothing was stored.", errors=problems
        )
    return rows


def _row(
    raw: dict[str, Any],
    key_column: str,
    provides: list[str],
    evidence_records: dict[str, dict[str, Any]],
    keyring: Keyring,
) -> tuple[str, str, dict[str, Any]]:
    if None in raw:
        raise ValueError("More cells than header columns.")
    evidence_type = (raw.get("evidence_type") or provides[0]).strip()
    if evidence_type not in provides:
        raise ValueError(f"This connector does not provide {evidence_type!r}.")
    subject_id = (raw.get(key_column) or "").strip()
    if not subject_id:
        raise ValueError(f"{key_column} is empty.")
    id_type = (raw.get("id_type") or "resident-id").strip()
    subject_id = canonical(id_type, subject_id)  # InvalidIdentifier is a ValueError: the line is named
    record: dict[str, Any] = {key_column: subject_id}
    for name, spec in evidence_records[evidence_type]["fields"].items():
        cell = (raw.get(name) or "").strip()
        if not cell:
            if spec.get("required"):
                raise ValueError(f"{name} is required.")
            continue
        try:
            record[name] = _coerce(spec["type"], cell)
        except ValueError as exc:
            raise ValueError(f"{name}: {cell!r} is not a {spec['type']} ({exc}).") from None
    return evidence_type, keyring.subject_hash(id_type, subject_id), record


def replace(
    store: Store, ctx: Context, connector_id: str, rows: dict[str, dict[str, dict[str, Any]]], content: bytes
) -> dict[str, Any]:
    """Make ``rows`` the connector's whole dataset, with its audit entry, in one transaction."""
    partition = keys.dataset_partition(connector_id)
    meta = {
        "connector": connector_id,
        "rows": sum(len(by_subject) for by_subject in rows.values()),
        "sha256": hashlib.sha256(content).hexdigest(),
        "uploaded_at": rfc3339(now()),
        "uploaded_by": ctx.actor,
    }

    def work(tx: Tx) -> None:
        for evidence_type, by_subject in rows.items():
            key = keys.dataset_rows(connector_id, evidence_type)
            tx.delete(key)
            if by_subject:
                tx.hash_set_json_many(key, by_subject)
        tx.set_json(keys.dataset_meta(connector_id), meta)
        audit.append(tx, partition, ctx, "dataset.replace", f"connector:{connector_id}", meta)

    store.atomic(work)
    return meta


def lookup(store: Store, keyring: Keyring, connector_id: str, evidence_type: str, subject: Subject) -> dict | None:
    """The uploaded row for one subject, or None (the ``csv`` kind's dataset lookup)."""
    subject_hash = keyring.subject_hash(subject.id_type, subject.id)
    return store.hash_get_json(keys.dataset_rows(connector_id, evidence_type), subject_hash)
