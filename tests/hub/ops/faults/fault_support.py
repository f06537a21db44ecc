"""Helpers the fault tests share: a served hub set up to issue licences or take uploads, its processes, and
agency writers."""

from __future__ import annotations

import contextlib
import hashlib
import io
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests
from served_support import ClientThreads, children, post
from testbed import OPERATOR, _kill_redis_of, short_tempdir

from hub.config import Settings
from hub.identifiers import with_check_characters
from hub.store import embedded as embedded_redis
from hub.store import keys
from hub.store.client import Store

LICENCE_TYPE = "food-business"
HOLDER = {"id_type": "credit-code", "name": "杭州西湖小吃店"}
# Periodic jobs off: the fault tests watch the requests they send, not background work competing for two cores.
QUIET = {
    "HUB_CHECKPOINT_INTERVAL": "0",
    "HUB_BACKUP_INTERVAL": "0",
    "HUB_ARCHIVE_SWEEP_INTERVAL": "0",
    "HUB_DEADLINE_SWEEP_INTERVAL": "0",
    "HUB_PROBE_INTERVAL": "0",
    "HUB_BLOB_COLLECTION_INTERVAL": "0",
    "HUB_NOTIFY_INTERVAL": "0",
    "HUB_QUEUE_WORKERS": "0",
}


def set_up_issuer(url: str) -> dict[str, str]:
    """Agency ``market`` with a licence type it issues; its agency token's headers."""
    post(url, "/api/v1/agencies", {"code": "market", "name": "杭州市市场监督管理局", "region": "330100"})
    fields = {"premises": {"type": "string", "required": True, "label": "经营场所"}}
    post(
        url,
        "/api/v1/licence-types",
        {"code": LICENCE_TYPE, "name": "食品经营许可证", "issuer": "market", "fields": fields, "validity_days": 365},
    )
    token = post(url, "/api/v1/agencies/market/tokens", {"roles": ["agency"]})["token"]
    return {"Authorization": f"Bearer {token}"}


def licence_body(n: int) -> dict[str, Any]:
    return {
        "type": LICENCE_TYPE,
        "holder": {**HOLDER, "id": with_check_characters("credit-code", f"91330100F{n:07d}")},
        "fields": {"premises": f"西湖区文三路 {n} 号"},
    }


def is_problem(response: requests.Response, status: int) -> bool:
    """An RFC 9457 problem with ``status``."""
    return (
        response.status_code == status
        and response.headers.get("Content-Type", "").startswith("application/problem+json")
        and response.json().get("status") == status
    )


def gunicorn_workers(master: int) -> list[int]:
    """The gunicorn workers of ``master`` (the embedded Redis and job-queue workers are its children too)."""
    workers = []
    for pid in children(master):
        try:
            if b"gunicorn" in Path(f"/proc/{pid}/cmdline").read_bytes():
                workers.append(pid)
        except OSError:
            continue
    return workers


def cpu_ticks(pid: int) -> int:
    """CPU time a process has used (user and system, in clock ticks); 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def attach(data_dir: Path, blob_dir: Path | None = None) -> Store:
    """A store attached to the embedded server that a served hub runs in ``data_dir`` (and to its blob store in
    ``blob_dir``, if not the default); close it before stopping the hub: its connection counts as a hub's."""
    return Store(Settings(data_dir=data_dir, blob_dir=blob_dir))


def licence_numbers(store: Store) -> list[str]:
    """Every number key the licence index of the test's type holds."""
    return store.index_page(keys.licence_index(LICENCE_TYPE), None, 100_000)


def check_licences_whole(url: str, store: Store, issuer: dict[str, str]) -> list[dict[str, Any]]:
    """Every indexed licence has its record, its PDF blob matching the record's hash, and is served whole;
    the records."""
    records = []
    for number_key in licence_numbers(store):
        record = store.get_json(keys.licence(LICENCE_TYPE, number_key))
        assert record is not None, f"index names {number_key} but no record exists"
        blob = store.document(record["sha256"])
        assert blob is not None and hashlib.sha256(blob).hexdigest() == record["sha256"], number_key
        served = requests.get(f"{url}/api/v1/licences/{record['number']}/pdf", headers=issuer, timeout=30)
        assert served.status_code == 200 and served.content == blob
        records.append(record)
    return records


def sequence_of(number: str) -> int:
    """The sequence part of a licence number (TYPE-REGION-YEAR-SEQUENCE-C)."""
    return int(number.split("-")[-2])


def audit_intact(url: str) -> dict[str, Any]:
    verdict = requests.get(url + "/api/v1/audit/verify", headers=OPERATOR, timeout=60)
    assert verdict.status_code == 200, verdict.text
    body = verdict.json()
    assert body["intact"] is True, body
    return body


