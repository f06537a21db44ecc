"""Personal data sealed at rest (issue 16, item 5): AES-256-GCM per value, bound to its key, under a key
version that can be rotated; everything else stays plain JSON."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hub.store import case_keys, keys
from hub.store.client import Store
from hub.store.sealing import DEFLATED, MAGIC, SealBroken
from hub.store.transaction import dump_json

CASE = {"applicant": {"name": "李伟", "id_masked": "4401**********1235"}, "form": {"address": "体育西路 1 号"}}


@pytest.fixture
def other_store(settings, store):
    """Another hub's store on the same server, made by ``make(**settings changed)``."""
    made: list[Store] = []

    def make(**changes) -> Store:
        made.append(Store(replace(settings, **changes)))
        return made[-1]

    yield make
    for each in made:
        each.close()


def raw_value(store: Store, key: str) -> bytes:
    return store.raw_client_for_tests().get(key)


def test_a_case_record_is_sealed_and_a_registry_record_is_not(store):
    case_key = case_keys.application("market", "app.market.0123456789abcdef0123")
    store.set_json(case_key, CASE)
    stored = raw_value(store, case_key)
    assert stored.startswith(MAGIC) and "李伟".encode() not in stored and "体育西路".encode() not in stored
    assert store.get_json(case_key) == CASE
    store.set_json(keys.agency("market"), {"code": "market", "name": "Market"})
    assert raw_value(store, keys.agency("market")).startswith(b"{")  # nothing personal: plain, inspectable


def test_a_long_record_is_deflated_before_it_is_sealed_and_one_sealed_whole_still_opens(store):
    """Redis keeps every byte in memory (issue 17's 2 KB per licence): a record is deflated, then sealed."""
    key = case_keys.application("market", "app.market.0123456789abcdef0123")
    record = {**CASE, "timeline": [{"at": f"2026-03-0{n}T09:00:00+08:00", "status": "submitted"} for n in range(1, 9)]}
    store.set_json(key, record)
    stored = raw_value(store, key)
    assert stored.startswith(DEFLATED) and len(stored) < len(dump_json(record).encode())
    assert store.get_json(key) == record
    whole = store.codec.sealer.seal(key, dump_json(record).encode(), compress=False)  # as hubs before this sealed
    store.raw_client_for_tests().set(key, whole)
    assert whole.startswith(MAGIC) and store.get_json(key) == record


def test_a_sealed_value_moved_under_another_key_does_not_open(store):
    mine, theirs = (case_keys.application("market", f"app.market.{n * 20}") for n in "ab")
    store.set_json(mine, CASE)
    store.raw_client_for_tests().set(theirs, raw_value(store, mine))
    with pytest.raises(SealBroken):
        store.get_json(theirs)


def test_a_changed_byte_does_not_open(store):
    key = case_keys.application("market", "app.market.0123456789abcdef0123")
    store.set_json(key, CASE)
    changed = bytearray(raw_value(store, key))
    changed[-1] ^= 1
    store.raw_client_for_tests().set(key, bytes(changed))
    with pytest.raises(SealBroken):
        store.get_json(key)


def test_another_secret_does_not_open_it(store, other_store):
    key = case_keys.application("market", "app.market.0123456789abcdef0123")
    store.set_json(key, CASE)
    with pytest.raises(SealBroken, match="another secret"):
        other_store(secret_key="not-this-hubs-secret").get_json(key)


def test_dataset_rows_are_sealed_per_field(store):
    rows = keys.dataset_rows("health-csv", "fitness")
    store.atomic(lambda tx: tx.hash_set_json_many(rows, {"h1": {"holder": "欧阳秀兰"}, "h2": {"holder": "陈静"}}))
    raw = store.raw_client_for_tests()
    assert "欧阳秀兰".encode() not in b"".join(raw.hgetall(rows).values())
    assert store.hash_get_json(rows, "h1") == {"holder": "欧阳秀兰"}
    raw.hset(rows, "h2", raw.hget(rows, "h1"))  # one person's row under another's hash
    with pytest.raises(SealBroken):
        store.hash_get_json(rows, "h2")


def test_rotation_reads_old_values_and_reseal_rewrites_them(store, other_store):
    sealed_key = case_keys.application("market", "app.market.0123456789abcdef0123")
    plain_key = keys.evidence_cache("ev01", "identity", "ab" * 32)
    history = keys.licence_history("food", "X1")
    store.set_json(sealed_key, CASE)
    store.raw_client_for_tests().set(
        plain_key, b'{"fields":{"name":"\xe6\x9d\x8e\xe4\xbc\x9f"}}'
    )  # written before sealing
    store.atomic(lambda tx: tx.list_push_json(history, {"status": "valid", "by": "李伟"}))

    rotated = other_store(record_key_version=2)
    assert rotated.get_json(sealed_key) == CASE  # version 1 still opens
    assert rotated.get_json(plain_key) == {"fields": {"name": "李伟"}}
    assert rotated.reseal_personal_data() == 3
    assert raw_value(store, sealed_key)[len(MAGIC)] == 2
    assert raw_value(store, plain_key).startswith(MAGIC)
    assert rotated.list_all_json(history) == [{"status": "valid", "by": "李伟"}]
    assert rotated.reseal_personal_data() == 0  # nothing left under an old key
    with pytest.raises(SealBroken, match="above HUB_RECORD_KEY_VERSION"):
        store.get_json(sealed_key)  # a hub not yet told about the rotation refuses rather than guesses
