"""Keeping a failing source from slowing the hub: a circuit breaker, bounded retries with jitter, a deadline.

:class:`GuardedConnector` wraps any :class:`~connectors.api.Connector`. Each attempt passes through the
connector's :class:`CircuitBreaker`; only ``retryable`` failures are tried again, after a full-jitter
backoff, and never past the caller's deadline. The caller gets a :class:`FetchResult` and never an
exception, so a fan-out can treat every source alike.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from .api import Connector, ConnectorError, Health, NotHeld, Record, Subject

log = logging.getLogger(__name__)

Clock = Callable[[], float]
State = Literal["closed", "open", "half-open"]
MAX_FAILURE_THRESHOLD = 5  # the rule: open after at most 5 consecutive failures


class CircuitBreaker:
    """Closed -> open after ``failure_threshold`` consecutive failures; half-open lets one probe call through.

    Thread-safe. ``clock`` is injectable so tests can move time without sleeping.
    """

    def __init__(
        self, failure_threshold: int = MAX_FAILURE_THRESHOLD, reset_after_s: float = 30.0, clock: Clock = time.monotonic
    ) -> None:
        if not 1 <= failure_threshold <= MAX_FAILURE_THRESHOLD:
            raise ValueError(f"failure_threshold must be between 1 and {MAX_FAILURE_THRESHOLD}")
        if reset_after_s <= 0:
            raise ValueError("reset_after_s must be positive")
        self.failure_threshold = failure_threshold
        self.reset_after_s = reset_after_s
        self._clock = clock
        self._lock = threading.Lock()
        self._open = False
        self._probing = False  # half-open and the one probe call is out
        self._failures = 0
        self._opened_at: float | None = None

    @property
    def state(self) -> State:
        """``closed``, ``open``, or ``half-open`` (open long enough that the next call is a probe)."""
        with self._lock:
            return self._state()

    @property
    def consecutive_failures(self) -> int:
        """Failures since the last success."""
        with self._lock:
            return self._failures

    @property
    def opened_at(self) -> float | None:
        """When the circuit last opened (on the breaker's clock), or None while closed."""
        with self._lock:
            return self._opened_at

    def _state(self) -> State:
        if not self._open:
            return "closed"
        if self._probing or (self._opened_at is not None and self._clock() - self._opened_at >= self.reset_after_s):
            return "half-open"
        return "open"

    def acquire(self) -> bool:
        """Whether a call may go now; in half-open only the first caller gets True until it reports back."""
        with self._lock:
            state = self._state()
            if state == "closed":
                return True
            if state == "half-open" and not self._probing:
                self._probing = True
                return True
            return False

    def record_success(self) -> None:
        """A call succeeded (NotHeld included): close the circuit."""
        with self._lock:
            self._open = self._probing = False
            self._failures = 0
            self._opened_at = None

    def record_failure(self) -> None:
        """A call failed: count it, and open (or re-open, after a failed probe) when due."""
        with self._lock:
            self._failures += 1
            if self._probing or self._failures >= self.failure_threshold:
                self._open = True
                self._probing = False
                self._opened_at = self._clock()

    def call(self, fn: Callable[[], Record | NotHeld]) -> Record | NotHeld:
        """``fn()`` under the breaker: refused at once with ConnectorError("circuit open") while open."""
        if not self.acquire():
            raise ConnectorError("circuit open", retryable=False)
        try:
            result = fn()
        except BaseException:
            self.record_failure()
            raise
        self.record_success()
        return result


@dataclass(frozen=True)
class RetryPolicy:
    """How many tries in all, and the full-jitter backoff between them: uniform(0, min(cap, base * 2**n))."""

    attempts: int = 2
    base_delay_s: float = 0.05
    max_delay_s: float = 1.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")

    def backoff_s(self, retry_number: int, rng: random.Random) -> float:
        """The pause before retry number ``retry_number`` (1 for the first retry)."""
        return rng.uniform(0, min(self.max_delay_s, self.base_delay_s * 2 ** (retry_number - 1)))


@dataclass(frozen=True)
class FetchResult:
    """What one guarded fetch came to: the outcome, how long it took in all, and how many attempts it made."""

    outcome: Record | NotHeld | ConnectorError
    latency_ms: float
    attempts: int


@dataclass
class GuardedConnector:
    """A connector behind its circuit breaker, with bounded retries inside each call's time budget.

    ``attempt_timeout_s`` caps one attempt; by default an attempt may use all that is left of the budget.
    """

    connector: Connector
    breaker: CircuitBreaker = field(default_factory=CircuitBreaker)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    attempt_timeout_s: float | None = None
    rng: random.Random = field(default_factory=random.Random)
    sleep: Callable[[float], None] = time.sleep

    def fetch(
        self,
        evidence_type: str,
        subject: Subject,
        timeout_s: float,
        deadline: float | None = None,
        fields: frozenset[str] | None = None,
    ) -> FetchResult:
        """Fetch (only ``fields``) with retries, within ``timeout_s`` in all and never past ``deadline``
        (``time.monotonic()``)."""
        started = time.monotonic()
        deadline = started + timeout_s if deadline is None else min(deadline, started + timeout_s)
        attempts = 0
        outcome: Record | NotHeld | ConnectorError = ConnectorError("no time left for an attempt", retryable=True)
        while attempts < self.retry.attempts:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            attempts += 1
            attempt_s = remaining if self.attempt_timeout_s is None else min(self.attempt_timeout_s, remaining)
            outcome = self._attempt(evidence_type, subject, attempt_s, fields=fields)
            if not isinstance(outcome, ConnectorError) or not outcome.retryable or attempts >= self.retry.attempts:
                break
            pause = self.retry.backoff_s(attempts, self.rng)
            if time.monotonic() + pause >= deadline:
                break  # no time left for another try
            self.sleep(pause)
        return FetchResult(outcome, (time.monotonic() - started) * 1000, attempts)

    def fetch_once(self, evidence_type: str, subject: Subject, timeout_s: float) -> FetchResult:
        """One attempt, past the breaker and without retries (the operator's sample fetch when testing a source)."""
        started = time.monotonic()
        outcome = self._attempt(evidence_type, subject, timeout_s, guarded=False)
        return FetchResult(outcome, (time.monotonic() - started) * 1000, 1)

    def _attempt(
        self,
        evidence_type: str,
        subject: Subject,
        timeout_s: float,
        guarded: bool = True,
        fields: frozenset[str] | None = None,
    ) -> Record | NotHeld | ConnectorError:
        def call() -> Record | NotHeld:
            if fields is None:
                return self.connector.fetch(evidence_type, subject, timeout_s)
            return self.connector.fetch(evidence_type, subject, timeout_s, fields)

        try:
            return self.breaker.call(call) if guarded else call()
        except ConnectorError as exc:
            return exc
        except Exception as exc:
            # A bug in a connector must not take the resolution down with it: it is one more failed source.
            log.exception("connector %r raised unexpectedly", self.connector)
            return ConnectorError(f"connector failed unexpectedly ({type(exc).__name__})", retryable=False)

    def probe(self, timeout_s: float) -> Health:
        """The connector's own health probe (past the breaker: it is how an operator checks a source)."""
        try:
            return self.connector.probe(timeout_s)
        except Exception as exc:
            return Health(ok=False, latency_ms=0.0, detail=f"probe failed ({type(exc).__name__})")
