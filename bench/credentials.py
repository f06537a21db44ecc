"""Credentials checked offline against one status list, beside the same checks made online
(``python -m bench.credentials``; issue 20).

A hub is served without the demo province; one agency issues ``LICENCES`` licences and their
credentials are fetched until there are ``CREDENTIALS`` of them (each fetch is a new credential with
fresh salts, as a holder's wallet would hold). Then, on one client thread each:

- the type's status list is fetched ``LIST_FETCHES`` times (its size and the time of one fetch);
- offline: the ``CREDENTIALS`` credentials are checked against the roots and that one list with
  :mod:`certs.credential_check` in this process (what ``hub verify-offline`` runs), and again with
  ``hub verify-offline`` itself on a file of them (its start-up included);
- online: ``/verify/{number}`` (JSON) is asked ``CREDENTIALS`` times, once for each credential's licence,
  over one kept-alive connection.

Separately, in this process, the compressed size of the status lists that hold 1,000,000 licences is
computed for several shares of licences that are not valid (revoked, superseded or suspended, at random
indexes as the hub hands them out): issue 20 asks for under 300 KB. The wrk options are accepted and unused.
"""

from __future__ import annotations

import base64
import json
import os
import random
import secrets
import shutil
import subprocess
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from certs import credential_check
from hub.identifiers import with_check_characters
from hub.licences import status_lists

from . import alone, processes, wrk
from .resolution import HubApi

LICENCES = 50
CREDENTIALS = 10_000
LIST_FETCHES = 200
MILLION = 1_000_000
NOT_VALID_SHARES = (0.0, 0.01, 0.05, 0.10, 0.25)
SIZE_LIMIT = 300 * 1024


@dataclass(frozen=True)
class ListSize:
    not_valid_share: float
    lists: int
    compressed_bytes: int
    token_bytes: int


@dataclass(frozen=True)
class CredentialsResult:
    credentials: int
    credential_bytes: float
    list_token_bytes: int
    list_fetch_ms: float
    offline_seconds: float
    offline_cli_seconds: float
    online_seconds: float
    sizes: list[ListSize]
    name: str = "credentials"

    def markdown(self) -> list[str]:
        def rate(seconds: float) -> str:
            return f"{self.credentials / seconds:,.0f}/s"

        lines = [
            "## Credentials checked offline against one status list, and online (issue 20)",
            "",
            f"{self.credentials:,} SD-JWT VC credentials (about {self.credential_bytes / 1024:.1f} KB each, from"
            f" {LICENCES} licences of one type) checked on one client thread. The status list token is"
            f" {self.list_token_bytes / 1024:.1f} KB; one fetch took {self.list_fetch_ms:.1f} ms (mean of"
            f" {LIST_FETCHES}).",
            "",
            "| check | seconds for all | per second |",
            "| --- | ---: | ---: |",
            f"| offline, in process (`certs.credential_check`, one list fetched once) | {self.offline_seconds:.2f}"
            f" | {rate(self.offline_seconds)} |",
            f"| offline, `hub verify-offline` on a file of them (start-up included) | {self.offline_cli_seconds:.2f}"
            f" | {rate(self.offline_cli_seconds)} |",
            f"| online, `GET /verify/{{number}}` (JSON) over one kept-alive connection | {self.online_seconds:.2f}"
            f" | {rate(self.online_seconds)} |",
            "",
            "The offline checks verify each credential's ES256 signature, its `x5c` chain to the roots (each"
            " chain once), its disclosures' digests, its dates and its two status bits; the online look-up"
            " returns the licence's status only, and needs the hub for every one.",
            "",
            f"Status lists holding {MILLION:,} licences (lists of {status_lists.LIST_SIZE:,} entries filled to"
            " three quarters, random indexes), compressed as served:",
            "",
            "| not valid | lists | compressed | signed tokens | under 300 KB |",
            "| ---: | ---: | ---: | ---: | --- |",
        ]
        for size in self.sizes:
            lines.append(
                f"| {size.not_valid_share:.0%} | {size.lists} | {size.compressed_bytes / 1024:.1f} KB"
                f" | {size.token_bytes / 1024:.1f} KB | {'yes' if size.token_bytes < SIZE_LIMIT else 'no'} |"
            )
        lines += ["", "Command: `python -m bench.credentials` (also part of `make bench`).", ""]
        return lines

    def as_json(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if key != "name"}


