"""No person's identifier, name, address or birth date in clear at rest (issue 16, finding 5): the demo is run
through applications, resolutions, uploads, a dataset and a backup, then the store's append-only files, its
snapshot, every value of the live server and every value of the backup are searched for each seeded one."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest
import requests
from testbed import ADMIN_TOKEN, DEMO_AGENCY_GROUP, DEMO_FOOD_FORM, backup_create, everything_in

from hub.config import Settings
from hub.demo import TOKENS_FILE
from hub.identifiers import with_check_characters
from hub.ops import backup
from hub.store.client import Store

FOOD = "440000-SCJG-001-01"
RESIDENT, NAME = "440106199001011235", "李伟"  # held by the demo agency service
HELD = ("体育西路", "1990-01-01")  # its address and birth date there
DATASET_PERSON = with_check_characters("resident-id", "44010319770704123")
DATASET_NAME, DATASET_ADDRESS, DATASET_BIRTH = "欧阳秀兰", "中山五路 12 号", "1977-07-04"
UPLOADED_NAME = "司徒建国"  # written inside an uploaded PDF
SEEDED = [RESIDENT, NAME, *HELD, DATASET_PERSON, DATASET_NAME, DATASET_ADDRESS, DATASET_BIRTH, UPLOADED_NAME]

pytestmark = pytest.mark.xdist_group(DEMO_AGENCY_GROUP)  # the demo agency service's fixed port


def call(method: str, url: str, token: str, status: int = 200, **kwargs) -> requests.Response:
    response = requests.request(method, url, headers={"Authorization": f"Bearer {token}"}, timeout=60, **kwargs)
    assert response.status_code == status, response.text
    return response


def found_in(blob: bytes) -> list[str]:
    return [text for text in SEEDED if text.encode() in blob]


def test_the_demo_leaves_no_personal_data_in_clear_in_the_store_or_its_backup(served_hub_factory, tmp_path):
    hub = served_hub_factory(HUB_DEMO="1").start()
    tokens = json.loads((hub.data_dir / TOKENS_FILE).read_text())
    portal, market, operator = tokens["prov-gov-service"], tokens["prov-market"], tokens["operator"]
    api = hub.url + "/api/v1"

    # An application (its case resolves the applicant's identity), a resolution for it, an upload.
    applicant = {"id_type": "resident-id", "id": RESIDENT, "name": NAME}
    form = DEMO_FOOD_FORM | {"address": "广州市天河区体育西路 1 号"}
    application = {"service_item": FOOD, "applicant": applicant, "channel": "web", "form": form}
    case = call("POST", f"{api}/applications", portal, 201, json=application).json()
    subject = {"id_type": "resident-id", "id": RESIDENT}
    read = {"service_item": FOOD, "subject": subject, "application": case["id"]}
    resolved = call("POST", f"{api}/resolutions", market, 201, json=read).json()
    assert {m["code"]: m["status"] for m in resolved["materials"]}["applicant-identity"] == "resolved"
    pdf = b"%PDF-1.7\n1 0 obj<</Author (" + UPLOADED_NAME.encode() + b")>>endobj\ntrailer<<>>\n%%EOF\n"
    files = {"file": ("layout.pdf", io.BytesIO(pdf), "application/pdf")}
    call(
        "POST",
        f"{api}/applications/{case['id']}/materials",
        portal,
        201,
        data={"material": "premises-layout"},
        files=files,
    )
    call("GET", f"{api}/applications/{case['id']}", market)

    # A dataset of another person, uploaded and read through a case of theirs.
    fields = {"holder": {"type": "string"}, "address": {"type": "string"}, "born": {"type": "date"}}
    call("POST", f"{api}/evidence-types", operator, 201, json={"code": "fitness", "name": "Fitness", "fields": fields})
    connector = {"id": "fitness-csv", "agency": "prov-health", "kind": "csv", "provides": ["fitness"], "config": {}}
    call("POST", f"{api}/connectors", operator, 201, json=connector)
    csv = f"subject_id,holder,address,born\n{DATASET_PERSON},{DATASET_NAME},{DATASET_ADDRESS},{DATASET_BIRTH}\n"
    upload = {"file": ("fitness.csv", io.BytesIO(csv.encode()), "text/csv")}
    call("PUT", f"{api}/connectors/fitness-csv/dataset", operator, files=upload)
    call("POST", f"{api}/connectors/fitness-csv/test", operator, json={})
    call("POST", f"{api}/connectors/fitness-csv/activation", operator, json={"active": True})
    item = {
        "code": "fitness-check",
        "name": "Fitness check",
        "region": "440000",
        "agency": "prov-health",
        "statutory_days": 5,
        "committed_days": 5,
        "materials": [{"code": "fitness", "name": "Fitness", "evidence_type": "fitness"}],
    }
    call("POST", f"{api}/service-items", operator, 201, json=item)
    someone = {"id_type": "resident-id", "id": DATASET_PERSON, "name": DATASET_NAME}
    other = call(
        "POST",
        f"{api}/applications",
        portal,
        201,
        json={**application, "service_item": "fitness-check", "applicant": someone, "form": {}},
    ).json()
    health = tokens["prov-health"]
    again = {
        "service_item": "fitness-check",
        "subject": {"id_type": "resident-id", "id": DATASET_PERSON},
        "application": other["id"],
    }
    data = call("POST", f"{api}/resolutions", health, 201, json=again).json()["materials"][0]["data"]
    assert data == {"holder": DATASET_NAME, "address": DATASET_ADDRESS, "born": DATASET_BIRTH}  # the hub can read it

    # A backup, made by the operator's command line.
    env = {**hub.env, "HUB_ADMIN_TOKEN": ADMIN_TOKEN}
    backup_create(env, tmp_path)
    (backup_file,) = tmp_path.glob(f"{backup.NAME_PREFIX}*{backup.NAME_SUFFIX}")

    # The live server's values, then its files on disk (append-only files, snapshot), then the backup's.
    live = Store(Settings(data_dir=hub.data_dir))
    try:
        assert found_in(everything_in(live)) == []
    finally:
        live.close()
    on_disk = b"".join(path.read_bytes() for path in Path(hub.data_dir).rglob("*") if path.is_file())
    assert found_in(on_disk) == []
    with tarfile.open(backup_file) as archive:
        snapshot = gzip.decompress(archive.extractfile(backup.SNAPSHOT).read())
    assert found_in(snapshot) == []
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    (unpacked / "dump.rdb").write_bytes(snapshot)
    with backup.scratch_server(unpacked) as copy:
        assert found_in(everything_in(copy)) == []
