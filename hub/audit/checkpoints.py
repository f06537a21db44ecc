"""Audit checkpoints: the head of every audit chain, sealed and timestamped on a schedule.

A checkpoint is a canonical JSON document naming, for each partition, the sequence number and hash
of its chain's newest entry, and the SHA-256 of the checkpoint before it. The hub's archive seal
signs it (detached CMS with an RFC 3161 timestamp), and it is appended to one list in a partition of
its own. Someone who can write to Redis can recompute a whole chain, but cannot sign: a chain whose
entry at a checkpointed sequence number no longer has the checkpointed hash was rewritten after the
checkpoint was sealed. Exported, the documents and signatures check with ``openssl cms`` alone.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from certs.api import CertsError
from hub.audit import log as audit
from hub.context import now, rfc3339
from hub.errors import Conflict
from hub.store import keys
from hub.store.client import Store, Tx

if TYPE_CHECKING:
    from hub.state import HubState

FORMAT = "hub-audit-checkpoint/1"


class CheckpointRefused(Conflict):
    """A new checkpoint would vouch for a latest checkpoint that does not verify."""

    slug, title = "checkpoint-refused", "Checkpoint refused"


@dataclass(frozen=True)
class Checkpoint:
    """One stored checkpoint: the exact document text, its parsed fields and the DER signature."""

    document: str
    signature: bytes
    seq: int
    at: str
    previous: str | None
    heads: dict[str, dict[str, Any]]

    @property
    def sha256(self) -> str:
        return document_sha256(self.document)

    def summary(self) -> dict[str, Any]:
        """The checkpoint as the API lists it."""
        return {
            "seq": self.seq,
            "at": self.at,
            "sha256": self.sha256,
            "document": self.document,
            "signature": base64.b64encode(self.signature).decode(),
        }


def canonical(value: Any) -> str:
    """The one JSON text of ``value``: sorted keys, no spaces, UTF-8 characters as they are."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def document_sha256(document: str) -> str:
    """SHA-256 (hex) of a checkpoint document's exact bytes."""
    return hashlib.sha256(document.encode()).hexdigest()


def parse(record: Any) -> Checkpoint:
    """A stored list element as a :class:`Checkpoint`; ValueError if it is not one."""
    try:
        document, signature = record["document"], base64.b64decode(record["signature"], validate=True)
        body = json.loads(document)
        if body.get("format") != FORMAT or canonical(body) != document:
            raise ValueError("not a canonical checkpoint document")
        heads = {p: {"seq": int(h["seq"]), "hash": str(h["hash"])} for p, h in body["heads"].items()}
        if _moment(body["at"]) is None:
            raise ValueError("its time is not RFC 3339 with an offset")
        return Checkpoint(document, signature, int(body["seq"]), str(body["at"]), body["previous"], heads)
    except (TypeError, KeyError, AttributeError, ValueError) as error:
        raise ValueError(f"unreadable checkpoint ({error})") from None


# -- sealing
def seal_checkpoint(state: HubState) -> dict[str, Any]:
    """Seal every chain's current head into a new checkpoint; return it as the API lists it."""
    return state.store.atomic(lambda tx: _seal(state, tx)).summary()


def _seal(state: HubState, tx: Tx) -> Checkpoint:
    # Watching the list's tail makes two sealers that read the same tail conflict: the loser runs
    # again on the new tail, so the sequence never forks.
    last = _verified_tail(state, tx.list_last_json(keys.checkpoint_list()))
    body = {
        "format": FORMAT,
        "seq": 1 if last is None else last.seq + 1,
        "at": rfc3339(now()),
        "previous": None if last is None else last.sha256,
        "heads": current_heads(state.store, {} if last is None else last.heads),
    }
    document = canonical(body)
    signature = state.pki.sign_detached(document.encode())
    record = {"document": document, "signature": base64.b64encode(signature).decode()}
    tx.list_push_json(keys.checkpoint_list(), record)
    return parse(record)


def _verified_tail(state: HubState, record: Any) -> Checkpoint | None:
    """The latest checkpoint, if it verifies: chaining a new one to a forged tail would vouch for it."""
    if record is None:
        return None
    try:
        last = parse(record)
    except ValueError as error:
        raise CheckpointRefused(f"The latest checkpoint is {error}; sealing another would vouch for it.") from None
    problems = _signature_problems(state, last)
    if problems:
        raise CheckpointRefused(f"The latest {problems[0]}; sealing another would vouch for it.")
    return last


