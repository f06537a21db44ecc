"""The hub's only door to Redis: connection, optimistic transactions and the few reads services need.

Services never see a Redis client. They read through :class:`Store` and change data inside
:meth:`Store.atomic`, which runs a function against a :class:`Tx`: every key the function reads
is WATCHed, every write is queued, and the writes are applied in one MULTI/EXEC. If another client
changed a watched key meanwhile, the function runs again on fresh data. Keys come from
:mod:`hub.store.keys`; all keys one transaction touches share a hash tag, so this holds on a Redis
Cluster too.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import redis
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import (
    BusyLoadingError,
    ConnectionError,
    RedisError,
    ResponseError,
    TimeoutError,
)
from redis.retry import Retry
from redis.sentinel import Sentinel

from hub.config import Settings
from hub.errors import StoreUnavailable
from hub.store import embedded as embedded_redis
from hub.store.atomic import Transactions
from hub.store.documents import Documents
from hub.store.request_counts import RequestCounts
from hub.store.sealing import Sealer
from hub.store.secret import hub_secret
from hub.store.server import CANNOT_PERSIST, UNREACHABLE, ServerAdmin, unavailable
from hub.store.transaction import Codec, HotKeyLocks, field_key
from hub.store.transaction import Tx as Tx  # services name it through this module, their one door

log = logging.getLogger(__name__)
T = TypeVar("T")
CLIENT_NAME_PREFIX = "hub-"
REDIS_TIMEOUT_S = 2.0


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


class Store(ServerAdmin, Documents, RequestCounts, Transactions):
    """A connection to the hub's Redis, embedded or external."""

    def __init__(self, settings: Settings, start_embedded: bool = True) -> None:
        """Connect; an embedded server is started if none runs, unless not ``start_embedded`` (a job queue
        worker attaches to the one its hub keeps, and must not start one after that hub is gone)."""
        self.settings = settings
        self.codec = Codec(Sealer(lambda: hub_secret(settings), settings.record_key_version))
        self.embedded: embedded_redis.EmbeddedServer | None = None
        self.hot_key_locks = HotKeyLocks()
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
        return self.codec.load(key, self._guard(self._client.get, key))

    def get_many_json(self, keys: list[str]) -> list[Any]:
        """The JSON values at ``keys`` (None where absent), in one round trip."""
        if not keys:
            return []
        return [self.codec.load(key, raw) for key, raw in zip(keys, self._guard(self._client.mget, keys), strict=True)]

    def list_len(self, key: str) -> int:
        return int(self._guard(self._client.llen, key))

    def list_get_json(self, key: str, index: int) -> Any:
        return self.codec.load(key, self._guard(self._client.lindex, key, index))

    def list_last_many_json(self, list_keys: list[str]) -> list[Any]:
        """The last element of each list (None where empty), in one round trip."""
        pipe = self._client.pipeline(transaction=False)
        for key in list_keys:
            pipe.lindex(key, -1)
        return [self.codec.load(key, raw) for key, raw in zip(list_keys, self._guard(pipe.execute), strict=True)]

    def list_all_json(self, key: str) -> list[Any]:
        return [self.codec.load(key, raw) for raw in self._guard(self._client.lrange, key, 0, -1)]

    def list_all_many_json(self, list_keys: list[str]) -> list[list[Any]]:
        """Every element of each list, in one round trip."""
        pipe = self._client.pipeline(transaction=False)
        for key in list_keys:
            pipe.lrange(key, 0, -1)
        return [
            [self.codec.load(key, raw) for raw in raws]
            for key, raws in zip(list_keys, self._guard(pipe.execute), strict=True)
        ]

    def index_page(self, key: str, after: str | None, limit: int) -> list[str]:
        """Up to ``limit`` members of a lexicographic index that sort after ``after``."""
        start = "-" if after is None else "(" + after
        members = self._guard(self._client.zrangebylex, key, start, "+", 0, limit)
        return [m.decode() for m in members]

    def get_bytes(self, key: str) -> bytes | None:
        """The bytes at ``key`` (a blob), or None."""
        return self.codec.load_bytes(key, self._guard(self._client.get, key))

    def get_raw(self, key: str) -> bytes:
        """The raw string at ``key`` (a bitmap), b"" when absent; never sealed, so never a person's data."""
        return bytes(self._guard(self._client.get, key) or b"")

    def scored_newest(self, key: str, before: float | None, limit: int) -> list[tuple[str, float]]:
        """Up to ``limit`` members of a sorted set scored below ``before`` (or any), highest score first."""
        high = "+inf" if before is None else f"({before}"
        rows = self._guard(self._client.zrevrangebyscore, key, high, "-inf", start=0, num=limit, withscores=True)
        return [(member.decode(), score) for member, score in rows]

    def scored_up_to(self, key: str, highest: float, offset: int, limit: int) -> list[tuple[str, float]]:
        """Members of a sorted set scored at most ``highest``, lowest first: ``limit`` of them from ``offset``
        (O(log N + offset + limit): it does not grow with the members above ``highest``)."""
        return self.scored_between(key, float("-inf"), highest, offset, limit)

    def scored_between(
        self, key: str, lowest: float, highest: float, offset: int, limit: int
    ) -> list[tuple[str, float]]:
        """Members of a sorted set scored from ``lowest`` to ``highest`` (both inclusive), lowest first: ``limit``
        of them from ``offset``."""
        rows = self._guard(self._client.zrangebyscore, key, lowest, highest, start=offset, num=limit, withscores=True)
        return [(member.decode(), score) for member, score in rows]

    def scored_count(self, key: str, lowest: float, highest: float) -> int:
        """How many members of a sorted set are scored from ``lowest`` to ``highest``."""
        return int(self._guard(self._client.zcount, key, lowest, highest))

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
        return [self.codec.load(key, raw) for key, raw in zip(keys, self._guard(pipe.execute), strict=True)]

    def hash_get_json(self, key: str, field: str) -> Any:
        """The JSON value of one hash field, or None."""
        return self.codec.load(field_key(key, field), self._guard(self._client.hget, key, field))

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

    def stream_after(self, key: str, after: str | None, limit: int) -> list[tuple[str, dict[str, str]]]:
        """Up to ``limit`` stream entries after entry id ``after`` (or from the start), oldest first."""
        rows = self._guard(self._client.xrange, key, "-" if after is None else "(" + after, "+", limit)
        return [(i.decode(), {k.decode(): v.decode() for k, v in f.items()}) for i, f in rows]

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
        self, streams: list[tuple[str, dict[str, str], int | None]], hashes: list[tuple[str, dict[str, str]]]
    ) -> None:
        """Append to streams (capped at about their length, or not at all for None) and set hash fields, in one
        round trip; each append or set stands on its own (observations, access-log lines)."""
        pipe = self._client.pipeline(transaction=False)
        for key, fields, max_length in streams:
            pipe.xadd(key, fields, maxlen=max_length, approximate=True)
        for key, fields in hashes:
            pipe.hset(key, mapping=fields)
        self._guard(pipe.execute)

    # -- plain writes outside transactions (idempotency records, caches)
    def set_json_if_absent(self, key: str, value: Any, ttl_seconds: int | None) -> bool:
        """Store ``value`` only if ``key`` is free; True if stored. Also True when ``key`` holds ``value`` already:
        the answer to the SET was lost, and redis-py sent it again on a new connection, finding its first send's
        write (so ``value`` should be the caller's own: a nonce, a random name)."""
        if self._guard(self._client.set, key, self.codec.dump(key, value), nx=True, ex=ttl_seconds):
            return True
        return bool(self.get_json(key) == value)

    def set_json(self, key: str, value: Any, ttl_seconds: int | None = None) -> None:
        self._guard(self._client.set, key, self.codec.dump(key, value), ex=ttl_seconds)

    def hash_set(self, key: str, field: str, value: str) -> None:
        self._guard(self._client.hset, key, field, value)

    def set_json_many(self, items: list[tuple[str, Any]]) -> None:
        """Set several JSON values in one round trip, not atomically (observations, each whole on its own)."""
        pipe = self._client.pipeline(transaction=False)
        for key, value in items:
            pipe.set(key, self.codec.dump(key, value))
        self._guard(pipe.execute)

    def set_bytes_if_absent(self, key: str, value: bytes) -> bool:
        """Store bytes unless the key holds some already; True if stored."""
        return bool(self._guard(self._client.set, key, self.codec.dump_bytes(key, value), nx=True))

    def delete(self, key: str) -> None:
        self._guard(self._client.delete, key)

    def _guard(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return call(*args, **kwargs)
        except (*UNREACHABLE, ResponseError) as exc:
            if (refused := unavailable(exc)) is None:
                raise
            raise refused from exc

    def raw_client_for_tests(self) -> Any:
        """The Redis client, for tests that tamper with stored data on purpose."""
        return self._client
