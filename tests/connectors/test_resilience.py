"""The circuit breaker (on an injected clock), retries with jitter under a deadline, and the guarded connector."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator

import pytest
from agency_stub import AgencyStub

from connectors.api import ConnectorError, ConnectorSpec, Environment, Health, NotHeld, Record, Subject
from connectors.resilience import CircuitBreaker, GuardedConnector, RetryPolicy
from connectors.rest import KIND

SUBJECT = Subject("resident-id", "1")
RECORD = Record(fields={"name": "Li Wei"})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Scripted:
    """A connector answering from a script: each item is returned, raised, or (a float) slept then Record."""

    def __init__(self, *script: object) -> None:
        self.script = list(script)
        self.calls = 0

    def fetch(self, evidence_type: str, subject: Subject, timeout_s: float) -> Record | NotHeld:
        self.calls += 1
        step = self.script[min(self.calls, len(self.script)) - 1]
        if isinstance(step, float):
            time.sleep(min(step, timeout_s))
            raise ConnectorError("timed out", retryable=True)
        if isinstance(step, BaseException):
            raise step
        assert isinstance(step, Record | NotHeld)
        return step

    def probe(self, timeout_s: float) -> Health:
        return Health(ok=True, latency_ms=1.0)


def fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        with pytest.raises(ConnectorError):
            breaker.call(lambda: (_ for _ in ()).throw(ConnectorError("down", retryable=True)))


# -- the breaker
def test_breaker_opens_after_five_consecutive_failures_and_refuses_fast() -> None:
    clock = Clock()
    breaker = CircuitBreaker(clock=clock)
    fail(breaker, 4)
    assert breaker.state == "closed" and breaker.consecutive_failures == 4
    fail(breaker, 1)
    assert breaker.state == "open" and breaker.opened_at == clock.now
    calls = []
    with pytest.raises(ConnectorError) as caught:
        breaker.call(lambda: calls.append(1) or RECORD)
    assert caught.value.detail == "circuit open" and not caught.value.retryable and calls == []


def test_success_and_not_held_reset_the_count() -> None:
    breaker = CircuitBreaker(clock=Clock())
    fail(breaker, 4)
    assert breaker.call(lambda: NotHeld()) == NotHeld()
    assert breaker.consecutive_failures == 0
    fail(breaker, 4)
    assert breaker.state == "closed"


def test_half_open_lets_one_probe_through_and_success_closes() -> None:
    clock = Clock()
    breaker = CircuitBreaker(reset_after_s=30, clock=clock)
    fail(breaker, 5)
    clock.now += 29.9
    assert breaker.state == "open"
    clock.now += 0.2
    assert breaker.state == "half-open"
    assert breaker.acquire()  # the probe is out...
    assert not breaker.acquire()  # ...and nobody else gets through meanwhile
    breaker.record_success()
    assert breaker.state == "closed" and breaker.opened_at is None
    assert breaker.call(lambda: RECORD) == RECORD


def test_a_failed_probe_reopens_for_another_full_period() -> None:
    clock = Clock()
    breaker = CircuitBreaker(reset_after_s=30, clock=clock)
    fail(breaker, 5)
    clock.now += 31
    fail(breaker, 1)
    assert breaker.state == "open" and breaker.opened_at == clock.now
    clock.now += 29
    assert breaker.state == "open"
    clock.now += 2
    assert breaker.state == "half-open"


def test_concurrent_callers_in_half_open_get_exactly_one_probe() -> None:
    clock = Clock()
    breaker = CircuitBreaker(clock=clock)
    fail(breaker, 5)
    clock.now += 30
    granted = []
    barrier = threading.Barrier(16)

    def try_once() -> None:
        barrier.wait()
        granted.append(breaker.acquire())

    threads = [threading.Thread(target=try_once) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert granted.count(True) == 1


def test_threshold_may_be_lower_but_never_above_five() -> None:
    breaker = CircuitBreaker(failure_threshold=2, clock=Clock())
    fail(breaker, 2)
    assert breaker.state == "open"
    with pytest.raises(ValueError):
        CircuitBreaker(failure_threshold=6)


# -- retries and the deadline
def guarded(connector: Scripted, **kwargs) -> GuardedConnector:
    return GuardedConnector(connector, rng=random.Random(7), **kwargs)


def test_a_retryable_failure_is_tried_again_within_two_tries() -> None:
    connector = Scripted(ConnectorError("503", retryable=True), RECORD)
    result = guarded(connector).fetch("identity", SUBJECT, 1.0)
    assert result.outcome == RECORD and result.attempts == 2 and connector.calls == 2
    assert result.latency_ms >= 0


def test_retries_are_bounded() -> None:
    connector = Scripted(ConnectorError("503", retryable=True))
    result = guarded(connector, retry=RetryPolicy(attempts=3)).fetch("identity", SUBJECT, 1.0)
    assert isinstance(result.outcome, ConnectorError) and result.attempts == 3 and connector.calls == 3


@pytest.mark.parametrize("answer", [ConnectorError("403", retryable=False), NotHeld(), RECORD])
def test_only_retryable_failures_are_retried(answer) -> None:
    connector = Scripted(answer, RECORD)
    result = guarded(connector).fetch("identity", SUBJECT, 1.0)
    assert result.outcome == answer and result.attempts == 1 and connector.calls == 1


def test_backoff_is_full_jitter_within_the_cap() -> None:
    policy = RetryPolicy(base_delay_s=0.1, max_delay_s=0.3)
    rng = random.Random(1)
    pauses = [policy.backoff_s(n, rng) for n in (1, 2, 3, 4) for _ in range(50)]
    assert all(0 <= pause <= 0.3 for pause in pauses) and len(set(pauses)) > 100
    assert max(policy.backoff_s(1, rng) for _ in range(50)) <= 0.1


def test_no_attempt_runs_past_the_deadline() -> None:
    connector = Scripted(0.4)  # each attempt uses its whole timeout and fails retryably
    guard = guarded(connector, attempt_timeout_s=0.4, retry=RetryPolicy(attempts=5, base_delay_s=0.01))
    started = time.monotonic()
    result = guard.fetch("identity", SUBJECT, 10.0, deadline=started + 0.6)
    elapsed = time.monotonic() - started
    assert isinstance(result.outcome, ConnectorError) and result.outcome.retryable
    assert result.attempts == 2  # 0.4 s, then the 0.2 s left
    assert elapsed < 0.6 + 1


def test_the_time_budget_bounds_the_whole_call() -> None:
    connector = Scripted(0.4)
    started = time.monotonic()
    result = guarded(connector, retry=RetryPolicy(attempts=3, base_delay_s=0.01)).fetch("identity", SUBJECT, 0.3)
    assert result.attempts == 1 and time.monotonic() - started < 0.3 + 1


def test_a_sample_fetch_is_one_attempt_past_the_breaker() -> None:
    clock = Clock()
    breaker = CircuitBreaker(clock=clock)
    fail(breaker, 5)
    connector = Scripted(ConnectorError("503", retryable=True), RECORD)
    guard = guarded(connector, breaker=breaker)
    assert guard.fetch_once("identity", SUBJECT, 1.0).outcome.detail == "503" and connector.calls == 1
    assert guard.fetch_once("identity", SUBJECT, 1.0).outcome == RECORD
    assert breaker.state == "open"  # an operator's test does not close (or count on) the circuit


def test_a_deadline_already_passed_makes_no_attempt() -> None:
    connector = Scripted(RECORD)
    result = guarded(connector).fetch("identity", SUBJECT, 1.0, deadline=time.monotonic() - 1)
    assert isinstance(result.outcome, ConnectorError) and result.attempts == 0 and connector.calls == 0


def test_no_backoff_sleeps_past_the_deadline() -> None:
    slept: list[float] = []
    connector = Scripted(ConnectorError("503", retryable=True))
    guard = guarded(connector, retry=RetryPolicy(base_delay_s=50, max_delay_s=50), sleep=slept.append)
    guard.rng = random.Random(3)
    result = guard.fetch("identity", SUBJECT, 0.5)
    assert result.attempts == 1 and all(pause < 0.5 for pause in slept)


def test_each_attempt_counts_on_the_breaker_and_an_open_breaker_stops_retries() -> None:
    clock = Clock()
    breaker = CircuitBreaker(clock=clock)
    connector = Scripted(ConnectorError("503", retryable=True))
    guard = guarded(connector, breaker=breaker, sleep=lambda _: None)
    guard.fetch("identity", SUBJECT, 1.0)
    guard.fetch("identity", SUBJECT, 1.0)
    result = guard.fetch("identity", SUBJECT, 1.0)  # fifth failure on its first try; the retry finds it open
    assert breaker.state == "open" and connector.calls == 5
    assert result.outcome.detail == "circuit open" and result.attempts == 2
    refused = guard.fetch("identity", SUBJECT, 1.0)
    assert refused.outcome.detail == "circuit open" and refused.attempts == 1 and connector.calls == 5


def test_an_unexpected_exception_is_a_failed_outcome_not_a_crash() -> None:
    result = guarded(Scripted(KeyError("bug"))).fetch("identity", SUBJECT, 1.0)
    assert isinstance(result.outcome, ConnectorError) and "KeyError" in result.outcome.detail
    assert not result.outcome.retryable


# -- against a real agency
@pytest.fixture
def stub() -> Iterator[AgencyStub]:
    server = AgencyStub().start()
    yield server
    server.stop()


def test_guarded_rest_connector_retries_a_500_and_opens_on_a_dead_agency(stub) -> None:
    environment = Environment(allowed_networks=("127.0.0.1/32",))
    config = KIND.validate_config({"url": stub.template()}, environment)
    connector = KIND.build(ConnectorSpec("c", "market", "rest", ("boom",), config, 1000), environment)
    clock = Clock()
    guard = GuardedConnector(connector, breaker=CircuitBreaker(clock=clock))
    try:
        result = guard.fetch("boom", SUBJECT, 1.0)
        assert isinstance(result.outcome, ConnectorError) and result.attempts == 2 and len(stub.requests) == 2
        assert guard.fetch("ok", SUBJECT, 1.0).outcome.fields["full_name"] == "Li Wei"
        assert guard.breaker.consecutive_failures == 0
        assert isinstance(guard.fetch("missing", SUBJECT, 1.0).outcome, NotHeld)
        for _ in range(3):
            guard.fetch("boom", SUBJECT, 1.0)
        assert guard.breaker.state == "open"
        before = len(stub.requests)
        assert guard.fetch("ok", SUBJECT, 1.0).outcome.detail == "circuit open" and len(stub.requests) == before
        clock.now += 30
        assert isinstance(guard.fetch("ok", SUBJECT, 1.0).outcome, Record) and guard.breaker.state == "closed"
        assert guard.probe(1.0).ok
    finally:
        connector.close()
