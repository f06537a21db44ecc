"""Documents out of Redis (issue 17): Redis memory per issued licence and per concluded case with two 400 KB
uploads, and issuance and upload throughput, with the documents in each blob store kind
(``python -m bench.documents``).

For each kind (``dir``: files under the hub's data directory; ``s3``: moto's S3 server on 127.0.0.1,
an emulator, see ``tests/s3_support.py``) a hub is served without the demo province and set up
through its API. Then, one request at a time: ``LICENCES`` licences are issued, and ``CASES`` cases
are submitted, completed with two 400 KB PDF uploads, accepted and approved (which files each case's
archive package). Redis's ``used_memory`` is read before and after each phase. Before this change
every PDF, upload and package lived in Redis: the issue measured 54 KB of Redis memory per licence.
The wrk options are accepted (the runner passes them to every benchmark) and unused.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from typing import Any

import redis
import requests

from hub.identifiers import with_check_characters

from . import alone, processes, wrk
from .resolution import HubApi

LICENCES = 300
CASES = 10
UPLOAD_BYTES = 400 * 1024
AWS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench-secret", "AWS_DEFAULT_REGION": "us-east-1"}


@dataclass(frozen=True)
class KindFigures:
    """One blob store kind's figures."""

    kind: str
    redis_bytes_per_licence: float
    licences_per_second: float
    redis_bytes_per_case: float
    uploads_per_second: float
    case_seconds: float


BEFORE = KindFigures("redis (before: documents in Redis)", 54_664.8, 13.8, 1_752_444.8, 117.6, 0.06)


