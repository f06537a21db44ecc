"""``hub licences backfill``: a licence issued before status lists and kept answers (its record without a status
index, no answer kept) gets both at its current status, once; the command is safe to run again."""

from __future__ import annotations

import base64
import json

from testbed import LICENCE_HOLDER

from certs import numbering
from hub.store import keys, status_keys

HOLDER = LICENCE_HOLDER


def test_licences_from_before_get_a_status_index_and_a_kept_answer(client, registry, store, hub_cli):
    registry.agency("market", region="330100")
    registry.food_licence_type("market")
    token = registry.token("market", "agency")
    body = {"type": "food-business", "holder": HOLDER, "fields": {"premises": "1 号"}}
    number = client.post("/api/v1/licences", json=body, headers=token).get_json()["number"]
    client.post(f"/api/v1/licences/{number}/status", json={"status": "suspended", "reason": "x"}, headers=token)
    # As an older hub left it: no index in a status list, no answer kept.
    record_key = keys.licence("food-business", numbering.canonical(number))
    record = store.get_json(record_key)
    del record["status_index"]
    store.set_json(record_key, record)
    store.raw_client_for_tests().delete(status_keys.licence_answer("food-business", numbering.canonical(number)))
    credential = client.get(f"/api/v1/licences/{number}/credential", headers=token).get_data(as_text=True)
    assert "status" not in json.loads(base64.urlsafe_b64decode(credential.split(".")[1] + "==="))

    def backfill() -> str:
        return hub_cli("licences", "backfill", check=True).stdout

    assert "completed 1 licence(s)" in backfill()
    assert "completed 0 licence(s)" in backfill()  # once
    credential = client.get(f"/api/v1/licences/{number}/credential", headers=token).get_data(as_text=True)
    reference = json.loads(base64.urlsafe_b64decode(credential.split(".")[1] + "==="))["status"]["status_list"]
    raw = store.get_raw(status_keys.status_bits("food-business", int(reference["uri"].rsplit("/", 1)[1])))
    index = reference["idx"]
    assert (raw[index // 4] >> (6 - 2 * (index % 4))) & 0b11 == 2  # suspended, as the licence is
    kept = store.hash_get_all(status_keys.licence_answer("food-business", numbering.canonical(number)))
    assert json.loads(kept["body"])["status"] == "suspended"
