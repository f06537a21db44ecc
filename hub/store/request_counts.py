"""Request counters for the rate limits: sliding-window counts, checked and counted in one Redis script, the
caller's token record read in the same round trip.

A bucket holds one small hash per limit: ``n`` the index of the current window (``now // window``), ``c``
its count, ``p`` the previous window's. A limit sees the previous window's count weighted by how much of
it still overlaps the last ``window`` seconds, plus the current window's, which is the sliding-window
counter of Cloudflare and of Flask-Limiter's default. A request is counted in every limit of its bucket or,
if one would be exceeded, in none.

The script also reads the bearer token's record when asked, so an authenticated request pays one round
trip for both, and a token revoked a moment ago is refused at once (nothing is kept in the worker). A
script touches one hash slot only, so on a Redis Cluster the token (in the registry's slot) is read first
and the bucket counted second.

If Redis cannot be reached, or refuses writes (a full disk), the counts go on in this worker's memory, with a
warning, and Redis is tried again after a back-off that doubles up to a minute: requests are neither refused
nor unlimited meanwhile.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from redis.exceptions import ResponseError

from hub.config import Settings
from hub.rate_limits import RateLimit
from hub.store.server import UNREACHABLE, unavailable
from hub.store.transaction import Codec

log = logging.getLogger(__name__)
KEY_PREFIX = "hub-ratelimit"  # outside the hub's own hub: keys, so backups and re-sealing pass them by
FIRST_BACKOFF_S, LAST_BACKOFF_S = 1.0, 60.0
UNREAD = object()  # a token that could not be read: Redis is away, and the request's own look-up will say so
MEMORY_BUCKETS = 100_000  # past this many, a worker's in-memory counts drop the ones whose windows are over

# KEYS: [the token's record, if ARGV[3] == "1"], one key per limit, [a hash to read whole, if ARGV[4] == "1"];
# ARGV: now, cost, the two flags, then each limit's amount and window. Returns {0} for a token that does not exist
# (nothing counted), else {1 counted | 2 refused, the refusing limit's position, its current and previous
# counts, the token, the hash's fields and values}.
_SCRIPT = """
local now, cost = tonumber(ARGV[1]), tonumber(ARGV[2])
local token, first, last = false, 1, #KEYS
if ARGV[3] == "1" then
  token = redis.call("GET", KEYS[1])
  if not token then return {0} end
  first = 2
end
local read = false
if ARGV[4] == "1" then
  read = redis.call("HGETALL", KEYS[last])
  last = last - 1
