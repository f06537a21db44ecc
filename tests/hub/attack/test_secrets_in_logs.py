"""No secret and no personal ID reaches the logs, at DEBUG, of gunicorn, its workers or the job-queue workers.

A served hub goes through a working day: the operator registers an agency service whose connector carries Basic
and API-key credentials and a mutual-TLS key, issues tokens, signs in to the console; an agency resolves a
resident's evidence; the online hall applies for that resident and uploads a material; anyone verifies a PDF; the
job-queue worker probes the connector. Then every line the processes wrote is searched for each secret, as it is
and base64-encoded.
"""

from __future__ import annotations

import base64
import datetime
import re
import time

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hardening_support import spellings
from intake_support import PDF
from testbed import ADMIN_TOKEN

from certs import authority
from hub.demo.agency import StandInAgency
from hub.logs import redact

SECRET_KEY = "hub-secret-key-for-the-log-test-5d1e8c"
BASIC_PASSWORD = "basic-password-7Qm2"
API_KEY = "api-key-for-the-agency-91fe3c"
RESIDENT = "440106199001011235"
NAME = "李伟"


def client_credentials() -> tuple[str, str]:
    """A self-signed certificate and its unencrypted PKCS#8 key, as PEM, for an mTLS connector (only the secrecy
    of the key matters here: the connector is registered and probed, never reached over TLS)."""
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = authority.self_signed_root(authority.name("hub client"), key, datetime.datetime.now(datetime.UTC), 1)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()


@pytest.mark.slow
def test_a_working_day_at_debug_leaves_no_secret_in_any_log(served_hub_factory):
    agency_service = StandInAgency({"people": {RESIDENT: {"identity": {"name": NAME}}}}).start()
    hub = served_hub_factory(
        HUB_LOG_LEVEL="DEBUG", HUB_SECRET_KEY=SECRET_KEY, HUB_WORKERS="1", HUB_QUEUE_WORKERS="1", HUB_PROBE_INTERVAL="2"
    ).start()
    basic = "Basic " + base64.b64encode(f"agency-user:{BASIC_PASSWORD}".encode()).decode()
    client_cert, client_key = client_credentials()
    operator = requests.Session()
    operator.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
    secrets: list[str] = [ADMIN_TOKEN, SECRET_KEY, BASIC_PASSWORD, basic, API_KEY, RESIDENT]
    secrets += [line for line in client_key.splitlines() if "PRIVATE KEY" not in line]
    try:

        def post(session: requests.Session, path: str, body: dict, status: int = 201) -> dict:
            answer = session.post(hub.url + path, json=body, timeout=30)
            assert answer.status_code == status, answer.text
            return answer.json()

        for code in ("market", "hall"):
            post(operator, "/api/v1/agencies", {"code": code, "name": code, "region": "440000"})
        fields = {"name": {"type": "string", "required": True}}
        post(operator, "/api/v1/evidence-types", {"code": "identity", "name": "Identity", "fields": fields})
        headers = {"Authorization": basic, "X-Api-Key": API_KEY}
        connector = {"id": "people", "agency": "market", "kind": "rest", "provides": ["identity"], "timeout_ms": 2000}
        post(
            operator,
            "/api/v1/connectors",
            {**connector, "config": {"url": agency_service.url_for("people"), "headers": headers}},
        )
        sample = {"evidence_type": "identity", "subject_id_type": "resident-id", "subject_id": RESIDENT}
        assert post(operator, "/api/v1/connectors/people/test", sample, 200)["ok"]
        post(operator, "/api/v1/connectors/people/activation", {"active": True}, 200)
        tls = {"client_cert": client_cert, "client_key": client_key}
        mtls = {**connector, "id": "people-mtls", "config": {"url": "https://127.0.0.1:9/{subject_id}", "tls": tls}}
        post(operator, "/api/v1/connectors", mtls)
        materials = [
            {"code": "id", "name": "Identity", "evidence_type": "identity", "required": True},
            {"code": "plan", "name": "Plan", "evidence_type": None, "required": True},
        ]
        item = {
            "code": "item-1",
            "name": "Item",
            "region": "440000",
            "agency": "market",
            "co_agencies": [],
            "online": True,
        }
        item |= {"in_person_required": False, "statutory_days": 20, "committed_days": 10, "produces": None}
        post(operator, "/api/v1/service-items", {**item, "materials": materials})
        agency_token = post(operator, "/api/v1/agencies/market/tokens", {"roles": ["agency"]})["token"]
        portal_token = post(operator, "/api/v1/agencies/hall/tokens", {"roles": ["portal"]})["token"]
        secrets += [agency_token, portal_token]

        subject = {"id_type": "resident-id", "id": RESIDENT}
        portal = requests.Session()
        portal.headers["Authorization"] = f"Bearer {portal_token}"
        application = {"service_item": "item-1", "applicant": {**subject, "name": NAME}, "channel": "web", "form": {}}
        case = post(portal, "/api/v1/applications", application)

        agency = requests.Session()
        agency.headers["Authorization"] = f"Bearer {agency_token}"
        read = {"service_item": "item-1", "subject": subject, "application": case["id"]}
        resolved = post(agency, "/api/v1/resolutions", read)
        assert resolved["materials"][0]["status"] == "resolved"
        upload = portal.post(
            f"{hub.url}/api/v1/applications/{case['id']}/materials",
            data={"material": "plan"},
            files={"file": ("plan.pdf", PDF, "application/pdf")},
            timeout=30,
        )
        assert upload.status_code == 201, upload.text
        verified = requests.post(hub.url + "/api/v1/verifications", files={"file": ("x.pdf", PDF)}, timeout=60)
        assert verified.status_code in (200, 422)

        console = requests.Session()
        form = console.get(hub.url + "/console/login", timeout=10).text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        signed_in = console.post(
            hub.url + "/console/login", data={"csrf_token": csrf, "token": ADMIN_TOKEN}, timeout=10
        )
        assert signed_in.status_code == 200 and signed_in.url.endswith("/console")
        refused = requests.get(
            hub.url + "/api/v1/agencies", headers={"Authorization": f"Bearer {agency_token}x"}, timeout=10
        )
        assert refused.status_code == 401

        _wait_for_a_queue_probe(hub)
    finally:
        hub.stop()
        agency_service.stop()
    log = hub.log()
    # the test read a DEBUG log of real work, the queue worker's included
    assert '"level": "DEBUG"' in log and "hub.access" in log and '"job": "probes"' in log
    leaks = {secret[:12] + "…": form for secret in secrets for form in spellings(secret) if form in log}
    assert leaks == {}, [line[:400] for line in log.splitlines() if any(form in line for form in leaks.values())][:5]


def _wait_for_a_queue_probe(hub) -> None:
    """Until a job-queue worker (its own process, logging into the same file) has probed the connectors."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and '"job": "probes"' not in hub.log():
        time.sleep(0.2)


def test_what_looks_like_a_secret_is_masked_whoever_logs_it():
    line = redact(
        'GET /people/440106199001011235?type=x Authorization: Bearer hub_Ab12Cd34Ef56Gh78Ij90 "Basic YWdlbnQ6cHc="'
        " -----BEGIN PRIVATE KEY-----\\nMIGHAgEA\\n-----END PRIVATE KEY----- request 5cc7b1d8ebf34e80b373f8129902ccf2"
    )
    assert line == (
        'GET /people/[id]?type=x Authorization: Bearer [redacted] "Basic [redacted]" [private key]'
        " request 5cc7b1d8ebf34e80b373f8129902ccf2"
    )
