"""The audit chain: every registry change is an entry, appended atomically; tampering is detected."""

from __future__ import annotations

import hashlib
import json
import threading

from testbed import OPERATOR, credit_code_of

from hub.audit import log as audit
from hub.audit import verification
from hub.context import Context
from hub.store import keys


def entries(store) -> list[dict]:
    return [fields for _, fields in store.stream_entries(keys.audit_stream(keys.REGISTRY))]


# One entry's fields, and the canonical JSON its hash covers written out by hand: every field but the hash
# itself, keys sorted, ", " and ": " between them, non-ASCII text as it is (UTF-8), ``detail`` a JSON string.
ENTRY = {
    "seq": "1",
    "at": "2026-06-15T01:30:00.000000+00:00",
    "actor": "operator/token:0123456789abcdef",
    "action": "agency.create",
    "target": "agency:market",
    "request_id": "0123456789abcdef0123456789abcdef",
    "detail": '{"code":"market","name":"杭州市市场监督管理局"}',
    "prev": "0" * 64,
    "hash": "not part of what is hashed",
}
CANONICAL = (
    r'{"action": "agency.create", "actor": "operator/token:0123456789abcdef", '
    r'"at": "2026-06-15T01:30:00.000000+00:00", '
    r'"detail": "{\"code\":\"market\",\"name\":\"杭州市市场监督管理局\"}", '
    r'"prev": "0000000000000000000000000000000000000000000000000000000000000000", '
    r'"request_id": "0123456789abcdef0123456789abcdef", "seq": "1", "target": "agency:market"}'
)


def test_an_entry_hash_is_sha256_of_its_canonical_json():
    assert audit.ENTRY_FIELDS == ("seq", "at", "actor", "action", "target", "request_id", "detail", "prev")
    expected = hashlib.sha256(CANONICAL.encode("utf-8")).hexdigest()
    assert expected == "709e138b94b3acd1f8e78e5e9144b08c5578ea2cd8234b10fffebae950ee887f"  # by sha256sum
    assert audit.entry_hash(ENTRY) == expected
    for name in audit.ENTRY_FIELDS:  # each field is covered: changing any changes the hash
        assert audit.entry_hash(ENTRY | {name: ENTRY[name] + "x"}) != expected


def test_every_change_is_an_entry_with_actor_action_target_time_and_request_id(client, registry, store, audit_verdict):
    registry.agency("market")
    registry.evidence_type("identity")
    registry.service_item("item-1")
    registry.service_item("item-1")
    rows = entries(store)
    assert [(r["action"], r["target"]) for r in rows] == [
        ("token.create", "token:" + rows[0]["target"].split(":")[1]),
        ("agency.create", "agency:market"),
        ("evidence-type.create", "evidence-type:identity"),
        ("service-item.create", "service-item:item-1@1"),
        ("service-item.new-version", "service-item:item-1@2"),
    ]
    assert all(r["actor"].startswith("operator/token:") for r in rows[1:])
    assert all(r["at"].endswith("+00:00") and len(r["request_id"]) == 32 for r in rows)
    assert json.loads(rows[1]["detail"]) == {
        "code": "market",
        "name": "Agency market",
        "region": "440000",
        "kind": "agency",
        "credit_code": credit_code_of("market"),
    }
    # ... and in the PKI's partition, its creation and the agency's seal
    assert audit_verdict() == {
        "intact": True,
        "entries": 5 + 2,
        "problems": [],
        "checkpoints": {"count": 0, "latest": None, "signatures_checked": 0, "problems": []},
    }


def test_request_id_links_entry_and_request(client, registry, store):
    client.post(
        "/api/v1/agencies",
        json={"code": "a", "name": "A", "region": "440000"},
        headers=OPERATOR | {"X-Request-ID": "req-0000-linked"},
    )
    assert entries(store)[-1]["request_id"] == "req-0000-linked"


def test_refused_change_leaves_no_entry(client, registry, store):
    before = len(entries(store))
    body = {"code": "c", "agency": "ghost", "kind": "rest", "provides": ["x"], "config": {}}
    assert client.post("/api/v1/connectors", json=body, headers=OPERATOR).status_code == 422
    assert len(entries(store)) == before


def test_changed_entry_breaks_the_chain(client, registry, store, audit_verdict):
    registry.agency("a")
    registry.agency("b")
    raw = store.raw_client_for_tests()
    stream = keys.audit_stream(keys.REGISTRY)
    rows = raw.xrange(stream)
    # Rewrite the stream with one field of the middle entry changed, keeping ids and order.
    raw.delete(stream)
    for entry_id, fields in rows:
        if fields[b"target"] == b"agency:a":
            fields[b"actor"] = b"operator/token:someone-else"
        raw.xadd(stream, fields, id=entry_id)
    report = audit_verdict()
    assert report["intact"] is False
    assert report["entries"] == 3 + 3  # token, a, b; and the PKI's creation and two seals
    assert any("do not match its hash" in p for p in report["problems"])


def test_deleted_middle_entry_breaks_the_chain(client, registry, store, audit_verdict):
    registry.agency("a")
    registry.agency("b")
    raw = store.raw_client_for_tests()
    stream = keys.audit_stream(keys.REGISTRY)
    middle = raw.xrange(stream)[1][0]
    raw.xdel(stream, middle)
    assert audit_verdict()["intact"] is False


def test_deleted_last_entry_breaks_the_chain(client, registry, store, audit_verdict):
    registry.agency("a")
    raw = store.raw_client_for_tests()
    stream = keys.audit_stream(keys.REGISTRY)
    last = raw.xrevrange(stream, count=1)[0][0]
    raw.xdel(stream, last)
    report = audit_verdict()
    assert report["intact"] is False
    assert any("recorded head" in p for p in report["problems"])


def test_chains_of_every_partition_are_checked(client, registry, store, audit_verdict):
    registry.agency("a")
    registry.evidence_type("identity")
    registry.post("/api/v1/connectors", {"id": "c", "agency": "a", "kind": "csv", "provides": ["identity"]})
    partitions = audit.known_partitions(store)
    assert partitions[0] == keys.REGISTRY and "ev00" in partitions and "ds:c" in partitions
    store.atomic(lambda tx: audit.append(tx, "ds:c", Context("test"), "test.event", "t:1"))
    raw = store.raw_client_for_tests()
    raw.xdel(keys.audit_stream("ds:c"), raw.xrange(keys.audit_stream("ds:c"))[0][0])
    report = audit_verdict()
    assert report["intact"] is False and any(p.startswith("ds:c") for p in report["problems"])


def test_concurrent_appends_keep_one_unbroken_chain(store, app):
    def append_many(worker: int) -> None:
        for n in range(25):
            store.atomic(
                lambda tx, n=n: audit.append(tx, keys.REGISTRY, Context(f"test:{worker}"), "test.event", f"t:{n}")
            )

    threads = [threading.Thread(target=append_many, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report = verification.verify(app.extensions["hub"])
    assert report.intact, report.problems
    assert report.entries == 1 + 100
    seqs = [int(fields["seq"]) for fields in entries(store)]
    assert seqs == list(range(1, 102))


def test_audit_entries_page_newest_first(client, registry):
    for code in ("a", "b", "c"):
        registry.agency(code)
    first = client.get("/api/v1/audit/entries?limit=2", headers=OPERATOR).get_json()
    assert [e["target"] for e in first["items"]] == ["agency:c", "agency:b"]
    rest = client.get(f"/api/v1/audit/entries?limit=2&cursor={first['next']}", headers=OPERATOR).get_json()
    assert rest["items"][0]["target"] == "agency:a"
    assert rest["next"] is None
