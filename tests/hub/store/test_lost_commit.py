"""Writes whose answer is lost, through a real TCP proxy to the real Redis that forwards the write and then cuts
the connection before the reply. A commit is not run again: the store says it is unavailable (503, the outcome
unknown) instead of running the transaction a second time and answering 409 for a change it just made (seen in
CI as a 409 "exists already" while Redis was killed under load). A ``SET NX`` that redis-py sends again on a new
connection, finding what its first try wrote, knows it as its own: a job's lease, the blob store's marker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis_cutter import ReplyCutter
from testbed import ON_CLUSTER

from hub.config import Settings
from hub.errors import Conflict, StoreUnavailable
from hub.store import embedded as embedded_redis
from hub.store.client import Store, Tx

pytestmark = pytest.mark.skipif(ON_CLUSTER, reason="the proxy stands before the embedded server")


def behind_a_cutter(settings, markers: tuple[bytes, ...], **where) -> Iterator[tuple[Store, ReplyCutter]]:
    cutter = ReplyCutter(str(settings.data_dir / embedded_redis.SOCKET_NAME), markers)
    proxied = Store(Settings(redis_url=cutter.url, secret_key="lost-commit-test", **where))
    yield proxied, cutter
    proxied.close()
    cutter.close()


@pytest.fixture
def through_cutter(settings, store) -> Iterator[tuple[Store, ReplyCutter]]:
    yield from behind_a_cutter(settings, (b"EXEC",))


def test_a_lease_whose_answer_was_lost_is_still_its_holder_s(settings, store):
    for proxied, cutter in behind_a_cutter(settings, (b"SET", b"lost-lease", b"NX")):
        assert proxied.acquire_lease("hub:{jobs}:lost-lease", "runner-a", 60_000)  # not skipped for the period
        assert cutter.cut.is_set()
        assert not proxied.acquire_lease("hub:{jobs}:lost-lease", "runner-b", 60_000)  # nobody else's


def test_a_blob_store_marker_whose_answer_was_lost_is_still_this_hub_s(settings, store, tmp_path):
    for proxied, cutter in behind_a_cutter(settings, (b"SET", b"blob-store-marker", b"NX"), data_dir=tmp_path):
        marker = proxied.claim_blob_store()  # a fresh store: this hub's marker, not "another hub's blob store"
        assert cutter.cut.is_set()
        assert proxied.blobs.exists(marker)


def test_a_commit_whose_reply_is_lost_is_unavailable_not_run_again(through_cutter, store):
    proxied, cutter = through_cutter
    key = "hub:{reg}:lost-commit-probe"

    def create(tx: Tx) -> None:
        if tx.exists(key):
            raise Conflict("exists already")
        tx.set_json(key, {"made": True})

    with pytest.raises(StoreUnavailable, match="may or may not have been made"):
        proxied.atomic(create)
    assert cutter.cut.is_set()
    assert store.get_json(key) == {"made": True}  # it was made: running it again would have said 409
