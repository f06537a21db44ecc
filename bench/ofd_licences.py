"""OFD licences beside PAdES (issue 22): what issuing a licence as OFD too, and verifying an OFD, cost.

A hub runs in this process on its own embedded Redis (rate limits on, set past the load), with two licence types
of the same fields: one issued as PDF only, one as PDF and OFD (the OFD rendered from the same layout and sealed
with the agency's SM2 electronic seal and an SM2 timestamp). One request at a time through Flask's test client,
:data:`LICENCES` of each, taking turns: issuing each kind, then verifying each licence's PDF and each licence's
OFD with the verification cache emptied before every request (every one a miss; the verifier process's work is
in the wall time). Wall times, since verification runs in the verifier processes this process cannot time.
"""

from __future__ import annotations

import io
import json
import statistics
import time
from dataclasses import asdict, dataclass
from typing import Any

from hub.identifiers import with_check_characters
from hub.store import keys

from . import wrk
from .cpu import ADMIN, setup, throwaway_hub
from .licences import AGENCY, LABELS, TYPE_CODE, TYPE_NAME
from .licences_load import request_bodies

NAME = "ofd"
LICENCES = 30
OFD_TYPE = TYPE_CODE + "-ofd"
SERIES = ("issue PDF", "issue PDF + OFD", "verify PDF", "verify OFD")


@dataclass(frozen=True)
class OfdResult:
    """Wall milliseconds per operation, each series in the order the requests were made."""

    licences: int
    pdf_bytes: int
    ofd_bytes: int
    ms: dict[str, list[float]]

    @property
    def name(self) -> str:
        return NAME

    def p50(self, series: str) -> float:
        return statistics.median(self.ms[series])

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "p50_ms": {series: self.p50(series) for series in SERIES}}

    def markdown(self) -> list[str]:
        rows = [
            f"| {series} | {self.p50(series):.1f} ms | {statistics.quantiles(self.ms[series], n=10)[-1]:.1f} ms |"
            for series in SERIES
        ]
        extra = self.p50("issue PDF + OFD") - self.p50("issue PDF")
        return [
            "## OFD licences beside PAdES (issue 22)",
            "",
            f"{self.licences} licences of each kind issued, and each one's PDF ({self.pdf_bytes // 1000} kB) and OFD"
            f" ({self.ofd_bytes // 1000} kB) verified, one request at a time through the WSGI app on one process"
            " (verification cache emptied before each verification).",
            "",
            "| operation | p50 | p90 |",
            "| --- | ---: | ---: |",
            *rows,
            "",
            f"Issuing the OFD beside the PDF adds {extra:.0f} ms a licence: rendering the page again (fpdf2 measures"
            " it a second time), zipping, the SM3 digests, the SES signature and the SM2 timestamp. Verifying an OFD"
            f" takes {self.p50('verify OFD') / self.p50('verify PDF'):.2f}× the time of verifying its PDF: the"
            " package read under its caps, every part's SM3 digest, the SM2 signatures of signer, seal maker and TSA"
            " and the chains (GmSSL), against pyHanko's PDF parsing and validation.",
            "",
            f"Raw figures: `bench/out/{NAME}.json`.",
            "",
        ]


def _timed(work: Any) -> float:
    started = time.perf_counter()
    work()
    return (time.perf_counter() - started) * 1000


def run(load: wrk.WrkSettings) -> OfdResult:
    """Issue and verify both kinds, one at a time, taking turns."""
    del load  # no HTTP load: one request at a time
    ms: dict[str, list[float]] = {series: [] for series in SERIES}
    with throwaway_hub("hub-bench-ofd-") as app:
        state, client = app.extensions["hub"], app.test_client()
        agency = setup(client)
        operator = {"Authorization": f"Bearer {ADMIN}"}
        fields = {name: {"type": "string", "required": True, "label": label} for name, label in LABELS.items()}
        ofd_type = {"code": OFD_TYPE, "name": f"{TYPE_NAME[0]} ({TYPE_NAME[1]})", "issuer": AGENCY}
        made = client.post(
            "/api/v1/licence-types",
            json={**ofd_type, "fields": fields, "validity_days": 1825, "formats": ["pdf", "ofd"]},
            headers=operator,
        )
        if made.status_code != 201:
            raise RuntimeError(f"licence type: {made.status_code} {made.get_data(as_text=True)[:300]}")
        bodies, issued = request_bodies(), []
        for n in range(LICENCES + 1):  # the first of each kind makes the seals and keys: left out
            for kind, (series, type_code) in enumerate((("issue PDF", TYPE_CODE), ("issue PDF + OFD", OFD_TYPE))):
                holder = with_check_characters("credit-code", f"91330100{kind + 6}{n + 1:07d}")
                body = json.loads(json.dumps(bodies[n % len(bodies)]).replace("@ID@", holder)) | {"type": type_code}
                answers: list[Any] = []
                spent = _timed(lambda: answers.append(client.post("/api/v1/licences", json=body, headers=agency)))  # noqa: B023
                if answers[0].status_code != 201:
                    raise RuntimeError(f"issue: {answers[0].status_code} {answers[0].get_data(as_text=True)[:300]}")
                if n:
                    ms[series].append(spent)
                if type_code == OFD_TYPE:
                    issued.append(answers[0].get_json()["number"])
        files = [
            (client.get(f"/api/v1/licences/{number}/pdf", headers=agency).data,
             client.get(f"/api/v1/licences/{number}/ofd", headers=agency).data)
            for number in issued
        ]  # fmt: skip
        for n, (pdf, ofd) in enumerate(files):
            for series, content in (("verify PDF", pdf), ("verify OFD", ofd)):
                for key in list(state.store.keys_matching(keys.verification_cache("*"))):
                    state.store.delete(key)
                data = {"file": (io.BytesIO(content), "licence")}
                answers = []
                spent = _timed(lambda: answers.append(client.post("/api/v1/verifications", data=data)))  # noqa: B023
                verdict = answers[0].get_json() or {}
                if answers[0].status_code != 200 or verdict.get("verdict") != "valid":
                    raise RuntimeError(f"{series}: {answers[0].status_code} {str(verdict)[:300]}")
                if n:
                    ms[series].append(spent)
        return OfdResult(LICENCES, len(files[0][0]), len(files[0][1]), ms)


if __name__ == "__main__":
    from .alone import main

    main("python -m bench.ofd_licences", __doc__ or "", run)
