"""The hub's side of the connectors: build each registered connector once, guard it, call it, watch it.

A connector is built from its record by its kind (found through the ``hub.connectors`` entry
points), wrapped with a circuit breaker and bounded retries, and kept for the life of the worker so
that its breaker and connection pool persist; a changed record builds a new one. Each call's
latency and outcome go to ``/metrics`` and to an in-process window the operator console reads.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from connectors import registry as kinds
from connectors.api import ConfigError, ConnectorError, ConnectorSpec, Environment, NotHeld, Record, Subject
from connectors.resilience import GuardedConnector
from hub import metrics
from hub.config import Settings
from hub.errors import Invalid
from hub.registry.credentials import with_credentials
from hub.sources import datasets, health
from hub.store import keys
from hub.store.client import Store
from hub.store.keyring import SEALED_PREFIX, Keyring


@dataclass(frozen=True)
class Observed:
    """One call to a source: what it said, how long it took, and the circuit state after it."""

    outcome: Record | NotHeld | ConnectorError
    latency_ms: float
    label: str
    circuit: str


@dataclass
class Source:
    """One built connector, ready to call from the resolution's thread pool."""

    id: str
    agency: str
    timeout_s: float
    guarded: GuardedConnector

    def fetch(
        self, evidence_type: str, subject: Subject, timeout_s: float, fields: frozenset[str] | None = None
    ) -> Observed:
        """The outcome of asking this source (for ``fields`` only, and a record cut down to them whatever a
        connector kind returned), with its latency; failures are returned, never raised."""
        result = self.guarded.fetch(evidence_type, subject, timeout_s, fields=fields)
        outcome = result.outcome.only(fields) if isinstance(result.outcome, Record) else result.outcome
        label = health.outcome_label(result.outcome)
        circuit = self.guarded.breaker.state
        metrics.observe_source(self.id, label, result.latency_ms / 1000, circuit)
        return Observed(outcome, result.latency_ms, label, circuit)

    @property
    def breaker_state(self) -> str:
        return self.guarded.breaker.state


def built_in_licences(licence_type: dict[str, Any]) -> dict[str, Any]:
    """The connector record of the hub's own register for one licence type: its issuer's, always active."""
    return {
        "id": f"licences.{licence_type['code']}",
        "agency": licence_type["issuer"],
        "kind": "licences",
        "provides": [licence_type["code"]],
        "config": {},
        "timeout_ms": 2000,
        "active": True,
    }


