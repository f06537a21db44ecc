"""Audit checkpoints: sealed heads catch a consistently rewritten history, removed entries, a wiped or
forged checkpoint list; exported checkpoints verify with openssl alone."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import subprocess
import threading
from datetime import timedelta

from testbed import OPERATOR

from hub.audit import checkpoints, verification
from hub.audit import log as audit
from hub.context import now
from hub.store import keys

CHECKPOINTS = "/api/v1/audit/checkpoints"


def seal(client) -> dict:
    response = client.post(CHECKPOINTS, headers=OPERATOR)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def hub_state(app):
    return app.extensions["hub"]


def rewrite_consistently(store, partition: str, target: str) -> None:
    """What an attacker with Redis write access can do: change one entry, then recompute every later
    hash and the head, so that the chain on its own recomputes without a fault."""
    raw = store.raw_client_for_tests()
    stream = keys.audit_stream(partition)
    rows = [(entry_id, {k.decode(): v.decode() for k, v in fields.items()}) for entry_id, fields in raw.xrange(stream)]
    raw.delete(stream)
    previous = audit.GENESIS
    for entry_id, fields in rows:
        if fields["target"] == target:
            fields["actor"] = "operator/token:someone-else"
        fields["prev"] = previous
        fields["hash"] = previous = audit.entry_hash(fields)
        raw.xadd(stream, fields, id=entry_id)
    raw.set(keys.audit_head(partition), json.dumps({"seq": int(rows[-1][1]["seq"]), "hash": previous}))


def test_a_checkpoint_seals_every_head_and_links_to_the_one_before(client, registry, store, audit_verdict):
    registry.agency("a")
    first = seal(client)
    registry.agency("b")
    second = seal(client)
    document = json.loads(second["document"])
    assert document["format"] == "hub-audit-checkpoint/1"
    assert (first["seq"], document["seq"]) == (1, 2)
    assert json.loads(first["document"])["previous"] is None
    assert document["previous"] == first["sha256"] == hashlib.sha256(first["document"].encode()).hexdigest()
    assert document["heads"][keys.REGISTRY] == store.get_json(keys.audit_head(keys.REGISTRY))
    assert set(document["heads"]) == {keys.REGISTRY, keys.PKI}  # only chains that have entries
    report = audit_verdict("all")
    assert report["intact"] is True and report["problems"] == []
    assert report["checkpoints"] == {
        "count": 2,
        "latest": {"seq": 2, "at": second["at"]},
        "signatures_checked": 2,
        "problems": [],
    }
    assert audit_verdict()["checkpoints"]["signatures_checked"] == 1


def test_checkpoints_page_newest_first(client, registry):
    sealed = [seal(client) for _ in range(3)]
    first = client.get(f"{CHECKPOINTS}?limit=2", headers=OPERATOR).get_json()
    assert [item["seq"] for item in first["items"]] == [3, 2]
    assert first["items"][0] == sealed[2]
    rest = client.get(f"{CHECKPOINTS}?limit=2&cursor={first['next']}", headers=OPERATOR).get_json()
    assert [item["seq"] for item in rest["items"]] == [1] and rest["next"] is None
    bad = client.get(f"{CHECKPOINTS}?cursor=nonsense", headers=OPERATOR)
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"


def test_sealing_takes_no_body_or_an_empty_object_and_nothing_else(client):
    assert client.post(CHECKPOINTS, headers=OPERATOR).status_code == 201
    assert client.post(CHECKPOINTS, json={}, headers=OPERATOR).status_code == 201
    refused = client.post(CHECKPOINTS, json={"seq": 7}, headers=OPERATOR)
    assert refused.status_code == 422 and refused.get_json()["errors"] == {"seq": ["Unknown field."]}
    assert (
        client.post(CHECKPOINTS, data="{broken", content_type="application/json", headers=OPERATOR).status_code == 400
    )
    assert client.post(CHECKPOINTS, data="words", content_type="text/plain", headers=OPERATOR).status_code == 415


def test_checkpoints_are_for_the_operator_only(client, registry):
    registry.agency("market")
    headers = registry.token("market", "agency")
    assert client.post(CHECKPOINTS, headers=headers).status_code == 403
    assert client.get(CHECKPOINTS, headers=headers).status_code == 403
    assert client.get(CHECKPOINTS).status_code == 401


def test_a_consistently_rewritten_history_is_caught_by_the_checkpoint(client, registry, store, audit_verdict):
    registry.agency("a")
    registry.agency("b")
    seal(client)
    registry.agency("c")
    rewrite_consistently(store, keys.REGISTRY, "agency:a")
    assert audit.verify_partition(store, keys.REGISTRY).intact  # the chain alone cannot tell
    report = audit_verdict()
    assert report["intact"] is False
    sealed_seq = json.loads(client.get(CHECKPOINTS, headers=OPERATOR).get_json()["items"][0]["document"])
    entry = sealed_seq["heads"][keys.REGISTRY]["seq"]
    assert report["problems"] == [f"reg: entry {entry} differs from checkpoint 1 (rewritten after it was sealed)"]


def test_a_rewrite_after_the_last_checkpoint_is_not_caught_until_the_next_one(client, registry, store, audit_verdict):
    registry.agency("a")
    seal(client)
    registry.agency("b")
    rewrite_consistently(store, keys.REGISTRY, "agency:b")
    assert audit_verdict()["intact"] is True  # the limit of checkpoints: what was written since the last one
    seal(client)
    assert audit_verdict()["intact"] is True  # ... and a later one seals the rewritten entry as it now is


def test_entries_removed_from_the_end_are_caught_even_with_the_head_moved_back(client, registry, store, audit_verdict):
    registry.agency("a")
    registry.agency("b")
    seal(client)
    raw = store.raw_client_for_tests()
    stream = keys.audit_stream(keys.REGISTRY)
    rows = raw.xrange(stream)
    raw.xdel(stream, rows[-1][0])
    kept = {k.decode(): v.decode() for k, v in rows[-2][1].items()}
    raw.set(keys.audit_head(keys.REGISTRY), json.dumps({"seq": int(kept["seq"]), "hash": kept["hash"]}))
    report = audit_verdict()
    assert report["intact"] is False
    removed = len(rows)
    assert report["problems"] == [
        f"reg: checkpoint 1 names entry {removed}, which the chain no longer has (entries removed)"
    ]


def test_a_chain_dropped_from_the_registry_is_still_checked(client, registry, store, audit_verdict):
    registry.agency("a")
    registry.evidence_type("identity")
    registry.post("/api/v1/connectors", {"id": "c", "agency": "a", "kind": "csv", "provides": ["identity"]})
    store.atomic(lambda tx: audit.append(tx, "ds:c", audit_context(), "test.event", "t:1"))
    seal(client)
    raw = store.raw_client_for_tests()
    raw.zrem(keys.connector_index(), "c")
    raw.delete(keys.audit_stream("ds:c"), keys.audit_head("ds:c"))
    report = audit_verdict()
    assert report["intact"] is False
    assert "ds:c: checkpoint 1 names entry 1, which the chain no longer has (entries removed)" in report["problems"]


def audit_context():
    from hub.context import Context

    return Context("test")


def backdate(monkeypatch, hours: int) -> None:
    moment = now() - timedelta(hours=hours)
    monkeypatch.setattr(audit, "now", lambda: moment)
    monkeypatch.setattr(checkpoints, "now", lambda: moment)


def test_a_removed_checkpoint_tail_or_list_is_reported(client, registry, store, monkeypatch, audit_verdict):
    backdate(monkeypatch, 3)  # entries and a checkpoint made three hours ago (interval: one hour)
    registry.agency("a")
    seal(client)
    monkeypatch.undo()
    registry.agency("b")
    seal(client)
    assert audit_verdict()["intact"] is True
    raw = store.raw_client_for_tests()
    raw.rpop(keys.checkpoint_list())
    report = audit_verdict()
    assert report["intact"] is False
    assert report["checkpoints"]["count"] == 1 and report["checkpoints"]["latest"]["seq"] == 1
    assert report["checkpoints"]["problems"] == [
        f"the latest checkpoint (1, {report['checkpoints']['latest']['at']}) is older than two intervals"
        " (checkpoints removed?)"
    ]
    raw.delete(keys.checkpoint_list())
    report = audit_verdict()
    assert report["intact"] is False and report["checkpoints"]["latest"] is None
    assert report["checkpoints"]["problems"][0].startswith("no checkpoint, though audit entries go back to")


def test_without_a_schedule_old_entries_need_no_checkpoint(app, client, registry, monkeypatch, audit_verdict):
    backdate(monkeypatch, 3)
    registry.agency("a")
    monkeypatch.undo()
    assert audit_verdict()["intact"] is False
    state = hub_state(app)
    monkeypatch.setattr(state, "settings", dataclasses.replace(state.settings, checkpoint_interval=0))
    assert audit_verdict() | {"entries": 0} == {
        "intact": True,
        "entries": 0,
        "problems": [],
        "checkpoints": {"count": 0, "latest": None, "signatures_checked": 0, "problems": []},
    }


def forge(store, document: dict, signature: bytes) -> None:
    text = checkpoints.canonical(document)
    record = {"document": text, "signature": base64.b64encode(signature).decode()}
    store.raw_client_for_tests().rpush(keys.checkpoint_list(), json.dumps(record))


def test_a_forged_checkpoint_is_caught_and_not_sealed_over(client, registry, store, audit_verdict):
    registry.agency("a")
    first = seal(client)
    registry.agency("b")
    rewrite_consistently(store, keys.REGISTRY, "agency:a")
    # A checkpoint of the rewritten heads, properly linked, carrying the real checkpoint's signature.
    forged = json.loads(first["document"]) | {"seq": 2, "previous": first["sha256"]}
    forged["heads"][keys.REGISTRY] = store.get_json(keys.audit_head(keys.REGISTRY))
    forge(store, forged, base64.b64decode(first["signature"]))
    report = audit_verdict()
    assert report["intact"] is False
    assert report["checkpoints"]["problems"] == [
        "checkpoint 2: signature does not verify (the content does not match the signature)"
    ]
    refused = client.post(CHECKPOINTS, headers=OPERATOR)
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    assert "does not verify" in refused.get_json()["detail"]
    assert store.list_len(keys.checkpoint_list()) == 2


def test_a_changed_older_checkpoint_breaks_the_link_from_the_next(client, registry, store, audit_verdict):
    registry.agency("a")
    seal(client)
    seal(client)
    raw = store.raw_client_for_tests()
    record = json.loads(raw.lindex(keys.checkpoint_list(), 0))
    document = json.loads(record["document"])
    document["heads"][keys.REGISTRY]["hash"] = "0" * 64
    record["document"] = checkpoints.canonical(document)
    raw.lset(keys.checkpoint_list(), 0, json.dumps(record))
    assert "checkpoint 2: does not name the checkpoint before it (changed or removed)" in audit_verdict()["problems"]
    everything = audit_verdict("all")["checkpoints"]["problems"]
    assert everything[0].startswith("checkpoint 1: signature does not verify")
    newest = json.loads(raw.lindex(keys.checkpoint_list(), 1))
    newest["signature"] = base64.b64encode(b"not a signature").decode()
    raw.lset(keys.checkpoint_list(), 1, json.dumps(newest))
    assert audit_verdict()["checkpoints"]["problems"][-1].startswith("checkpoint 2: signature unreadable")
    refused = client.post(CHECKPOINTS, headers=OPERATOR)
    assert refused.status_code == 409 and "checkpoint 2: signature unreadable" in refused.get_json()["detail"]


def test_an_unreadable_tail_is_reported_and_the_newest_readable_signature_still_checked(
    client, registry, store, audit_verdict
):
    registry.agency("a")
    seal(client)
    store.raw_client_for_tests().rpush(keys.checkpoint_list(), json.dumps({"document": "{}", "signature": ""}))
    listed = audit_verdict()["checkpoints"]
    assert listed["count"] == 2 and listed["latest"]["seq"] == 1 and listed["signatures_checked"] == 1
    assert listed["problems"] == [
        "checkpoint at position 2: unreadable checkpoint (not a canonical checkpoint document)"
    ]
    assert client.post(CHECKPOINTS, headers=OPERATOR).status_code == 409


def test_concurrent_sealers_never_fork_the_sequence(app, registry):
    registry.agency("a")
    state = hub_state(app)
    state.pki.authority  # noqa: B018 - made once before the threads race
    threads = [threading.Thread(target=checkpoints.seal_checkpoint, args=(state,)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    listed = list(checkpoints.every(state.store))
    assert [c.seq for c in listed] == [1, 2, 3]
    assert [c.previous for c in listed[1:]] == [c.sha256 for c in listed[:-1]]
    report = verification.verify(state, all_signatures=True)
    assert report.intact, report.problems


def openssl_verify(directory, seq: int) -> subprocess.CompletedProcess:
    command = ["openssl", "cms", "-verify", "-binary", "-inform", "DER"]
    command += ["-content", str(directory / f"{seq}.json"), "-in", str(directory / f"{seq}.json.p7s")]
    command += ["-CAfile", str(directory / "roots.pem"), "-out", "/dev/null"]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_cli_seals_verifies_and_exports_checkpoints_that_openssl_checks(hub_cli, registry, tmp_path):
    registry.agency("a")
    sealed = json.loads(hub_cli("audit", "checkpoint", check=True).stdout)
    assert sealed["seq"] == 1
    verified = json.loads(hub_cli("audit", "verify", "--all-signatures", check=True).stdout)
    assert verified["intact"] is True and verified["checkpoints"]["count"] == 1
    listing = hub_cli("audit", "checkpoints", check=True).stdout.split("\t")
    assert listing[0] == "1" and listing[2].strip() == sealed["sha256"]
    exported = hub_cli("audit", "checkpoints", "--export", str(tmp_path / "out"), check=True)
    assert exported.stdout.startswith("1 checkpoints written")
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["1.json", "1.json.p7s", "roots.pem"]
    assert hashlib.sha256((out / "1.json").read_bytes()).hexdigest() == sealed["sha256"]
    assert openssl_verify(out, 1).returncode == 0
    changed = bytearray((out / "1.json").read_bytes())
    changed[-3] ^= 0x01
    (out / "1.json").write_bytes(bytes(changed))
    failed = openssl_verify(out, 1)
    assert failed.returncode != 0 and "verification failure" in failed.stderr


def test_cli_verify_fails_on_a_rewritten_history(hub_cli, client, registry, store):
    registry.agency("a")
    registry.agency("b")
    seal(client)
    rewrite_consistently(store, keys.REGISTRY, "agency:a")
    result = hub_cli("audit", "verify")
    assert result.returncode == 1
    assert "differs from checkpoint 1" in result.stderr
