"""The rate limits' counters (hub.store.request_counts): sliding windows counted in one Redis script, the same
counts in a worker's memory while Redis is away, and the bearer token's record read in the same round trip.

Times are given, not read from the clock: T0 starts a 60-second window.
"""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.http.authn import hash_token
from hub.rate_limits import RateLimit
from hub.store import keys
from hub.store.request_counts import _bucket_keys, _MemoryCounts, retry_after

T0 = 1_800_000_000.0  # a multiple of 60 (and of 3600)
FOUR_A_MINUTE = (RateLimit(4, 60),)


def bucket() -> str:
    return "test:" + uuid.uuid4().hex


def test_a_full_window_refuses_until_enough_of_it_has_slid_out(store):
    name = bucket()
    assert [store.count_requests(name, FOUR_A_MINUTE, T0 + 50).refused_by for _ in range(4)] == [None] * 4
    refused = store.count_requests(name, FOUR_A_MINUTE, T0 + 50)
    assert refused.refused_by == RateLimit(4, 60)
    assert refused.retry_after_s == pytest.approx(25.0)  # at T0 + 75 the last minute holds 4 * 45/60 = 3 of them

    # 10 s into the next window, the four still weigh 4 * 50/60: one more makes 4.33
    assert store.count_requests(name, FOUR_A_MINUTE, T0 + 70).retry_after_s == pytest.approx(5.0)
    assert store.count_requests(name, FOUR_A_MINUTE, T0 + 75).refused_by is None
    assert store.count_requests(name, FOUR_A_MINUTE, T0 + 75).refused_by == RateLimit(4, 60)
    assert store.count_requests(name, FOUR_A_MINUTE, T0 + 200).refused_by is None  # two windows on: forgotten


def test_every_limit_of_a_bucket_must_have_room_and_a_refused_request_counts_in_none(store):
    name, limits = bucket(), (RateLimit(2, 1), RateLimit(3, 60))
    assert store.count_requests(name, limits, T0 + 0.1).refused_by is None
    assert store.count_requests(name, limits, T0 + 0.2).refused_by is None
    assert store.count_requests(name, limits, T0 + 0.3).refused_by == RateLimit(2, 1)  # counted in neither
    assert store.count_requests(name, limits, T0 + 1.5).refused_by is None  # so the minute holds 3, not 4
    assert store.count_requests(name, limits, T0 + 2.5).refused_by == RateLimit(3, 60)


def test_a_check_of_cost_zero_counts_nothing(store):
    name = bucket()
    for _ in range(10):
        assert store.count_requests(name, FOUR_A_MINUTE, T0 + 1, cost=0).refused_by is None
    for _ in range(4):
        store.count_requests(name, FOUR_A_MINUTE, T0 + 1)
    assert store.count_requests(name, FOUR_A_MINUTE, T0 + 1, cost=0).refused_by == RateLimit(4, 60)


def test_the_token_is_read_with_the_count_and_an_unknown_one_counts_nothing(store, registry):
    registry.agency("market")
    secret = registry.token("market", "agency")["Authorization"].split()[1]
    name = bucket()
    counted = store.count_requests(name, FOUR_A_MINUTE, T0, token_key=keys.token(hash_token(secret)))
    assert counted.refused_by is None and counted.token["agency"] == "market" and "agency" in counted.token["roles"]
    assert store.count_requests(name, FOUR_A_MINUTE, T0, token_key=keys.token(hash_token("hub_forged"))) is None
    for _ in range(3):  # the forged look-up counted nothing: three more fit
        assert store.count_requests(name, FOUR_A_MINUTE, T0).refused_by is None
    assert store.count_requests(name, FOUR_A_MINUTE, T0).refused_by is not None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(st.tuples(st.floats(0, 40), st.integers(0, 2)), min_size=1, max_size=30),
    amounts=st.tuples(st.integers(1, 6), st.integers(1, 12)),
)
def test_the_script_and_the_memory_fallback_count_alike(store, steps, amounts):
    limits = (RateLimit(amounts[0], 10), RateLimit(amounts[1], 60))
    name, memory, now = bucket(), _MemoryCounts(), T0
    memory_keys = _bucket_keys(name, limits)
    for wait, cost in steps:
        now += wait
        on_redis = store.count_requests(name, limits, now, cost=cost)
        position, current, previous = memory.count(memory_keys, limits, now, cost)
        in_memory = None if position < 0 else limits[position]
        assert on_redis.refused_by == in_memory
        if in_memory is not None:
            assert on_redis.retry_after_s == retry_after(in_memory, now, current, previous, cost)


def test_retry_after_is_never_negative_and_a_request_larger_than_the_limit_waits_two_windows():
    limit = RateLimit(4, 60)
    assert retry_after(limit, T0 + 59, 0, 4, 1) >= 0
    assert retry_after(limit, T0, 0, 0, 5) == 120.0
