"""One optimistic transaction on the store: reads WATCHed as they happen, writes queued for one MULTI/EXEC."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from hub.store.keys import holds_personal_data
from hub.store.sealing import Sealer


def dump_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


class Codec:
    """How values go into Redis and come back: JSON text, sealed where the key may hold personal data."""

    def __init__(self, sealer: Sealer | None) -> None:
        self.sealer = sealer

    def _seals(self, key: str) -> bool:
        return self.sealer is not None and holds_personal_data(key)

    def dump(self, key: str, value: Any) -> str | bytes:
        text = dump_json(value)
        return self.sealer.seal(key, text.encode()) if self._seals(key) and self.sealer else text

    def load(self, key: str, raw: bytes | str | None) -> Any:
        if raw is None:
            return None
        if self.sealer is not None and isinstance(raw, bytes):
            raw = self.sealer.open(key, raw)
        return json.loads(raw)

    def dump_bytes(self, key: str, value: bytes) -> bytes:
        # documents kept in Redis by older hubs: PDFs and images, compressed already
        return self.sealer.seal(key, value, compress=False) if self._seals(key) and self.sealer else value

    def load_bytes(self, key: str, raw: bytes | None) -> bytes | None:
        return raw if raw is None or self.sealer is None else self.sealer.open(key, raw)


def field_key(key: str, field: str) -> str:
    """What a hash field's sealed value is bound to: its hash and its field."""
    return f"{key}#{field}"


_DELETED = object()


