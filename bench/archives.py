"""Archive build time per case: gathering a concluded case from the store and building its sealed package.

A hub runs in this process on its own embedded Redis (a fresh data directory). :data:`CASES` cases
are taken through the intake API (apply, upload two scanned documents, accept, approve with a licence)
and filed as they conclude. Each is then built again, timed: ``hub.archives.filing.prepare`` reads the
record, the item version, the uploads, the licence and its history and the audit extract from Redis,
zips them with the manifest and signs it (detached CMS by the archive seal, with a timestamp from
the hub's TSA), which is the whole of a filing but for one blob write and one small transaction.

The baseline does only what no archive can skip, on the same bytes already in memory: the same zip
and the same signature (``hub.archives.package.build`` with the same signer and timestamper).
"""

from __future__ import annotations

import io
import json
import os
import statistics
import tempfile
import time
import zipfile
from dataclasses import asdict, dataclass
from typing import Any

from hub import create_app
from hub.archives import filing, package
from hub.config import load_settings
from hub.context import now
from hub.intake import applications

from . import wrk

NAME = "archives"
CASES = 30
SCAN_BYTES = 400_000  # a scanned A4 page as a PDF: a few hundred kilobytes that do not compress
ADMIN = "bench-operator-token-0123456789"
HOLDER = {"id_type": "credit-code", "id": "91330100MA2BENCH5M", "name": "西湖示范茶馆"}


@dataclass(frozen=True)
class ArchiveResult:
    """Build times per case, the hub's and the baseline's."""

    cases: int
    package_bytes: int
    files: int
    hub_ms: list[float]
    baseline_ms: list[float]

    @property
    def name(self) -> str:
        return NAME

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "hub_p50_ms": _p50(self.hub_ms), "baseline_p50_ms": _p50(self.baseline_ms)}

    def markdown(self) -> list[str]:
        hub, base = _p50(self.hub_ms), _p50(self.baseline_ms)
        return [
            "## Archive build time per case",
            "",
            f"{self.cases} concluded cases (two scanned uploads of {SCAN_BYTES // 1000} kB, a sealed licence, "
            f"{self.files} files, a {self.package_bytes // 1000} kB package), built one at a time in one process.",
            "",
            "| what | p50 | p90 | ratio |",
            "| --- | ---: | ---: | ---: |",
            f"| hub: gather from Redis, zip, seal the manifest (`filing.prepare`) | {hub:.1f} ms | "
            f"{_p90(self.hub_ms):.1f} ms | {hub / base:.2f}× |",
            f"| baseline: the same zip and seal from memory | {base:.1f} ms | {_p90(self.baseline_ms):.1f} ms | 1× |",
            "",
            "The difference is the reading from Redis, the JSON of the records and hashing every file "
            "twice (manifest and SHA256SUMS). The seal (a CMS signature and a timestamp from the hub's TSA) "
            "is most of both.",
            "",
            "Raw figures: `bench/out/archives.json`.",
            "",
        ]


def _p50(values: list[float]) -> float:
    return statistics.median(values)


def _p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1]


def scan(seed: int) -> bytes:
    """A stand-in for a scanned document: a PDF header around incompressible bytes."""
    return b"%PDF-1.7\n%" + os.urandom(SCAN_BYTES) + f"\n% scan {seed}\n%%EOF\n".encode()


def _province(client: Any) -> dict[str, dict[str, str]]:
    operator = {"Authorization": f"Bearer {ADMIN}"}

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = client.post(path, json=body, headers=operator)
        if response.status_code != 201:
            raise RuntimeError(f"{path}: {response.status_code} {response.get_data(as_text=True)[:300]}")
        return response.get_json()

    post("/api/v1/agencies", {"code": "market", "name": "杭州市市场监督管理局", "region": "330100"})
    post("/api/v1/agencies", {"code": "hall", "name": "杭州市政务服务中心", "region": "330100"})
    fields = {"premises": {"type": "string", "required": True}}
    licence = {"code": "food-business", "name": "食品经营许可证", "issuer": "market", "fields": fields}
    post("/api/v1/licence-types", {**licence, "validity_days": 1825})
    materials = [
        {"code": "plan", "name": "经营场所平面图", "evidence_type": None, "required": True},
        {"code": "lease", "name": "租赁合同", "evidence_type": None, "required": True},
    ]
    item = {"code": "food-permit", "name": "食品经营许可", "region": "330100", "agency": "market"}
    post(
        "/api/v1/service-items",
        {**item, "statutory_days": 20, "committed_days": 5, "produces": "food-business"} | {"materials": materials},
    )
    tokens = {}
    for agency, role in (("hall", "portal"), ("market", "agency")):
        token = post(f"/api/v1/agencies/{agency}/tokens", {"roles": [role]})["token"]
        tokens[role] = {"Authorization": f"Bearer {token}"}
    return tokens


def _conclude(client: Any, tokens: dict[str, dict[str, str]], seed: int) -> str:
    body = {"service_item": "food-permit", "applicant": HOLDER, "channel": "web", "form": {"premises": "西湖边 1 号"}}
    case = client.post("/api/v1/applications", json=body, headers=tokens["portal"]).get_json()
    for material in ("plan", "lease"):
        data = {"material": material, "file": (io.BytesIO(scan(seed)), "scan.pdf")}
        client.post(
            f"/api/v1/applications/{case['id']}/materials",
            data=data,
            headers=tokens["portal"],
            content_type="multipart/form-data",
        )
    for kind in ("accept", "approve"):
        answer = client.post(f"/api/v1/applications/{case['id']}/events", json={"type": kind}, headers=tokens["agency"])
        if answer.status_code != 200:
            raise RuntimeError(f"{kind}: {answer.status_code} {answer.get_data(as_text=True)[:300]}")
    return case["id"]


def run(load: wrk.WrkSettings) -> ArchiveResult:
    """Build every case's package again, timed, beside the baseline on the same bytes."""
    del load  # no HTTP load: one build at a time
    with tempfile.TemporaryDirectory(prefix="hub-bench-archives-") as data_dir:
        settings = load_settings({"HUB_DATA_DIR": data_dir, "HUB_ADMIN_TOKEN": ADMIN, "HUB_LOG_LEVEL": "WARNING"})
        app = create_app(settings=settings)
        state = app.extensions["hub"]
        try:
            client = app.test_client()
            tokens = _province(client)
            cases = [_conclude(client, tokens, seed) for seed in range(CASES)]
            hub_ms, baseline_ms, built = [], [], None
            for case in cases:
                record = applications.get(state, case)
                started = time.perf_counter()
                _, built = filing.prepare(state, record)
                hub_ms.append((time.perf_counter() - started) * 1000)
                files = _files_of(built.content)
                started = time.perf_counter()
                package.build(files, built.manifest["archive"], state.local_time(now()), state.pki.sign_detached)
                baseline_ms.append((time.perf_counter() - started) * 1000)
            assert built is not None
            return ArchiveResult(CASES, len(built.content), len(built.manifest["files"]), hub_ms, baseline_ms)
        finally:
            state.store.stop_embedded_if_last()


def _files_of(content: bytes) -> list[package.CaseFile]:
    """The case files of a package, as the baseline starts from them (in memory, typed)."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        manifest = json.loads(archive.read(package.MANIFEST))
        return [
            package.CaseFile(entry["path"], archive.read(entry["path"]), entry["media_type"])
            for entry in manifest["entries"]
            if entry["path"] != package.SUMS
        ]


if __name__ == "__main__":
    from .alone import main

    main("python -m bench.archives", __doc__ or "", run)
