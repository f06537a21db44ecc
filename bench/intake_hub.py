"""The intake benchmark's hub: its province, its stand-in agencies and what a good application looks like.

Shared by :mod:`bench.intake` (submission throughput) and :mod:`bench.intake_due` (the due-date query).
"""

from __future__ import annotations

import json
import secrets
import shutil
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import redis
import requests

from hub.config import Settings
from hub.identifiers import with_check_characters
from hub.store import case_keys, keys
from hub.store.sealing import Sealer
from hub.store.secret import hub_secret
from hub.store.transaction import Codec

from . import processes
from .resolution import SOURCE_DELAY_S, HubApi, Province, connector_id, evidence_type, holder, record
from .resolution import SUBJECTS as CONNECTOR_TEST_SUBJECTS

LEAD = "bench-intake-lead"
PORTAL = "bench-portal"
ITEM = "bench-intake-01"
SOURCES = 3
UNHELD = "bench-ev-unheld"  # the evidence type of the material nobody holds
UNHELD_MATERIAL = f"m{SOURCES + 1:02d}"
APPLICANT_COUNT = 20_000  # more than one run's submissions, so applicants hardly repeat
FIRST_BIRTH_DATE = date(1980, 1, 1)


def applicant_id(n: int) -> str:
    """The resident id of applicant ``n``: born a day later for every thousand, with a check character that fits."""
    born = FIRST_BIRTH_DATE + timedelta(days=n // 1000)
    return with_check_characters("resident-id", f"440106{born:%Y%m%d}{n % 1000:03d}")


APPLICANTS = [applicant_id(n) for n in range(APPLICANT_COUNT)]


def submission(subject: str) -> dict[str, Any]:
    """The body of one application for ``subject``."""
    return {
        "service_item": ITEM,
        "applicant": {"id_type": "resident-id", "id": subject, "name": "Bench Applicant"},
        "channel": "web",
        "form": {},
    }


# -- setting the hub up
def register_province(api: HubApi) -> None:
    """Agencies, evidence types and the item of 3 held materials and one nobody holds."""
    api.post("/api/v1/agencies", {"code": LEAD, "name": "Bench lead agency", "region": "440000"})
    api.post("/api/v1/agencies", {"code": PORTAL, "name": "Bench online hall", "region": "440000"})
    fields = {"holder": {"type": "string", "required": True}, "number": {"type": "string"}, "issued": {"type": "date"}}
    for n in range(1, SOURCES + 1):
        api.post("/api/v1/agencies", {"code": holder(n), "name": f"Bench holder {n}", "region": "440000"})
        api.post("/api/v1/evidence-types", {"code": evidence_type(n), "name": f"Bench evidence {n}", "fields": fields})
    api.post("/api/v1/evidence-types", {"code": UNHELD, "name": "Evidence nobody holds", "fields": fields})
    materials = [
        {"code": f"m{n:02d}", "name": f"Material {n}", "evidence_type": evidence_type(n), "required": True}
        for n in range(1, SOURCES + 1)
    ]
    materials.append(
        {"code": UNHELD_MATERIAL, "name": "Material nobody holds", "evidence_type": UNHELD, "required": True}
    )
    api.post(
        "/api/v1/service-items",
        {
            "code": ITEM,
            "name": "Bench intake service",
            "region": "440000",
            "agency": LEAD,
            "co_agencies": [],
            "online": True,
            "in_person_required": False,
            "statutory_days": 20,
            "committed_days": 10,
            "produces": None,
            "materials": materials,
        },
    )


def _agency_server(work: Path, n: int, port: int) -> processes.Server:
    """Stand-in agency ``n`` (one dataset, every applicant and the connector-test subjects) in its own process."""
    subjects = [*CONNECTOR_TEST_SUBJECTS, *APPLICANTS]
    plan = {
        "delay_s": SOURCE_DELAY_S,
        "agencies": [
            {"port": port, "records": {f"ds{n:02d}": {s: {evidence_type(n): record(n, s)} for s in subjects}}}
        ],
    }
    plan_path = work / f"agency-{n}.json"
    plan_path.write_text(json.dumps(plan))
    command = [sys.executable, "-m", "bench.agency_runner", str(plan_path)]
    return processes.Server(f"stand-in agency {n}", command, processes.clean_env(), work / f"agency-{n}.log")


@dataclass(frozen=True)
class IntakeHub:
    """The running hub set up for intake: the operator's API, the portal and lead tokens, its Redis."""

    province: Province  # token: the lead agency's
    portal_token: str
    store: redis.Redis
    codec: Codec  # seals case records as the hub does (they hold personal data), with the hub's secret

    @property
    def base(self) -> str:
        return self.province.base

    def headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def applications(self) -> int:
        """Entries in the audit chain of the lead agency's applications (one per submission, upload or event)."""
        return int(self.store.xlen(keys.audit_stream(case_keys.application_partition(LEAD))))


@contextmanager
def intake_hub() -> Iterator[IntakeHub]:
    """The agencies and the hub running, set up with every source active; all stopped when the block ends."""
    work = processes.short_tempdir("hi-")
    hub_data = work / "hub"
    try:
        with ExitStack() as stack:
            ports = {n: processes.free_port() for n in range(1, SOURCES + 1)}
            if len(set(ports.values())) != SOURCES:
                raise processes.ServerError("could not find distinct free ports")
            urls = {n: f"http://127.0.0.1:{port}" for n, port in ports.items()}
            agencies = [_agency_server(work, n, ports[n]) for n in ports]
            for server in agencies:
                stack.enter_context(processes.running(server))
            stack.callback(processes.kill_leftover_redis, hub_data)  # runs after the hub has stopped
            admin_token = secrets.token_urlsafe(24)
            hub_port = processes.free_port()
            base = f"http://127.0.0.1:{hub_port}"
            hub_server = processes.hub_server(hub_data, hub_port, admin_token, work / "hub.log", demo=False)
            stack.enter_context(processes.running(hub_server))
            for server, n in zip(agencies, ports, strict=True):
                server.wait_http(urls[n] + "/", wait_seconds=120)  # 20,000 records to load
            hub_server.wait_http(f"{base}/readyz")
            api = HubApi(base, admin_token)
            register_province(api)
            lead_token = api.post(f"/api/v1/agencies/{LEAD}/tokens", {"roles": ["agency"]})["token"]
            portal_token = api.post(f"/api/v1/agencies/{PORTAL}/tokens", {"roles": ["portal"]})["token"]
            province = Province(work, base, api, hub_server, urls, lead_token, portal_token)
            province.activate_sources(SOURCES)
            store = redis.Redis(unix_socket_path=str(hub_data / "redis.sock"), socket_timeout=30)
            stack.callback(store.close)
            codec = Codec(Sealer(lambda: hub_secret(Settings(data_dir=hub_data))))
            yield IntakeHub(province, portal_token, store, codec)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- submission
def check_submission(setup: IntakeHub, subject: str) -> dict[str, Any]:
    """Submit one application; it must be 201 with the held materials resolved and the other one missing."""
    answer = requests.post(
        f"{setup.base}/api/v1/applications",
        json=submission(subject),
        headers=setup.headers(setup.portal_token),
        timeout=30,
    )
    if answer.status_code != 201:
        raise processes.ServerError(f"submission: {answer.status_code} {answer.text[:500]}")
    application = answer.json()
    if any(m["data"] is not None for m in application["materials"]):
        raise processes.ServerError(f"a portal was shown evidence values: {application}")
    # The values are the lead agency's to read: the case as it sees it.
    as_lead = requests.get(
        f"{setup.base}/api/v1/applications/{application['id']}",
        headers=setup.headers(setup.province.token),
        timeout=30,
    ).json()
    expected = {
        f"m{n:02d}": ("resolved", holder(n), connector_id(n), record(n, subject)) for n in range(1, SOURCES + 1)
    }
    got = {
        m["code"]: (m["status"], (m["source"] or {}).get("agency"), (m["source"] or {}).get("connector"), m["data"])
        for m in as_lead["materials"]
        if m["code"] != UNHELD_MATERIAL
    }
    unheld = next(m for m in application["materials"] if m["code"] == UNHELD_MATERIAL)
    if got != expected or unheld["status"] != "missing" or application["notice"]["missing"] != [UNHELD_MATERIAL]:
        raise processes.ServerError(f"the application for {subject} is not as expected: {application}")
    if application["status"] != "pending_materials":
        raise processes.ServerError(f"a new application with a missing material is {application['status']}")
    return application