def verdict_of(url: str, pdf: bytes) -> str:
    response = requests.post(url + "/api/v1/verifications", files={"file": ("licence.pdf", pdf)}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()["verdict"]


class AgencyWriters(ClientThreads):
    """Threads registering agencies until stopped, keeping every answer: what was acknowledged (201), how
    many were 503 problem+json (the store unavailable), and anything else (a 500, a hang, a dropped
    connection). ``name_padding`` makes each record bigger (to fill a disk sooner)."""

    def __init__(self, url: str, writers: int = 2, timeout_s: float = 30, name_padding: str = "") -> None:
        super().__init__([(self._register, writer) for writer in range(writers)], join_s=timeout_s * 2)
        self.url, self.timeout_s, self.name_padding = url, timeout_s, name_padding
        self.acknowledged: list[str] = []
        self.unavailable = 0
        self.wrong: list[str] = []

    def count(self) -> int:
        with self.lock:
            return len(self.acknowledged)

    def _register(self, session: requests.Session, writer: int) -> None:
        n = 0
        while not self.stopping.is_set():
            code = f"w{writer}-{n}"
            n += 1
            body = {"code": code, "name": f"Agency {code} {self.name_padding}".strip(), "region": "440000"}
            try:
                response = session.post(
                    self.url + "/api/v1/agencies", json=body, headers=OPERATOR, timeout=self.timeout_s
                )
            except requests.RequestException as exc:
                with self.lock:
                    self.wrong.append(f"{code}: {type(exc).__name__}")
                continue
            with self.lock:
                if response.status_code == 201:
                    self.acknowledged.append(code)
                elif is_problem(response, 503):
                    self.unavailable += 1
                else:
                    self.wrong.append(f"{code}: {response.status_code} {response.text[:300]}")


@contextlib.contextmanager
def tmpfs(size_bytes: int) -> Iterator[Path]:
    """A fresh tmpfs of ``size_bytes`` (root only), unmounted whatever happens, after any embedded Redis that a
    hub ran in it has stopped."""
    mount_point = short_tempdir("hub-disk-")
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_bytes},mode=0700", "tmpfs", str(mount_point)], check=True
    )
    try:
        yield mount_point
    finally:
        _kill_redis_of(mount_point)
        embedded_redis.wait_stopped(mount_point, wait_seconds=10)
        if subprocess.run(["umount", str(mount_point)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(mount_point)], check=True)  # something still holds it open
        mount_point.rmdir()


def fill(path: Path) -> int:
    """Write ``path`` until the disk has no room left; bytes written."""
    written = 0
    with path.open("wb", buffering=0) as filler:
        block = b"\0" * 65536
        while True:
            try:
                written += filler.write(block)
            except OSError:
                break
        while True:  # the last few bytes, so that nothing at all is left
            try:
                written += filler.write(b"\0" * 512)
            except OSError:
                return written


UPLOAD_APPLICANT = {"id_type": "credit-code", "id": "91330100MA2JNTAKXK", "name": "西湖示范茶馆"}


def set_up_uploads(url: str) -> dict[str, str]:
    """A hall that submits for a market whose item ``permit`` needs one uploaded ``plan``; the portal's headers."""
    for code, name in (("market", "杭州市市场监督管理局"), ("hall", "杭州市政务服务中心")):
        post(url, "/api/v1/agencies", {"code": code, "name": name, "region": "330100"})
    materials = [{"code": "plan", "name": "平面图", "evidence_type": None, "required": True}]
    item = {"code": "permit", "name": "许可", "region": "330100", "agency": "market", "materials": materials}
    post(url, "/api/v1/service-items", {**item, "statutory_days": 20, "committed_days": 10})
    token = post(url, "/api/v1/agencies/hall/tokens", {"roles": ["portal"]})["token"]
    return {"Authorization": f"Bearer {token}"}


def new_case(url: str, portal: dict[str, str]) -> str:
    body = {"service_item": "permit", "applicant": UPLOAD_APPLICANT, "channel": "web"}
    return post(url, "/api/v1/applications", body, portal)["id"]


def upload_plan(
    url: str, portal: dict[str, str], case_id: str, content: bytes, session: Any = requests, **headers: str
) -> requests.Response:
    """POST ``content`` as the case's plan (a PDF)."""
    return session.post(
        f"{url}/api/v1/applications/{case_id}/materials",
        data={"material": "plan"},
        files={"file": ("plan.pdf", io.BytesIO(content), "application/pdf")},
        headers={**portal, **headers},
        timeout=60,
    )


def random_pdf(size: int) -> bytes:
    return b"%PDF-1.7\n" + secrets.token_bytes(size)
