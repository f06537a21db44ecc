"""Checks that a registry record names only agencies, types and entries that exist."""

from __future__ import annotations

from hub.errors import UnknownReference
from hub.store import keys
from hub.store.client import Tx

KINDS = {
    "agency": keys.agency,
    "evidence type": keys.evidence_type,
    "licence type": keys.licence_type,
    "service item": keys.service_item_versions,
}


class ReferenceCheck:
    """Collects every unknown reference of one record, then reports them all at once."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx
        self.errors: dict[str, list[str]] = {}

    def require(self, field: str, kind: str, code: str | None) -> None:
        """Note ``code`` under ``field`` if no ``kind`` record has it."""
        if code is None:
            return
        key = KINDS[kind](code)
        found = self._tx.list_len(key) > 0 if kind == "service item" else self._tx.exists(key)
        if not found:
            self.errors.setdefault(field, []).append(f"Unknown {kind} {code!r}.")

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def raise_if_any(self, what: str) -> None:
        """Raise UnknownReference naming every missing record."""
        if self.errors:
            named = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in self.errors.items())
            raise UnknownReference(f"{what} refers to records that do not exist: {named}", errors=self.errors)
