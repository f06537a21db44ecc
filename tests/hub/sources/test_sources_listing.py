"""A worker keeps the list of connectors between resolutions and reads it again only after a change.

Every connector write (create, update, test, activation) sets a fresh change marker in the same
transaction; a resolution reads that marker (one GET) instead of the index and every record.
"""

from __future__ import annotations

import json

from hub.store import keys


def test_the_kept_list_follows_every_registry_change_and_nothing_else(app, registry, store):
    sources = app.extensions["hub"].sources
    registry.agency("market")
    registry.licence_type("biz-licence")
    connector = {"id": "own", "agency": "market", "kind": "licences", "provides": ["biz-licence"]}
    registry.post("/api/v1/connectors", {**connector, "config": {}, "timeout_ms": 1000})
    assert sources.active_records() == []  # registered inactive
    registry.post("/api/v1/connectors/own/test", {}, status=200)
    registry.post("/api/v1/connectors/own/activation", {"active": True}, status=200)
    assert [record["id"] for record in sources.active_records()] == ["own"]
    kept = sources.active_records()[0]
    assert sources.active_records()[0] is kept  # no change: the same list, not read again

    # A record written behind the registry's back (no marker) is not seen: proof the list was kept ...
    raw = store.raw_client_for_tests()
    raw.set(keys.connector("own"), json.dumps({**kept, "timeout_ms": 1234}))
    assert sources.active_records()[0]["timeout_ms"] == 1000
    # ... and any change through the registry (here: a test of the source) reads it again.
    registry.post("/api/v1/connectors/own/test", {}, status=200)
    assert sources.active_records()[0]["timeout_ms"] == 1234
    registry.post("/api/v1/connectors/own/activation", {"active": False}, status=200)
    assert sources.active_records() == []


def test_an_emptied_store_is_never_mistaken_for_the_kept_list(app, registry, store):
    sources = app.extensions["hub"].sources
    registry.agency("market")
    registry.licence_registry("market", [registry.licence_type("biz-licence")["code"]])
    assert len(sources.active_records()) == 1
    store.raw_client_for_tests().flushdb()  # as a restore into a running store would
    assert sources.active_records() == []


def test_a_store_without_a_marker_gets_one_and_the_list_is_kept_from_then(app, registry, store):
    # A store written before markers existed (or emptied since): the first reader sets one.
    sources = app.extensions["hub"].sources
    registry.agency("market")
    registry.licence_registry("market", [registry.licence_type("biz-licence")["code"]], connector_id="own")
    raw = store.raw_client_for_tests()
    raw.delete(keys.connectors_changed())
    kept = sources.active_records()[0]
    assert store.get_json(keys.connectors_changed()) is not None
    raw.set(keys.connector("own"), json.dumps({**kept, "timeout_ms": 1234}))  # behind the registry's back
    assert sources.active_records()[0] is kept
