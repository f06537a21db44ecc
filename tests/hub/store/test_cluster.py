"""Scale-out: two hubs (gunicorn, two workers each) sharing one real three-master Redis Cluster.

What one hub writes the other reads at once; licences issued on both at the same time get one
gap-free sequence of numbers; a case submitted on one is decided on the other and archived; every
audit chain is single and intact, and the data really is spread over the three masters.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from cluster_support import Cluster
from testbed import OPERATOR, short_tempdir

from hub.identifiers import with_check_characters

pytestmark = pytest.mark.slow
SECRET = "cluster-test-secret-shared-by-every-hub-0123456789"
HOLDER = {"id_type": "credit-code", "id": "91330100MA2CLUTTXX", "name": "西湖示范茶馆"}


@pytest.fixture(scope="module")
def cluster():
    running = Cluster(short_tempdir("hub-cluster-")).start()
    yield running
    running.stop()


@pytest.fixture
def hubs(cluster, served_hub_factory):
    shared = {"REDIS_URL": cluster.url, "REDIS_CLUSTER": "1", "HUB_SECRET_KEY": SECRET, "HUB_CHECKPOINT_INTERVAL": "0"}
    shared["HUB_BLOB_DIR"] = str(cluster.root / "blobs")  # the documents' shared mount, as on several hosts
    first = served_hub_factory(**shared).start()
    second = served_hub_factory(**shared).start()
    return first, second


def post(hub, path: str, body: dict, headers=OPERATOR, status: int = 201) -> dict:
    response = requests.post(hub.url + path, json=body, headers=headers, timeout=30)
    assert response.status_code == status, response.text
    return response.json()


def token(hub, agency: str, role: str) -> dict:
    made = post(hub, f"/api/v1/agencies/{agency}/tokens", {"roles": [role]})
    return {"Authorization": f"Bearer {made['token']}"}


def test_two_hubs_on_one_cluster_share_every_write_atomically(cluster, hubs):
    first, second = hubs
    post(first, "/api/v1/agencies", {"code": "market", "name": "杭州市市场监督管理局", "region": "330100"})
    post(first, "/api/v1/agencies", {"code": "hall", "name": "杭州市政务服务中心", "region": "330100"})
    fields = {"premises": {"type": "string", "required": True}}
    licence_type = {"code": "food-business", "name": "食品经营许可证", "issuer": "market", "fields": fields}
    post(second, "/api/v1/licence-types", {**licence_type, "validity_days": 365})
    seen = requests.get(first.url + "/api/v1/licence-types/food-business", headers=OPERATOR, timeout=10)
    assert seen.status_code == 200 and seen.json()["issuer"] == "market"  # written on one, read on the other
    market = token(second, "market", "agency")

    def issue(n: int) -> str:
        hub = (first, second)[n % 2]
        body = {
            "type": "food-business",
            "holder": {**HOLDER, "id": with_check_characters("credit-code", f"91330100C{n:07d}")},
            "fields": fields_of(n),
        }
        return post(hub, "/api/v1/licences", body, headers=market)["number"]

    with ThreadPoolExecutor(max_workers=6) as pool:
        numbers = list(pool.map(issue, range(12)))
    sequences = sorted(int(number.split("-")[-2]) for number in numbers)  # TYPE-REGION-YEAR-SEQUENCE-C
    assert sequences == list(range(1, 13))  # one counter, no number given twice, no gap
    for number in numbers:  # each licence readable, and verifiable, through the hub that did not issue it
        pdf = requests.get(f"{second.url}/api/v1/licences/{number}/pdf", headers=market, timeout=30)
        assert pdf.status_code == 200
    verdict = requests.post(first.url + "/api/v1/verifications", files={"file": ("l.pdf", pdf.content)}, timeout=60)
    assert verdict.json()["verdict"] == "valid"

    items = {"code": "food-permit", "name": "食品经营许可", "region": "330100", "agency": "market", "materials": []}
    post(
        first,
        "/api/v1/service-items",
        {**items, "statutory_days": 20, "committed_days": 5, "produces": "food-business"},
    )
    portal = token(first, "hall", "portal")
    body = {"service_item": "food-permit", "applicant": HOLDER, "channel": "web", "form": {"premises": "西湖边 1 号"}}
    case = post(first, "/api/v1/applications", body, headers=portal)
    assert case["status"] == "submitted"
    post(second, f"/api/v1/applications/{case['id']}/events", {"type": "accept"}, headers=market, status=200)
    decided = post(first, f"/api/v1/applications/{case['id']}/events", {"type": "approve"}, headers=market, status=200)
    assert decided["licence"] and decided["archive"]["sha256"]
    package = requests.get(f"{second.url}/api/v1/applications/{case['id']}/archive", headers=market, timeout=30)
    assert package.status_code == 200 and package.headers["ETag"] == f'"{decided["archive"]["sha256"]}"'
    post(second, "/api/v1/audit/checkpoints", {})

    verdicts = [requests.get(hub.url + "/api/v1/audit/verify", headers=OPERATOR, timeout=60).json() for hub in hubs]
    assert verdicts[0] == verdicts[1]  # one chain per partition, whichever hub reads it
    assert verdicts[0]["intact"] is True and verdicts[0]["checkpoints"]["problems"] == []
    assert verdicts[0]["entries"] >= 12 + 4  # twelve issuances, and the case's submit, accept, approve, filing
    assert all(count > 0 for count in cluster.keys_per_node())  # the partitions spread over all three masters


def fields_of(n: int) -> dict:
    return {"premises": f"西湖边 {n} 号"}


def test_a_hub_with_another_secret_refuses_to_join(cluster, hubs, served_hub_factory):
    stranger = served_hub_factory(REDIS_URL=cluster.url, REDIS_CLUSTER="1", HUB_SECRET_KEY="another-" + SECRET)
    with pytest.raises(RuntimeError, match="hub serve exited"):
        stranger.start()
    assert "give every hub that shares it the same HUB_SECRET_KEY" in stranger.log()


def test_a_hub_with_a_blob_store_of_its_own_refuses_to_join(cluster, hubs, served_hub_factory):
    stranger = served_hub_factory(REDIS_URL=cluster.url, REDIS_CLUSTER="1", HUB_SECRET_KEY=SECRET)  # own blobs
    with pytest.raises(RuntimeError, match="hub serve exited"):
        stranger.start()
    assert "give every hub the same HUB_BLOB_URL, or the same HUB_BLOB_DIR" in stranger.log()
