"""The demo province: loaded from ``province.yaml`` through the catalogue import, with demo tokens.

The tokens are made once per data directory and kept in ``demo-tokens.json`` (mode 0600) beside
the data, since the store keeps only their hashes; later starts print the same tokens again.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from certs.api import CertsError
from connectors.api import Subject
from hub.context import Context
from hub.errors import HubError
from hub.http import authn
from hub.licences import issuance
from hub.licences import register as licences
from hub.registry import catalogue, connectors
from hub.registry import tokens as auth
from hub.state import HubState
from hub.store import keys

log = logging.getLogger(__name__)
PROVINCE_FILE = Path(__file__).with_name("province.yaml")
AGENCY_PORT = 8001  # the demo connectors in province.yaml point here
TOKENS_FILE = "demo-tokens.json"
# Who gets a demo token, with which roles. The government service centre runs the online hall.
DEMO_HOLDERS = {
    "operator": (None, ["operator"]),
    "prov-gov-service": ("prov-gov-service", ["portal", "agency"]),
    "prov-market": ("prov-market", ["agency"]),
    "prov-health": ("prov-health", ["agency"]),
    "prov-public-security": ("prov-public-security", ["agency"]),
    "prov-civil-affairs": ("prov-civil-affairs", ["agency"]),
    "city-housing": ("city-housing", ["agency"]),
}


def load(state: HubState) -> dict[str, str]:
    """Import the demo province, activate the connectors that answer, and return holder -> demo token."""
    store, ctx = state.store, Context.system("demo")
    catalogue.import_document(
        store,
        ctx,
        catalogue.read_file(PROVINCE_FILE),
        state.today(),
        check_connector=state.sources.checked,
        sm2_keys_allowed=state.settings.sm2_keys_allowed,
    )
    _activate_answering_connectors(state, ctx)
    tokens_path = Path(state.settings.data_dir) / TOKENS_FILE
    if tokens_path.exists():
        tokens = json.loads(tokens_path.read_text())
        if all(store.get_json(keys.token(authn.hash_token(secret))) for secret in tokens.values()):
            return tokens
    tokens = {}
    for holder, (agency, roles) in DEMO_HOLDERS.items():
        tokens[holder] = auth.create_token(store, ctx, agency, roles)["token"]
    descriptor = os.open(tokens_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(tokens, handle, indent=2)
    return tokens


SAMPLE_HOLDER = {"id_type": "credit-code", "id": "91330100MA2H0DEM0P", "name": "西湖示范小吃店"}
SAMPLE_LICENCE = {
    "type": "food-business-licence",
    "holder": SAMPLE_HOLDER,
    "fields": {
        "operator_name": "西湖示范小吃店",
        "credit_code": "91330100MA2H0DEM0P",
        "premises": "杭州市西湖区文三路 1 号",
        "main_business": "小餐饮 Small catering",
    },
}


def sample_licence(state: HubState) -> str:
    """The number of the demo's sample licence, issued the first time (for /verify and the QR link)."""
    holder = Subject(SAMPLE_HOLDER["id_type"], SAMPLE_HOLDER["id"])
    existing = licences.listing(state, None, SAMPLE_LICENCE["type"], holder, 1, None)["items"]
    if existing:
        return existing[0]["number"]
    return issuance.issue(state, Context.system("demo"), "prov-market", SAMPLE_LICENCE)["number"]


def sample_licence_or_none(state: HubState) -> str | None:
    """:func:`sample_licence`, or None (logged) when it cannot be issued, so the demo still starts."""
    try:
        return sample_licence(state)
    except (HubError, CertsError, OSError) as error:
        log.warning("the demo's sample licence could not be issued", extra={"error": str(error)})
        return None


def _activate_answering_connectors(state: HubState, ctx: Context) -> None:
    """Test each demo connector and activate those that pass (the demo agency service must be up)."""
    for record in catalogue.export(state.store)["connectors"]:
        stored = connectors.get_connector(state.store, record["id"])
        if stored["active"]:
            continue
        result = state.sources.test(stored, None, None, None)
        connectors.record_test(state.store, ctx, record["id"], result)
        if result["ok"]:
            connectors.set_active(state.store, ctx, record["id"], True)


def start_agency_service(port: int = AGENCY_PORT) -> subprocess.Popen | None:
    """Run the demo agency service beside the hub, unless something already listens on its port."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            return None
    process = subprocess.Popen(
        [sys.executable, "-m", "hub.demo.agency", "--port", str(port)], stdout=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.05)
    return process


def banner(tokens: dict[str, str], base_url: str, licence_number: str | None = None) -> str:
    """The text printed at start-up: where the hub is, the demo tokens and the sample licence."""
    lines = [f"The hub serves the demo province at {base_url}  (API docs: {base_url}/docs)", "Demo bearer tokens:"]
    width = max(len(holder) for holder in tokens)
    lines += [f"  {holder.ljust(width)}  {secret}" for holder, secret in tokens.items()]
    if licence_number:
        lines.append(f"Sample licence {licence_number}: {base_url}/verify/{licence_number}")
    return "\n".join(lines)
