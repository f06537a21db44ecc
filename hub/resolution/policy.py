"""Who may read what, for which service: the Cedar policies in force, and the operator's changes to them.

The policies in force are the defaults shipped in ``policies/``, the ``.cedar`` files in
``HUB_POLICY_DIR``, and the rules operators add through the API (kept in the registry). Each is
validated against the Cedar schema before it takes effect; the parsed engine is kept per worker and
rebuilt when the stored rules change. Any failure to decide refuses: storage errors propagate as
503, and the engine itself refuses on evaluation errors.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from hub.audit import log as audit
from hub.context import Context, now, rfc3339
from hub.errors import Invalid, NotFound
from hub.store import keys
from hub.store.client import Store, Tx
from policies import DEFAULT_POLICY_FILES, SCHEMA_FILE, Decision, ItemFacts, PolicyEngine, PolicyError

DECISIONS_KEPT = 10_000


def _file_texts(directory: Path | None) -> dict[str, str]:
    texts = {path.name: path.read_text(encoding="utf-8") for path in DEFAULT_POLICY_FILES}
    if directory is not None:
        for path in sorted(Path(directory).glob("*.cedar")):
            texts[path.name] = path.read_text(encoding="utf-8")
    return texts


class Policies:
    """The policy engine of this worker, kept in step with the operator's stored rules."""

    def __init__(self, store: Store, policy_dir: Path | None = None) -> None:
        self._store = store
        self._files = _file_texts(policy_dir)
        self._schema = SCHEMA_FILE.read_text(encoding="utf-8")
        self._lock = threading.Lock()
        self._engine: PolicyEngine | None = None
        self._version: int | None = None
        self._decided: dict[tuple, dict[str, Decision]] = {}
        # Files are checked at start-up, so a bad file stops the hub rather than denying silently later.
        PolicyEngine.from_texts(self._files, self._schema)

    def _stored(self) -> dict[str, str]:
        names = self._store.index_page(keys.policy_index(), None, 1000)
        return {
            f"api:{name}.cedar": record["text"]
            for name, record in zip(names, self._store.get_many_json([keys.policy(n) for n in names]), strict=True)
            if record
        }

    def engine(self) -> PolicyEngine:
        """The engine for the rules in force now."""
        version = self._store.get_json(keys.policy_version()) or 0
        with self._lock:
            if self._engine is None or version != self._version:
                self._engine = PolicyEngine.from_texts({**self._files, **self._stored()}, self._schema)
                self._version = version
            return self._engine

    def decide(
        self,
        agency: str,
        item: dict[str, Any],
        evidence_records: dict[str, dict[str, Any] | None],
        subject_id_type: str = "",
    ) -> dict[str, Decision]:
        """Per evidence type (code -> its registry record): may ``agency`` read it for this item, which fields."""
        evidence_types = list(evidence_records)
        fields_of = {code: sorted((record or {}).get("fields", {})) for code, record in evidence_records.items()}
        engine = self.engine()
        facts = ItemFacts.from_record(item, fields_of)
        # Decisions depend only on these, so the same question is answered from memory until the
        # rules (the engine), the item version or the evidence types' fields change.
        question = (engine, agency, facts, subject_id_type, tuple((c, tuple(f)) for c, f in fields_of.items()))
        with self._lock:
            known = self._decided.get(question)
        if known is not None:
            return dict(known)
        decisions = engine.decide(agency, facts, evidence_types, fields_of, subject_id_type=subject_id_type)
        with self._lock:
            if len(self._decided) >= DECISIONS_KEPT:
                self._decided.clear()
            self._decided[question] = decisions
        return dict(decisions)

    # -- the operator's rules
    def put(self, ctx: Context, name: str, text: str) -> dict[str, Any]:
        """Add or replace an operator rule after validating it with every rule in force."""
        try:
            PolicyEngine.from_texts({**self._files, **self._stored(), f"api:{name}.cedar": text}, self._schema)
        except PolicyError as exc:
            raise Invalid(f"The policy {name!r} is refused: {exc.detail}", errors=exc.errors) from None
        record = {"name": name, "text": text, "updated_at": rfc3339(now()), "updated_by": ctx.actor}

        def work(tx: Tx) -> None:
            tx.set_json(keys.policy(name), record)
            tx.index_add(keys.policy_index(), name)
            tx.set_json(keys.policy_version(), (tx.get_json(keys.policy_version()) or 0) + 1)
            audit.append(tx, keys.REGISTRY, ctx, "policy.put", f"policy:{name}", {"text": text})

        self._store.atomic(work)
        return record

    def delete(self, ctx: Context, name: str) -> None:
        def work(tx: Tx) -> None:
            if not tx.exists(keys.policy(name)):
                raise NotFound(f"No policy {name!r}.")
            tx.delete(keys.policy(name))
            tx.index_remove(keys.policy_index(), name)
            tx.set_json(keys.policy_version(), (tx.get_json(keys.policy_version()) or 0) + 1)
            audit.append(tx, keys.REGISTRY, ctx, "policy.delete", f"policy:{name}", None)

        self._store.atomic(work)

    def listing(self) -> list[dict[str, Any]]:
        """Every rule in force: shipped and file rules (read-only) and the operator's."""
        shipped = [{"name": name, "text": text, "source": "file"} for name, text in self._files.items()]
        names = self._store.index_page(keys.policy_index(), None, 1000)
        stored = [r | {"source": "api"} for r in self._store.get_many_json([keys.policy(n) for n in names]) if r]
        return shipped + stored
