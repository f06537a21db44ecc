"""Benchmark: the public status look-up ``GET /verify/{number}`` (JSON) beside a Flask app doing one Redis GET
(issue 21: at least 0.8x the baseline's rate).

The hub runs with the demo province and looks up the demo's sample licence with no token, as anyone
holding the QR link does; the baseline serves, from its own Redis, the very JSON document the hub
returned. Rate limits, the access log, metrics and audit stay on (their limits set past the load).
"""

from __future__ import annotations

import requests

from . import baseline_pair, wrk
from .report import Comparison


def run(load: wrk.WrkSettings) -> Comparison:
    """Measure the hub's look-up and the baseline's."""
    numbers: list[str] = []

    def read(base: str, admin_token: str) -> baseline_pair.HubRead:
        listed = requests.get(
            f"{base}/api/v1/licences",
            headers={"Authorization": f"Bearer {admin_token}"},
            params={"limit": 1},
            timeout=30,
        )
        listed.raise_for_status()
        numbers.append(listed.json()["items"][0]["number"])
        return baseline_pair.HubRead(
            f"{base}/verify/{numbers[0]}", {"Accept": "application/json"}, lambda answer: answer["number"] == numbers[0]
        )

    measured, body = baseline_pair.measure(load, read)
    hub, baseline = measured["hub"], measured["baseline"]
    return Comparison(
        name="status_lookup",
        title="Public status look-up by licence number",
        hub_request=f"`GET /verify/{{number}}` with `Accept: application/json`, no token ({len(body)} B of JSON)",
        baseline_request="`GET /value`: one Redis GET of the same JSON document, decoded and returned as JSON",
        hub=hub,
        baseline=baseline,
        load=load,
        meaning=(
            f"The hub answers at {hub.requests_per_second / baseline.requests_per_second:.0%} of the baseline's rate"
            f" (issue 21 asks for 80% or more). Beyond the baseline's one read it counts the request against the"
            " per-address rate limit (a Redis script), writes the JSON access-log line, the request id, security"
            " headers and the request histogram; the answer itself is one read of the answer kept ready with the"
            " licence's last change, sent as stored."
        ),
    )