class Tx:
    """One optimistic transaction: watched reads now, queued writes applied together at the end.

    Reads see the writes already queued in the same transaction, so several changes (a whole
    catalogue import) compose into one MULTI/EXEC and still check each other's references.
    """

    def __init__(self, pipe: Any, codec: Codec) -> None:
        self._pipe = pipe
        self._codec = codec
        self._writes: list[Callable[[Any], Any]] = []
        self._pending: dict[str, Any] = {}  # key -> value queued by set_json, or _DELETED
        self._pushed: dict[str, list[Any]] = {}  # list key -> values queued by list_push_json
        self.scratch: dict[str, Any] = {}  # per-attempt state for helpers (the audit chain head)
        self.committing = False  # MULTI/EXEC sent: from here a lost connection leaves the outcome unknown
        self.hot: set[str] = set()  # keys many writers change (an audit chain's head): see HotKeyLocks

    # reads: each watches its key first, so a concurrent change aborts and retries the attempt
    def get_json(self, key: str) -> Any:
        """The JSON value at ``key`` (as this transaction left it so far), or None."""
        if key in self._pending:
            value = self._pending[key]
            return None if value is _DELETED else json.loads(dump_json(value))
        self._pipe.watch(key)
        return self._codec.load(key, self._pipe.get(key))

    def exists(self, key: str) -> bool:
        if key in self._pending:
            return self._pending[key] is not _DELETED
        self._pipe.watch(key)
        return bool(self._pipe.exists(key))

    def list_len(self, key: str) -> int:
        self._pipe.watch(key)
        return int(self._pipe.llen(key)) + len(self._pushed.get(key, ()))

    def list_last_json(self, key: str) -> Any:
        """The last element of a list, or None."""
        if self._pushed.get(key):
            return json.loads(dump_json(self._pushed[key][-1]))
        self._pipe.watch(key)
        return self._codec.load(key, self._pipe.lindex(key, -1))

    def list_all_json(self, key: str) -> list[Any]:
        """Every element of a list, with the ones this transaction pushed so far."""
        self._pipe.watch(key)
        stored = [self._codec.load(key, raw) for raw in self._pipe.lrange(key, 0, -1)]
        return stored + [json.loads(dump_json(value)) for value in self._pushed.get(key, [])]

    def index_members(self, key: str) -> list[str]:
        """Every member of a lexicographic index (as stored: this transaction's own additions are not in it)."""
        self._pipe.watch(key)
        return [member.decode() for member in self._pipe.zrange(key, 0, -1)]

    def hash_get(self, key: str, field: str) -> str | None:
        self._pipe.watch(key)
        value = self._pipe.hget(key, field)
        return value.decode() if isinstance(value, bytes) else value

    def bit_get(self, key: str, offset: int) -> int:
        """One bit of a bitmap (a raw string, never sealed: it must hold no personal data)."""
        self._pipe.watch(key)
        return int(self._pipe.getbit(key, offset))

    # writes: queued, applied in one MULTI/EXEC
    def set_json(self, key: str, value: Any, ttl_seconds: int | None = None) -> None:
        self._pending[key] = value
        self._writes.append(lambda p: p.set(key, self._codec.dump(key, value), ex=ttl_seconds))

    def delete(self, key: str) -> None:
        self._pending[key] = _DELETED
        self._writes.append(lambda p: p.delete(key))

    def list_push_json(self, key: str, value: Any) -> None:
        self._pushed.setdefault(key, []).append(value)
        self._writes.append(lambda p: p.rpush(key, self._codec.dump(key, value)))

    def index_add(self, key: str, member: str) -> None:
        """Add ``member`` to a lexicographic index (a sorted set scored 0)."""
        self._writes.append(lambda p: p.zadd(key, {member: 0}))

    def index_remove(self, key: str, member: str) -> None:
        self._writes.append(lambda p: p.zrem(key, member))

    def scored_add(self, key: str, member: str, score: float) -> None:
        """Add or move ``member`` in a sorted set ordered by ``score`` (due dates)."""
        self._writes.append(lambda p: p.zadd(key, {member: score}))

    def scored_remove(self, key: str, member: str) -> None:
        self._writes.append(lambda p: p.zrem(key, member))

    def hash_set_json_many(self, key: str, mapping: dict[str, Any]) -> None:
        """Set many hash fields to JSON values, in chunks that keep each command small."""
        items = [(field, self._codec.dump(field_key(key, field), value)) for field, value in mapping.items()]
        for start in range(0, len(items), 1000):
            chunk = dict(items[start : start + 1000])
            self._writes.append(lambda p, chunk=chunk: p.hset(key, mapping=chunk))

    def hash_set(self, key: str, field: str, value: str) -> None:
        self._writes.append(lambda p: p.hset(key, field, value))

    def hash_replace(self, key: str, mapping: dict[str, str]) -> None:
        """Make the hash at ``key`` exactly ``mapping`` (plain strings: never a person's data in clear)."""
        self._writes.append(lambda p: p.delete(key))
        self._writes.append(lambda p: p.hset(key, mapping=mapping))

    def hash_delete(self, key: str, field: str) -> None:
        self._writes.append(lambda p: p.hdel(key, field))

    def bit_set(self, key: str, offset: int, value: int) -> None:
        self._writes.append(lambda p: p.setbit(key, offset, value))

    def bits_set(self, key: str, width: int, index: int, value: int) -> None:
        """Set the ``index``-th ``width``-bit unsigned field of a bitmap (most significant bit first)."""
        self._writes.append(lambda p: p.execute_command("BITFIELD", key, "SET", f"u{width}", f"#{index}", value))

    def stream_add(self, key: str, fields: dict[str, str]) -> None:
        self._writes.append(lambda p: p.xadd(key, fields))

    def _commit(self) -> None:
        self.committing = True
        self._pipe.multi()
        for write in self._writes:
            write(self._pipe)
        self._pipe.execute()


class HotKeyLocks:
    """This process's locks of keys that many writers change (an audit chain's head, where every verification,
    resolution and submission of a partition appends). A transaction that lost a race on one runs again
    holding its lock, so this process's threads take turns at it instead of colliding again and again
    (each loss costs a back-off); only other processes can still win a race from them."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    @contextmanager
    def held(self, keys: Collection[str]) -> Iterator[None]:
        """Hold the locks of ``keys`` (in one order, so two holders never wait on each other)."""
        with self._guard:
            locks = [self._locks.setdefault(key, threading.Lock()) for key in sorted(keys)]
        with ExitStack() as stack:
            for lock in locks:
                stack.enter_context(lock)
            yield