class Sources:
    """Every connector of this worker, built on first use."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        keyring: Keyring,
        licence_lookup: Callable[[str, Subject], Mapping[str, Any] | None] | None = None,
    ) -> None:
        self._store = store
        self._keyring = keyring
        allowlist = tuple(part.strip() for part in settings.connector_allowlist.split(",") if part.strip())
        self.environment = Environment(
            allowed_networks=allowlist,
            dataset_lookup=lambda connector_id, evidence_type, subject: datasets.lookup(
                store, keyring, connector_id, evidence_type, subject
            ),
            licence_lookup=licence_lookup,
        )
        self._built: dict[str, tuple[str, Source, dict[str, Any]]] = {}  # id -> (fingerprint, source, record)
        self._listing: tuple[Any, list[dict[str, Any]]] | None = None  # (change marker, every record)
        self._lock = threading.Lock()

    # -- registration
    def checked(self, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` with its config normalised by its kind; Invalid naming the problem otherwise."""
        try:
            kind = kinds.get_kind(data["kind"])
            config = kind.validate_config(data["config"], self.environment)
        except ConfigError as exc:
            errors = {f"config.{name}": messages for name, messages in exc.errors.items()} or {"config": [exc.detail]}
            if isinstance(exc, kinds.UnknownKind):
                errors = {"kind": [exc.detail]}
            raise Invalid(f"Connector {data.get('id')!r}: {exc.detail}", errors=errors) from None
        config = with_credentials(config, self._seal)  # sealed at rest, opened only to build the connector
        return {**data, "config": config}

    def _seal(self, value: str) -> str:
        # An exported catalogue carries sealed values already: re-importing must not seal them twice.
        if value.startswith(SEALED_PREFIX):
            self._open(value)
            return value
        return self._keyring.encrypt(value)

    def _open(self, value: str) -> str:
        try:
            return self._keyring.decrypt(value)
        except ValueError:
            raise Invalid("A connector credential cannot be opened: was HUB_SECRET_KEY changed?") from None

    # -- calling
    def source(self, record: dict[str, Any]) -> Source:
        """The built connector for a record, rebuilt when the record changed."""
        cached = self._built.get(record["id"])
        if cached and cached[2] is record:  # the very record of the kept list (never changed in place)
            return cached[1]
        fingerprint = hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()
        with self._lock:
            cached = self._built.get(record["id"])
            if cached and cached[0] == fingerprint:
                self._built[record["id"]] = (fingerprint, cached[1], record)
                return cached[1]
            config = record["config"]
            config = with_credentials(config, self._open)
            spec = ConnectorSpec(
                id=record["id"],
                agency=record["agency"],
                kind=record["kind"],
                provides=tuple(record["provides"]),
                config=config,
                timeout_ms=record["timeout_ms"],
            )
            connector = kinds.get_kind(record["kind"]).build(spec, self.environment)
            timeout_s = record["timeout_ms"] / 1000
            built = Source(record["id"], record["agency"], timeout_s, GuardedConnector(connector))
            self._built[record["id"]] = (fingerprint, built, record)
            return built

    def providers(self, evidence_types: list[str]) -> dict[str, list[Source]]:
        """For each evidence type, the active connectors that provide it (one read of the registry); an evidence
        type that no connector provides and that is a licence type the hub issues is served by the hub's own
        licence register (issue 20: the licences it issued are proof for the next case, with no set-up)."""
        active = self.active_records()
        found = {
            evidence_type: [self.source(record) for record in active if evidence_type in record["provides"]]
            for evidence_type in evidence_types
        }
        for evidence_type in [t for t, sources in found.items() if not sources]:
            licence_type = self._store.get_json(keys.licence_type(evidence_type))
            if licence_type is not None:
                found[evidence_type] = [self.source(built_in_licences(licence_type))]
        return found

    def provider_agencies(self, evidence_type: str) -> list[str]:
        """The agencies with a connector (active or not) that provides ``evidence_type``; for a licence type no
        connector provides, its issuer (the hub's own register serves it)."""
        agencies = {r["agency"] for r in self._records(active_only=False) if evidence_type in r["provides"]}
        licence_type = None if agencies else self._store.get_json(keys.licence_type(evidence_type))
        return sorted(agencies or ({licence_type["issuer"]} if licence_type else set()))

    def active_records(self) -> list[dict[str, Any]]:
        """The registry's active connectors."""
        return self._records(active_only=True)

    def _records(self, active_only: bool) -> list[dict[str, Any]]:
        return [record for record in self._every_record() if record["active"] or not active_only]

    def _every_record(self) -> list[dict[str, Any]]:
        """Every connector record, read again only when the registry's change marker moved (one GET per
        resolution instead of the index and every record). The marker is read first, so a list kept
        under it holds at least the changes it marks; a store without one (older, or emptied) gets one."""
        marker = self._store.get_json(keys.connectors_changed())
        if marker is None:  # a store from before markers, or emptied: set one, unless a change just did
            self._store.set_json_if_absent(keys.connectors_changed(), uuid.uuid4().hex, None)
            marker = self._store.get_json(keys.connectors_changed())
        listing = self._listing
        if listing is not None and listing[0] == marker:
            return listing[1]
        records = self._read_records()
        self._listing = (marker, records)
        return records

    def _read_records(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        after = None
        while True:
            ids = self._store.index_page(keys.connector_index(), after, 500)
            found = self._store.get_many_json([keys.connector(i) for i in ids])
            records += [r for r in found if r]
            if len(ids) < 500:
                return records
            after = ids[-1]

    def observe(self, calls: list[tuple[str, Observed]]) -> None:
        """Keep the calls of one resolution for the operator's health view, in one round trip."""
        health.record_calls(self._store, [(cid, o.latency_ms, o.label, o.circuit) for cid, o in calls])

    def test(
        self, record: dict[str, Any], evidence_type: str | None, id_type: str | None, subject_id: str | None
    ) -> dict[str, Any]:
        """Probe a connector and, given a subject, fetch a sample; only field names are shown."""
        source = self.source(record)
        timeout_s = record["timeout_ms"] / 1000
        health = source.guarded.probe(timeout_s)
        result = {"ok": health.ok, "latency_ms": round(health.latency_ms, 3), "detail": health.detail, "sample": None}
        if subject_id and id_type:
            wanted = evidence_type or record["provides"][0]
            if wanted not in record["provides"]:
                raise Invalid(
                    f"Connector {record['id']!r} does not provide {wanted!r}.",
                    errors={"evidence_type": [f"Not provided by {record['id']}."]},
                )
            outcome = source.guarded.fetch_once(wanted, Subject(id_type, subject_id), timeout_s).outcome
            if isinstance(outcome, Record):
                sample = {"status": "resolved", "fields": sorted(outcome.fields)}
            elif isinstance(outcome, NotHeld):
                sample = {"status": "missing", "fields": []}
            else:
                sample = {"status": "unavailable", "fields": [], "detail": outcome.detail}
            result["sample"] = {"evidence_type": wanted, **sample}
            result["ok"] = result["ok"] and sample["status"] != "unavailable"
        return result