def million_list_sizes(header_chars: int) -> list[ListSize]:
    """The compressed status lists of a million licences, at each share of licences not valid; a list's token
    is counted as served: its payload as the hub writes it, the signed header (``header_chars`` long, taken
    from a real token) and the signature."""
    chooser = random.Random(20)
    sizes = []
    per_list = status_lists.FILL_LIMIT
    for share in NOT_VALID_SHARES:
        remaining, compressed, tokens, lists = MILLION, 0, 0, 0
        while remaining:
            count = min(per_list, remaining)
            remaining -= count
            lists += 1
            raw = bytearray(status_lists.LIST_SIZE * status_lists.BITS // 8)
            for index in chooser.sample(range(status_lists.LIST_SIZE), count):
                if chooser.random() < share:
                    value = status_lists.SUSPENDED if chooser.random() < 0.2 else status_lists.INVALID
                    raw[index // 4] |= value << (6 - 2 * (index % 4))  # most significant first, as Redis keeps it
            body = status_lists.compressed_list(bytes(raw))
            compressed += len(body)
            lst = base64.urlsafe_b64encode(body).rstrip(b"=").decode()
            claims = {"sub": "https://hub.example/api/v1/status-lists/food-business/1", "iat": 1, "exp": 1, "ttl": 300}
            payload = json.dumps({**claims, "status_list": {"bits": 2, "lst": lst}}, separators=(",", ":"))
            tokens += header_chars + 1 + len(base64.urlsafe_b64encode(payload.encode()).rstrip(b"=")) + 1 + 86
        sizes.append(ListSize(share, lists, compressed, tokens))
    return sizes


def _holder(n: int) -> dict[str, str]:
    return {"id_type": "credit-code", "id": with_check_characters("credit-code", f"91330100C{n:07d}"), "name": "C"}


def _measure(work: Any) -> CredentialsResult:
    hub_data = work / "hub"
    with ExitStack() as stack:
        stack.callback(processes.kill_leftover_redis, hub_data)
        admin, port = secrets.token_urlsafe(24), processes.free_port()
        base = f"http://127.0.0.1:{port}"
        server = processes.hub_server(hub_data, port, admin, work / "hub.log", demo=False)
        stack.enter_context(processes.running(server))
        server.wait_http(f"{base}/readyz")
        api = HubApi(base, admin)
        credit = with_check_characters("credit-code", "1133010000000001")
        api.post("/api/v1/agencies", {"code": "market", "name": "Market", "region": "330100", "credit_code": credit})
        fields = {"premises": {"type": "string", "required": True}, "seats": {"type": "number"}}
        body = {"code": "food-business", "name": "Food", "issuer": "market", "fields": fields, "validity_days": 365}
        api.post("/api/v1/licence-types", body)
        token = api.post("/api/v1/agencies/market/tokens", {"roles": ["agency"]})["token"]
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        numbers = []
        for n in range(LICENCES):
            licence = {"type": "food-business", "holder": _holder(n), "fields": {"premises": f"No. {n}", "seats": n}}
            response = session.post(f"{base}/api/v1/licences", json=licence, timeout=60)
            response.raise_for_status()
            numbers.append(response.json()["number"])
        credentials = []
        for n in range(CREDENTIALS):
            response = session.get(f"{base}/api/v1/licences/{numbers[n % LICENCES]}/credential", timeout=60)
            response.raise_for_status()
            credentials.append(response.text)
        roots = requests.get(f"{base}/api/v1/pki/roots", timeout=30).content
        payload = json.loads(base64.urlsafe_b64decode(credentials[0].split(".")[1] + "==="))
        list_url = payload["status"]["status_list"]["uri"]

        public = requests.Session()
        started = time.perf_counter()
        for _ in range(LIST_FETCHES):
            fetched = public.get(list_url, timeout=30)
            fetched.raise_for_status()
        fetch_ms = (time.perf_counter() - started) * 1000 / LIST_FETCHES
        list_token = fetched.text

        at = datetime.now(UTC)
        started = time.perf_counter()
        anchors = credential_check.Anchors.from_pem(roots)
        lists = {list_url: credential_check.load_status_list(list_token, anchors, at)}
        verdicts = [credential_check.check_credential(c, anchors, lists, at).verdict for c in credentials]
        offline = time.perf_counter() - started
        if set(verdicts) != {"valid"}:
            raise processes.ServerError(f"offline verdicts: {sorted(set(verdicts))}")

        (work / "roots.pem").write_bytes(roots)
        (work / "list.jwt").write_text(list_token)
        (work / "credentials.txt").write_text("\n".join(credentials) + "\n")
        command = [str(processes.VENV_BIN / "hub"), "verify-offline", "--roots", str(work / "roots.pem")]
        command += ["--list", str(work / "list.jwt"), str(work / "credentials.txt")]
        started = time.perf_counter()
        outcome = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
        offline_cli = time.perf_counter() - started
        if outcome.returncode != 0:
            raise processes.ServerError(f"hub verify-offline: {outcome.stderr[:300]}")

        started = time.perf_counter()
        for n in range(CREDENTIALS):
            answer = public.get(f"{base}/verify/{numbers[n % LICENCES]}", headers={"Accept": "application/json"})
            if answer.status_code != 200 or answer.json()["status"] != "valid":
                raise processes.ServerError(f"/verify: {answer.status_code} {answer.text[:200]}")
        online = time.perf_counter() - started
    return CredentialsResult(
        credentials=CREDENTIALS,
        credential_bytes=sum(len(c) for c in credentials) / len(credentials),
        list_token_bytes=len(list_token),
        list_fetch_ms=fetch_ms,
        offline_seconds=offline,
        offline_cli_seconds=offline_cli,
        online_seconds=online,
        sizes=million_list_sizes(len(list_token.split(".")[0])),
    )


def run(load: wrk.WrkSettings) -> CredentialsResult:
    """Measure once (the figures are totals over many checks)."""
    work = processes.short_tempdir("bc-")
    try:
        return _measure(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    alone.main("python -m bench.credentials", __doc__.splitlines()[0], run)
