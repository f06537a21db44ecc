"""The store's transactions: optimistic ones (:meth:`Transactions.atomic`) and pipelined bulk writes."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection
from typing import Any, TypeVar

from redis.exceptions import ResponseError, WatchError

from hub.errors import StoreUnavailable
from hub.store.server import UNREACHABLE, unavailable
from hub.store.transaction import Codec, HotKeyLocks, Tx

T = TypeVar("T")
MAX_TRANSACTION_ATTEMPTS = 50
BACKOFF_FIRST_S, BACKOFF_CAP_S = 0.0005, 0.05  # at most ~2.2 s of waiting before a transaction gives up
# How redis-py words the WatchError it raises when a watching connection breaks (redis/client.py).
LOST_WHILE_WATCHING = "occurred while watching"


class _Lost:
    """Every attempt so far lost a race; ``hot``: the hot keys of the first that lost on some, at attempt ``at``."""

    hot: frozenset[str] = frozenset()
    at = 0


class Transactions:
    """Transactions for :class:`~hub.store.client.Store`, which supplies the client."""

    _client: Any
    codec: Codec
    hot_key_locks: HotKeyLocks
    _guard: Callable[..., Any]

    def atomic(self, work: Callable[[Tx], T], hot: Collection[str] = ()) -> T:
        """Run ``work`` as one optimistic transaction, again on fresh data if a watched key changed; after a loss
        on a hot key (an audit chain's head), again holding this process's lock of it (HotKeyLocks). A caller
        that knows its transaction changes a hot key may name it in ``hot``: its lock is held from the start."""
        lost, start = _Lost(), 0
        lost.hot = frozenset(hot)
        outcome: Any = lost
        if not lost.hot:
            outcome = self._attempts(work, range(MAX_TRANSACTION_ATTEMPTS), lost)
            start = lost.at + 1
        if outcome is lost and lost.hot:
            with self.hot_key_locks.held(lost.hot):
                outcome = self._attempts(work, range(start, MAX_TRANSACTION_ATTEMPTS), lost)
        if outcome is lost:
            raise StoreUnavailable("too much contention: the transaction was retried too often")
        return outcome

    def _attempts(self, work: Callable[[Tx], T], attempts: range, lost: _Lost) -> Any:
        """The outcome of the first of ``attempts`` that commits; ``lost`` (with the hot keys of the last loss)
        if each lost a race."""
        for attempt in attempts:
            with self._client.pipeline(transaction=True) as pipe:
                tx = Tx(pipe, self.codec)
                try:
                    result = work(tx)
                    tx._commit()
                    return result
                except WatchError as exc:
                    if tx.committing and LOST_WHILE_WATCHING in str(exc):
                        # redis-py reports a connection lost during EXEC as a WatchError, but the transaction
                        # may have been applied: running it again could answer 409 for a change just made.
                        raise StoreUnavailable(
                            "the store went away during a commit, which may or may not have been made; "
                            "retry with the same Idempotency-Key"
                        ) from exc
                    if tx.hot and not lost.hot:
                        lost.hot, lost.at = frozenset(tx.hot), attempt
                        return lost  # run again at once, holding the hot keys' locks
                    # Another writer won this round. Back off at random over a window that doubles with
                    # each loss (capped), so on a hot key (one audit chain under load) the losers spread
                    # out instead of colliding again, and none loses every round.
                    window = min(BACKOFF_CAP_S, BACKOFF_FIRST_S * 2 ** min(attempt, 16))
                    time.sleep(random.uniform(0, window))  # noqa: S311 - not crypto
                    continue
                except (*UNREACHABLE, ResponseError) as exc:
                    if (refused := unavailable(exc)) is None:
                        raise
                    raise refused from exc
        return lost

    def bulk(self, work: Callable[[Tx], T]) -> T:
        """Send the writes ``work`` queues on its Tx in one pipelined round trip, not as a transaction.

        For loading many records at once (the benchmarks fill the store with a million licences this
        way): ``work`` may only write, since nothing is watched, and a failure part-way leaves the
        writes sent so far in place.
        """
        with self._client.pipeline(transaction=False) as pipe:
            tx = Tx(pipe, self.codec)
            result = work(tx)
            for write in tx._writes:
                write(pipe)
            self._guard(pipe.execute)
        return result
