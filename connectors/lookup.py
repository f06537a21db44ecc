"""A connector over a lookup the hub lends (an uploaded dataset, the e-licence registry): shared by ``csv``
and ``licences``.

The lookup is local (the hub's own store), so ``timeout_s`` is not enforced here; a lookup that raises
(storage down) is a retryable failure, one that returns None means the source holds nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from .api import ConfigError, ConnectorError, Health, NotHeld, Record, Subject

Lookup = Callable[[str, Subject], Mapping[str, Any] | None]


def refuse_unknown_keys(config: Mapping[str, Any], allowed: frozenset[str]) -> None:
    """ConfigError if ``config`` is not a mapping or carries keys outside ``allowed``."""
    if not isinstance(config, Mapping):
        raise ConfigError("configuration must be an object")
    unknown = sorted(set(config) - allowed)
    if unknown:
        raise ConfigError(f"unknown configuration keys {unknown}", {key: ["unknown key"] for key in unknown})


class LookupConnector:
    """Answers from ``lookup(evidence_type, subject)``; ``what`` names the source in details."""

    def __init__(self, what: str, lookup: Lookup | None, key_column: str | None = None) -> None:
        self.what = what
        self.lookup = lookup
        self.key_column = key_column

    def fetch(
        self, evidence_type: str, subject: Subject, timeout_s: float, fields: frozenset[str] | None = None
    ) -> Record | NotHeld:
        """The row the lookup holds for the subject (only ``fields`` of it), NotHeld, or ConnectorError."""
        if self.lookup is None:
            raise ConnectorError(f"the hub lends no lookup for {self.what}", retryable=False)
        try:
            row = self.lookup(evidence_type, subject)
        except Exception as exc:
            raise ConnectorError(f"{self.what} lookup failed ({type(exc).__name__})", retryable=True) from exc
        if row is None:
            return NotHeld(f"{self.what} holds no {evidence_type} for this subject")
        if self.key_column is not None and self.key_column in row and str(row[self.key_column]) != subject.id:
            # The index handed back another subject's row: never pass it on.
            raise ConnectorError(f"{self.what} answered a row for another subject", retryable=False)
        return Record(fields=dict(row)).only(fields)

    def probe(self, timeout_s: float) -> Health:
        """Up when the hub lends the lookup."""
        started = time.monotonic()
        ok = self.lookup is not None
        detail = "lookup available" if ok else f"the hub lends no lookup for {self.what}"
        return Health(ok=ok, latency_ms=(time.monotonic() - started) * 1000, detail=detail)
