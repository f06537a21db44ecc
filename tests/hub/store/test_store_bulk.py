"""Store.bulk: many writes in one pipelined round trip, as the benchmarks seed licences with it."""

from __future__ import annotations

from hub.licences import issuance as licences
from hub.store import keys


def test_bulk_writes_land_as_a_transaction_would_write_them(app) -> None:
    store = app.extensions["hub"].store
    record = {
        "type": "bulk-type",
        "number": "BULK-TYPE-330100-2026-000001-X",
        "issued_at": "2026-01-01T00:00:00Z",
        "holder": {"subject_hash": "ab" * 32},
    }

    def work(tx) -> int:
        licences.write_record(tx, record)
        tx.set_json("bulk:other", {"n": 1})
        return 7

    assert store.bulk(work) == 7
    number_key = "BULKTYPE3301002026000001X"
    assert store.get_json(keys.licence("bulk-type", number_key)) == record
    assert store.index_page(keys.licence_index("bulk-type"), None, 10) == [number_key]
    assert store.index_page(keys.licence_holder_index("bulk-type", "ab" * 32), None, 10) == [number_key]
    assert store.list_all_json(keys.licence_history("bulk-type", number_key)) == []  # issuance: the record itself
    assert store.get_json("bulk:other") == {"n": 1}
