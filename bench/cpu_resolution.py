"""CPU time per resolution in this process, for ``python -m bench.cpu --only resolve``.

The resolution benchmark's province (:mod:`bench.resolution`: a lead agency, 20 holders each with its own
REST connector and evidence type, items of 1, 5 and 20 materials) is set up on a hub made in this process,
through its API by Flask's test client; the stand-in agencies answer at once from one process of their own
(:mod:`bench.agency_runner`), so the CPU time of this process per ``POST /api/v1/resolutions`` is the hub's:
the request, the fan-out's threads and each connector call included, the agencies' side not.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask

from . import processes
from . import resolution as province

MATERIALS = (1, 5, 20)


class _TestClientApi:
    """:class:`bench.resolution.HubApi`'s ``post``, through Flask's test client as the operator."""

    def __init__(self, app: Flask, token: str) -> None:
        self.client = app.test_client()
        self.headers = {"Authorization": f"Bearer {token}"}

    def post(self, path: str, body: dict[str, Any], expect: int = 201, token: str | None = None) -> dict[str, Any]:
        headers = self.headers if token is None else {"Authorization": f"Bearer {token}"}
        answer = self.client.post(path, json=body, headers=headers)
        if answer.status_code != expect:
            raise RuntimeError(f"POST {path}: {answer.status_code} {answer.get_data(as_text=True)[:300]}")
        return answer.get_json()


def _agencies(work: Path) -> tuple[processes.Server, dict[int, str]]:
    ports = {n: processes.free_port() for n in range(1, province.SOURCES + 1)}
    plan = {
        "delay_s": 0,
        "agencies": [
            {
                "port": port,
                "records": {
                    f"ds{n:02d}": {s: {province.evidence_type(n): province.record(n, s)} for s in province.SUBJECTS}
                },
            }
            for n, port in ports.items()
        ],
    }
    (work / "agencies.json").write_text(json.dumps(plan))
    command = [sys.executable, "-m", "bench.agency_runner", str(work / "agencies.json")]
    server = processes.Server("stand-in agencies", command, processes.clean_env(), work / "agencies.log")
    return server, {n: f"http://127.0.0.1:{port}" for n, port in ports.items()}


@contextmanager
def resolutions(app: Flask, admin_token: str) -> Iterator[dict[str, Callable[[int], None]]]:
    """One resolution of the item of each size in :data:`MATERIALS`, by name (``resolve-N``), while the
    stand-in agencies run."""
    work = processes.short_tempdir("hc-")
    try:
        server, urls = _agencies(work)
        with processes.running(server):
            for url in urls.values():
                server.wait_http(url + "/")
            yield _set_up(app, admin_token, urls)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _set_up(app: Flask, admin_token: str, urls: dict[int, str]) -> dict[str, Callable[[int], None]]:
    api = _TestClientApi(app, admin_token)
    province.register_province(api)  # type: ignore[arg-type]
    for n, url in urls.items():
        province.register_connector(api, n, url)  # type: ignore[arg-type]
    agency = api.post(f"/api/v1/agencies/{province.LEAD}/tokens", {"roles": ["agency"]})["token"]
    portal = api.post(f"/api/v1/agencies/{province.LEAD}/tokens", {"roles": ["portal"]})["token"]

    def one_size(materials: int) -> Callable[[int], None]:
        cases = {}
        for subject in province.SUBJECTS:
            applicant = {"id_type": "resident-id", "id": subject, "name": "Bench applicant"}
            body = {"service_item": province.item_code(materials), "applicant": applicant, "channel": "web"}
            cases[subject] = api.post("/api/v1/applications", body, token=portal)["id"]

        def once(n: int) -> None:
            subject = province.SUBJECTS[n % len(province.SUBJECTS)]
            answer = api.post("/api/v1/resolutions", province.read_body(materials, subject, cases), token=agency)
            if any(material["status"] != "resolved" for material in answer["materials"]):
                raise RuntimeError(f"a resolution of {materials} materials was not resolved in full")

        return once

    return {f"resolve-{materials}": one_size(materials) for materials in MATERIALS}