end
local seen = {}
for i = first, last do
  local at = 5 + (i - first) * 2
  local amount, window = tonumber(ARGV[at]), tonumber(ARGV[at + 1])
  local index = math.floor(now / window)
  local state = redis.call("HMGET", KEYS[i], "n", "c", "p")
  local n, current, previous = tonumber(state[1]), 0, 0
  if n == index then
    current, previous = tonumber(state[2]), tonumber(state[3])
  elseif n == index - 1 then
    previous = tonumber(state[2])
  end
  if previous * (1 - (now - index * window) / window) + current + math.max(cost, 1) > amount then
    return {2, i - first, current, previous, token, read}
  end
  seen[#seen + 1] = {KEYS[i], index, current, previous, window}
end
if cost > 0 then
  for _, s in ipairs(seen) do
    redis.call("HSET", s[1], "n", string.format("%d", s[2]), "c", s[3] + cost, "p", s[4])
    redis.call("PEXPIRE", s[1], s[5] * 2000)
  end
end
return {1, -1, 0, 0, token, read}
"""


@dataclass(frozen=True)
class Counted:
    """What counting a request said: refused or not, by which limit, and when one more would fit."""

    refused_by: RateLimit | None
    retry_after_s: float
    token: Any = None  # the token's record when asked (None: no such token), or UNREAD with Redis away
    read: dict[str, str] | None = None  # the hash asked to be read along, when it could be ({}: no such hash)


class ReadAhead(NamedTuple):
    """A read to make in the same round trip as a count: a whole hash (an answer kept ready, say)."""

    key: str


def retry_after(limit: RateLimit, now: float, current: int, previous: int, cost: int) -> float:
    """Seconds until ``cost`` more requests fit in ``limit``, given the counts of its two windows."""
    cost = max(cost, 1)
    window = limit.seconds
    elapsed = (now - math.floor(now / window) * window) / window  # as the script reckons it
    if cost > limit.amount:
        return 2.0 * window
    if current + cost <= limit.amount:  # fits once enough of the previous window has slid out
        waited = 1 - (limit.amount - current - cost) / previous if previous else elapsed
        return max(0.0, waited - elapsed) * window
    # the next window, where this one's count becomes the weighted one
    return (1 - elapsed + max(0.0, 1 - (limit.amount - cost) / current)) * window


def _fields(raw: list | None) -> dict[str, str] | None:
    """A hash as HGETALL within a script gives it (field, value, ...), or None where it was not read."""
    return None if raw is None else {k.decode(): v.decode() for k, v in zip(raw[::2], raw[1::2], strict=True)}


def _bucket_keys(bucket: str, limits: Sequence[RateLimit]) -> list[str]:
    return [f"{KEY_PREFIX}:{{{bucket}}}:{limit.amount}/{limit.seconds}" for limit in limits]


class _MemoryCounts:
    """The same counts in this worker's memory, for while Redis cannot be reached."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, tuple[int, int, int]] = {}  # key -> (window index, current, previous)

    def count(self, keys: list[str], limits: Sequence[RateLimit], now: float, cost: int) -> tuple[int, int, int]:
        """(position of the refusing limit or -1, its current count, its previous count)."""
        with self._lock:
            if len(self._state) > MEMORY_BUCKETS:
                self._state.clear()  # an outage long enough to fill this: every window in it is over
            seen = []
            for position, (key, limit) in enumerate(zip(keys, limits, strict=True)):
                index = math.floor(now / limit.seconds)
                n, current, previous = self._state.get(key, (index, 0, 0))
                if n != index:
                    current, previous = 0, current if n == index - 1 else 0
                overlap = 1 - (now - index * limit.seconds) / limit.seconds  # as the script reckons it
                if previous * overlap + current + max(cost, 1) > limit.amount:
                    return position, current, previous
                seen.append((key, index, current, previous))
            for key, index, current, previous in seen if cost > 0 else ():
                self._state[key] = (index, current + cost, previous)
        return -1, 0, 0


class RequestCounts:
    """The rate limits' counters, for :class:`~hub.store.client.Store`, which supplies the client."""

    settings: Settings
    _client: Any
    codec: Codec

    def count_requests(
        self,
        bucket: str,
        limits: Sequence[RateLimit],
        now: float,
        cost: int = 1,
        token_key: str | None = None,
        read_ahead: ReadAhead | None = None,
    ) -> Counted | None:
        """Count ``cost`` requests (0: only check one more would fit) in every limit of ``bucket``, unless one
        would be exceeded. With ``token_key``, read that token's record too, and count nothing (None) if
        there is no such token. With ``read_ahead``, make that read in the same round trip where one server
        holds everything (the answer a route will send, say; on a cluster it is left to the route)."""
        keys = _bucket_keys(bucket, limits)
        args: list[Any] = [repr(now), cost, "0", "0"]
        for limit in limits:
            args += [limit.amount, limit.seconds]

        def in_memory() -> list[Any]:
            position, current, previous = self._memory.count(keys, limits, now, cost)
            return [1 if position < 0 else 2, position, current, previous, UNREAD if token_key else None, None]

        if self.settings.redis_cluster:
            read_ahead = None
        if read_ahead is not None:
            args[3] = "1"
            keys_sent = [*keys, read_ahead.key]
        else:
            keys_sent = keys
        if token_key is None:
            answer = self._counted_or_local(lambda: self._script(keys=keys_sent, args=args), in_memory)
        elif self.settings.redis_cluster:  # the token's slot first, then the bucket's
            read = self._counted_or_local(lambda: [self._client.get(token_key)], lambda: [UNREAD])
            if read[0] is None:
                return None
            answer = self._counted_or_local(lambda: self._script(keys=keys, args=args), in_memory)
            answer = [*answer[:4], read[0], None]
        else:
            args[2] = "1"
            answer = self._counted_or_local(lambda: self._script(keys=[token_key, *keys_sent], args=args), in_memory)
        if answer[0] == 0:
            return None
        token = answer[4]
        if token_key is not None and token is not UNREAD:
            token = self.codec.load(token_key, token)
        read_back = None if read_ahead is None or len(answer) < 6 else _fields(answer[5])
        position, current, previous = (int(value) for value in answer[1:4])
        if answer[0] == 1 or position < 0:
            return Counted(None, 0.0, token, read_back)
        limit = limits[position]
        return Counted(limit, retry_after(limit, now, current, previous, cost), token, read_back)

    # -- Redis, or this worker's memory while Redis is away
    def _counted_or_local(self, on_redis: Callable[[], Any], in_memory: Callable[[], Any]) -> Any:
        away = self.__dict__.setdefault("_away", {"until": 0.0, "backoff": 0.0})
        if time.monotonic() < away["until"]:
            return in_memory()
        try:
            answer = on_redis()
        except (*UNREACHABLE, ResponseError) as exc:
            if unavailable(exc) is None:
                raise
            if not away["backoff"]:
                log.warning(
                    "rate limits: the store cannot be reached; falling back to in-memory storage",
                    extra={"error": type(exc).__name__},
                )
            away["backoff"] = min(LAST_BACKOFF_S, max(FIRST_BACKOFF_S, away["backoff"] * 2))
            away["until"] = time.monotonic() + away["backoff"]
            return in_memory()
        if away["backoff"]:
            log.warning("rate limits: the store answers again; counting there")
            away["backoff"] = 0.0
        return answer

    @property
    def _memory(self) -> _MemoryCounts:
        return self.__dict__.setdefault("_memory_counts", _MemoryCounts())

    @property
    def _script(self) -> Any:
        script = self.__dict__.get("_count_script")
        if script is None:
            script = self.__dict__["_count_script"] = self._client.register_script(_SCRIPT)
        return script