@dataclass(frozen=True)
class DocumentsResult:
    kinds: list[KindFigures]
    name: str = "documents"

    def markdown(self) -> list[str]:
        lines = [
            "## Documents out of Redis: memory per licence and per case (issue 17)",
            "",
            f"One request at a time, {LICENCES} licences issued, then {CASES} cases each with two"
            f" {UPLOAD_BYTES // 1024} KB PDF uploads, accepted and approved (the archive package filed).",
            "Redis memory is `used_memory` after minus before, per licence or case. Before documents left"
            " Redis a licence cost 54 KB of Redis memory, nearly all of it its PDF.",
            "",
            "| blob store | Redis per licence | licences/s | Redis per case | uploads/s | seconds per case |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for figures in [BEFORE, *self.kinds]:
            lines.append(
                f"| {figures.kind} | {figures.redis_bytes_per_licence / 1024:.1f} KB"
                f" | {figures.licences_per_second:.1f} | {figures.redis_bytes_per_case / 1024:.1f} KB"
                f" | {figures.uploads_per_second:.1f} | {figures.case_seconds:.2f} |"
            )
        lines += [
            "",
            "The first row is this benchmark run once against the hub before documents left Redis (commit"
            " 2fdba54~1) on 2026-12-07, on the same machine; that code is gone, so its figures are kept, not"
            " measured again. The other rows are this run's.",
            "",
            "Command: `python -m bench.documents` (also part of `make bench`).",
            "",
        ]
        return lines

    def as_json(self) -> dict[str, Any]:
        return {"licences": LICENCES, "cases": CASES, "kinds": [asdict(k) for k in self.kinds]}


def _used(store: redis.Redis) -> int:
    return int(store.info("memory")["used_memory"])


def _pdf(n: int) -> bytes:
    return b"%PDF-1.7\n% bench upload " + str(n).encode() + b"\n" + secrets.token_bytes(UPLOAD_BYTES)


def _measure(kind: str, extra_env: dict[str, str]) -> KindFigures:
    work = processes.short_tempdir("bd-")
    hub_data = work / "hub"
    try:
        with ExitStack() as stack:
            stack.callback(processes.kill_leftover_redis, hub_data)
            admin, port = secrets.token_urlsafe(24), processes.free_port()
            base = f"http://127.0.0.1:{port}"
            server = processes.hub_server(hub_data, port, admin, work / "hub.log", demo=False, **extra_env)
            stack.enter_context(processes.running(server))
            server.wait_http(f"{base}/readyz")
            store = redis.Redis(unix_socket_path=str(hub_data / "redis.sock"), socket_timeout=30)
            stack.callback(store.close)
            return _run(kind, HubApi(base, admin), base, store)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(kind: str, api: HubApi, base: str, store: redis.Redis) -> KindFigures:
    api.post("/api/v1/agencies", {"code": "market", "name": "Market", "region": "330100"})
    api.post("/api/v1/agencies", {"code": "hall", "name": "Hall", "region": "330100"})
    fields = {"premises": {"type": "string", "required": True}}
    licence_type = {"code": "food-business", "name": "Food", "issuer": "market", "fields": fields}
    api.post("/api/v1/licence-types", {**licence_type, "validity_days": 365})
    materials = [{"code": c, "name": c, "evidence_type": None, "required": True} for c in ("plan", "lease")]
    item = {"code": "food-permit", "name": "Food permit", "region": "330100", "agency": "market"}
    api.post("/api/v1/service-items", {**item, "statutory_days": 20, "committed_days": 10, "materials": materials})
    market = {"Authorization": "Bearer " + api.post("/api/v1/agencies/market/tokens", {"roles": ["agency"]})["token"]}
    portal = {"Authorization": "Bearer " + api.post("/api/v1/agencies/hall/tokens", {"roles": ["portal"]})["token"]}
    session = requests.Session()

    def call(path: str, headers: dict[str, str], expect: int, **kwargs: Any) -> dict[str, Any]:
        response = session.post(base + path, headers=headers, timeout=60, **kwargs)
        if response.status_code != expect:
            raise processes.ServerError(f"POST {path}: {response.status_code} {response.text[:300]}")
        return response.json()

    def holder(n: int) -> dict[str, str]:
        return {"id_type": "credit-code", "id": with_check_characters("credit-code", f"91330100B{n:07d}"), "name": "B"}

    before = _used(store)
    started = time.monotonic()
    for n in range(LICENCES):
        body = {"type": "food-business", "holder": holder(n), "fields": {"premises": f"No. {n}"}}
        call("/api/v1/licences", market, 201, json=body)
    licence_seconds = time.monotonic() - started
    per_licence = (_used(store) - before) / LICENCES

    before, upload_seconds, started = _used(store), 0.0, time.monotonic()
    for n in range(CASES):
        applicant = holder(1_000_000 + n)
        case = call(
            "/api/v1/applications",
            portal,
            201,
            json={"service_item": "food-permit", "applicant": applicant, "channel": "web"},
        )
        for code in ("plan", "lease"):
            upload_started = time.monotonic()
            files = {"file": (f"{code}.pdf", _pdf(n), "application/pdf")}
            call(f"/api/v1/applications/{case['id']}/materials", portal, 201, data={"material": code}, files=files)
            upload_seconds += time.monotonic() - upload_started
        for event in ("accept", "approve"):
            call(f"/api/v1/applications/{case['id']}/events", market, 200, json={"type": event})
    case_seconds = (time.monotonic() - started) / CASES
    per_case = (_used(store) - before) / CASES
    return KindFigures(
        kind, per_licence, LICENCES / licence_seconds, per_case, 2 * CASES / upload_seconds, case_seconds
    )


def run(load: wrk.WrkSettings) -> DocumentsResult:
    """Measure with each kind of blob store."""
    from moto.server import ThreadedMotoServer  # the stand-in S3 endpoint (a test and benchmark tool)

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every request otherwise

    figures = [_measure("dir (HUB_DATA_DIR/blobs)", {})]
    port = processes.free_port()
    s3 = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    s3.start()
    try:
        import boto3

        endpoint = f"http://127.0.0.1:{port}"
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **_credentials())
        client.create_bucket(Bucket="bench")
        s3_env = {**AWS, "AWS_ENDPOINT_URL": endpoint, "HUB_BLOB_URL": "s3://bench/hub"}
        figures.append(_measure("s3 (moto's server on 127.0.0.1)", s3_env))
    finally:
        s3.stop()
    return DocumentsResult(figures)


def _credentials() -> dict[str, str]:
    return {"aws_access_key_id": AWS["AWS_ACCESS_KEY_ID"], "aws_secret_access_key": AWS["AWS_SECRET_ACCESS_KEY"]}


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    alone.main("python -m bench.documents", __doc__.splitlines()[0], run)