def current_heads(store: Store, earlier: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every chain's head now: of the partitions the registry knows, and of any an earlier checkpoint named.

    The heads live in different slots, so they are read outside the sealing transaction (pipelined,
    not atomically).
    That is sound because a head only ever advances: each (seq, hash) read was the head at some moment
    while sealing, so it is a true statement about that chain at that seq, and verification compares
    the chain's entry at that seq, not the head at the time of checking.
    """
    partitions = sorted(set(audit.known_partitions(store)) | set(earlier))
    heads = store.get_json_each([keys.audit_head(partition) for partition in partitions])
    return {p: {"seq": h["seq"], "hash": h["hash"]} for p, h in zip(partitions, heads, strict=True) if h}


def older_than(store: Store, seconds: int) -> bool:
    """True when the newest checkpoint was sealed more than ``seconds`` ago, or there is none."""
    record = store.list_get_json(keys.checkpoint_list(), -1)
    try:
        sealed_at = _moment(parse(record).at) if record is not None else None
    except ValueError:
        return True
    return sealed_at is None or now() - sealed_at > timedelta(seconds=seconds)


# -- reading
def page(store: Store, before: int | None, limit: int) -> list[tuple[int, dict[str, Any]]]:
    """Up to ``limit`` checkpoints at list positions below ``before`` (or the newest), newest first."""
    start = store.list_len(keys.checkpoint_list()) if before is None else before
    rows = []
    for position in range(start - 1, max(start - 1 - limit, -1), -1):
        record = store.list_get_json(keys.checkpoint_list(), position)
        if record is not None:
            rows.append((position, _listed(record)))
    return rows


def _listed(record: Any) -> dict[str, Any]:
    try:
        return parse(record).summary()
    except ValueError:  # listed as stored, so an operator can see what is there
        document = str(record.get("document", "")) if isinstance(record, dict) else json.dumps(record)
        return {"seq": 0, "at": "", "sha256": document_sha256(document), "document": document, "signature": ""}


def every(store: Store) -> Iterator[Checkpoint | ValueError]:
    """Every stored checkpoint, oldest first (an unreadable one as its ValueError)."""
    for record in store.list_all_json(keys.checkpoint_list()):
        try:
            yield parse(record)
        except ValueError as error:
            yield error


def export(state: HubState, directory: Path) -> int:
    """Write each checkpoint as ``<seq>.json`` and ``<seq>.json.p7s``, and ``roots.pem``; return how many."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "roots.pem").write_text(state.pki.roots_pem())
    count = 0
    for checkpoint in every(state.store):
        if isinstance(checkpoint, ValueError):
            continue
        (directory / f"{checkpoint.seq}.json").write_bytes(checkpoint.document.encode())
        (directory / f"{checkpoint.seq}.json.p7s").write_bytes(checkpoint.signature)
        count += 1
    return count


# -- checking
@dataclass
class CheckpointCheck:
    """What the checkpoint list says, and what it promises about each chain.

    ``expected[partition][seq]`` maps each hash some checkpoint names for that entry to the first
    checkpoint naming it; the chain pass compares its entries against it (see :mod:`hub.audit.log`).
    """

    count: int = 0
    latest: Checkpoint | None = None
    signatures_checked: int = 0
    problems: list[str] = field(default_factory=list)
    expected: dict[str, dict[int, dict[str, int]]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        latest = None if self.latest is None else {"seq": self.latest.seq, "at": self.latest.at}
        return {
            "count": self.count,
            "latest": latest,
            "signatures_checked": self.signatures_checked,
            "problems": list(self.problems),
        }


def check(state: HubState, all_signatures: bool = False) -> CheckpointCheck:
    """Check the list: readable, consecutive, each linked to the one before, and signed.

    The ``previous`` links make the newest valid signature vouch for every document before it, so by
    default only the newest signature is verified (one CMS validation per run); ``all_signatures``
    verifies each one too (a replaced signature of an older checkpoint is then caught as well).
    """
    result = CheckpointCheck()
    stored = list(every(state.store))
    result.count = len(stored)
    newest = max((n for n, c in enumerate(stored, start=1) if isinstance(c, Checkpoint)), default=0)
    before: Checkpoint | None = None
    for position, checkpoint in enumerate(stored, start=1):
        if isinstance(checkpoint, ValueError):
            result.problems.append(f"checkpoint at position {position}: {checkpoint}")
            before = None
            continue
        result.problems += _link_problems(checkpoint, before, position)
        if all_signatures or position == newest:
            result.problems += _signature_problems(state, checkpoint)
            result.signatures_checked += 1
        _expect(result.expected, checkpoint)
        before = result.latest = checkpoint
    return result


def _link_problems(checkpoint: Checkpoint, before: Checkpoint | None, position: int) -> list[str]:
    problems = []
    if checkpoint.seq != position:
        problems.append(f"checkpoint {checkpoint.seq}: stored at position {position} (checkpoints removed?)")
    linkable = position == 1 or before is not None  # (an unreadable one before it is reported already)
    if linkable and checkpoint.previous != (None if before is None else before.sha256):
        problems.append(f"checkpoint {checkpoint.seq}: does not name the checkpoint before it (changed or removed)")
    return problems


def _signature_problems(state: HubState, checkpoint: Checkpoint) -> list[str]:
    try:
        report = state.pki.verify_detached(checkpoint.document.encode(), checkpoint.signature)
    except CertsError as error:  # not a CMS SignedData at all
        return [f"checkpoint {checkpoint.seq}: signature unreadable ({error})"]
    if report.valid:
        return []
    return [f"checkpoint {checkpoint.seq}: signature does not verify ({'; '.join(report.problems) or 'invalid'})"]


def _expect(expected: dict[str, dict[int, dict[str, int]]], checkpoint: Checkpoint) -> None:
    for partition, head in checkpoint.heads.items():
        expected.setdefault(partition, {}).setdefault(head["seq"], {}).setdefault(head["hash"], checkpoint.seq)


def staleness_problems(check_result: CheckpointCheck, oldest_entry_at: str | None, interval: int) -> list[str]:
    """A problem when entries are older than two intervals but no checkpoint is that recent (a wiped list)."""
    if not interval or oldest_entry_at is None:
        return []
    horizon = now() - timedelta(seconds=2 * interval)
    oldest = _moment(oldest_entry_at)
    if oldest is None or oldest > horizon:  # (a mangled time breaks its entry's hash: reported there)
        return []
    latest = check_result.latest
    if latest is None:
        return [f"no checkpoint, though audit entries go back to {oldest_entry_at} (checkpoints removed?)"]
    if _moment(latest.at) < horizon:  # type: ignore[operator] - parse() made sure it is a time
        return [f"the latest checkpoint ({latest.seq}, {latest.at}) is older than two intervals (checkpoints removed?)"]
    return []


def _moment(text: Any) -> datetime | None:
    """An RFC 3339 time with an offset, or None."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else None
