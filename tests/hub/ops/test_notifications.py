"""Notifications (issue 19, item 2): a portal's stand-in receiver on 127.0.0.1 hears every event of a case exactly
once by event id, although it answers 500 twice first and the hub is restarted mid-retry; a subscriber never hears
of a case it may not read; a forged or replayed delivery fails the receiver's signature check."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from intake_support import event, province, ready

from hub.ops import notifications
from hub.state import HubState

__all__ = ["province"]  # a fixture, used by name
SECRET = "a-portal-s-webhook-secret-0123456789"


class Receiver:
    """A portal's webhook endpoint: checks each delivery's signature and freshness, keeps each event once by id,
    and answers 500 to the first ``failures`` requests."""

    def __init__(self, secret: str, failures: int = 0) -> None:
        self.secret, self.failures = secret.encode(), failures
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.events: dict[str, dict] = {}
        self.refused: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k: v for k, v in self.headers.items()}
                receiver.requests.append((headers, body))
                status = 500 if len(receiver.requests) <= receiver.failures else receiver.accept(headers, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def verify(self, headers: dict[str, str], body: bytes) -> str | None:
        """Why a delivery is refused (None: it is genuine and new), as a receiver following the hub's guide does."""
        parts = dict(part.split("=", 1) for part in headers.get("Hub-Signature", "").split(","))
        expected = hmac.new(self.secret, parts.get("t", "").encode() + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, parts.get("v1", "")):
            return "bad signature"
        if abs(time.time() - int(parts["t"])) > 300:
            return "too old"
        if json.loads(body)["id"] in self.events:
            return "replayed"
        return None

    def accept(self, headers: dict[str, str], body: bytes) -> int:
        problem = self.verify(headers, body)
        if problem is not None:
            self.refused.append(problem)
            return 400
        self.events[json.loads(body)["id"]] = json.loads(body)
        return 204

    def stop(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receiver():
    running = Receiver(SECRET, failures=2)
    yield running
    running.stop()


def subscribe(client, token, url: str, channels=("applications",), **filters) -> dict:
    body = {"callback_url": url, "channels": list(channels), "filters": filters, "secret": SECRET}
    answer = client.post("/api/v1/subscriptions", json=body, headers=token)
    assert answer.status_code == 201, answer.get_json()
    assert "secret" not in answer.get_json()
    return answer.get_json()


def test_every_event_of_a_case_arrives_once_through_failures_and_a_restart(
    client, province, registry, app, clock, receiver
):
    state = app.extensions["hub"]
    subscription = subscribe(client, province["portal"], receiver.url)
    registry.agency("tax", region="330100")
    stranger = Receiver(SECRET)
    subscribe(client, registry.token("tax", "agency"), stranger.url)  # asks, but may read none of these cases
    case_id = ready(client, province)
    event(client, province["market"], case_id, "accept")
    event(client, province["market"], case_id, "suspend", reason="现场核查", days=3)
    event(client, province["market"], case_id, "resume")
    event(client, province["market"], case_id, "postpone", reason="专家评审", days=2)
    event(client, province["market"], case_id, "approve")

    first = notifications.run(state)
    assert first["fanned_out"] == 6 and first["retrying"] >= 2  # the receiver's first two answers are 500
    restarted = HubState(state.settings, state.store, state.clock)  # a new process on the same store
    for _ in range(6):
        clock.advance(minutes=3)
        notifications.run(restarted)
    types = sorted(e["type"] for e in receiver.events.values())
    assert types == sorted(
        f"application.{kind}" for kind in ("submitted", "accepted", "suspended", "resumed", "postponed", "approved")
    )
    assert all(e["application"] == case_id for e in receiver.events.values())
    assert receiver.refused == [] and len(receiver.requests) == 6 + 2  # two failures, then each event once
    suspended = next(e for e in receiver.events.values() if e["type"] == "application.suspended")
    assert suspended["until"] and "applicant" not in suspended  # when it ends; never the case's data
    assert stranger.requests == []  # a subscriber only hears of cases it may read
    stranger.stop()

    log = client.get(f"/api/v1/subscriptions/{subscription['id']}/deliveries", headers=province["portal"]).get_json()
    outcomes = [line["outcome"] for line in log["items"]]
    assert outcomes.count("retrying") == 2 and outcomes.count("delivered") == 6
    assert notifications.run(restarted) == {"fanned_out": 0, "delivered": 0, "retrying": 0, "given_up": 0}


def test_a_forged_or_replayed_delivery_fails_the_signature_check(client, province, app, receiver):
    subscribe(client, province["portal"], receiver.url)
    ready(client, province)
    receiver.failures = 0
    notifications.run(app.extensions["hub"])
    headers, body = receiver.requests[-1]
    assert receiver.verify(headers, body) == "replayed"  # the same delivery again
    forged = body.replace(b"submitted", b"approved")
    assert receiver.verify(headers, forged) == "bad signature"
    other = Receiver("another-secret-entirely-0123456789")
    assert other.verify(headers, body) == "bad signature"
    other.stop()


def test_subscriptions_are_the_owner_s_and_callbacks_pass_the_allowlist(client, province, registry):
    made = subscribe(client, province["portal"], "http://127.0.0.1:9/hooks", channels=("applications", "licences"))
    assert [s["id"] for s in client.get("/api/v1/subscriptions", headers=province["portal"]).get_json()["items"]] == [
        made["id"]
    ]
    assert client.get("/api/v1/subscriptions", headers=province["market"]).get_json()["items"] == []
    outside = {"callback_url": "http://169.254.169.254/latest", "channels": ["applications"], "secret": SECRET}
    refused = client.post("/api/v1/subscriptions", json=outside, headers=province["portal"])
    assert refused.status_code == 422 and "callback_url" in refused.get_json()["errors"]
    assert client.delete(f"/api/v1/subscriptions/{made['id']}", headers=province["market"]).status_code == 403
    assert client.delete(f"/api/v1/subscriptions/{made['id']}", headers=province["portal"]).status_code == 204


def test_a_filter_by_applicant_hears_only_that_person_s_cases(client, province, app, registry):
    from intake_support import HOLDER, apply

    listener = Receiver(SECRET)
    other = {"id_type": "resident-id", "id": "440106199001011235", "name": "李伟"}
    body = {"callback_url": listener.url, "channels": ["applications"], "secret": SECRET}
    filtered = body | {"filters": {"applicant": {"id_type": other["id_type"], "id": other["id"]}}}
    made = client.post("/api/v1/subscriptions", json=filtered, headers=province["portal"]).get_json()
    assert "applicant" not in made["filters"] and "subject" not in made["filters"]  # the person is not kept
    apply(client, province["portal"])  # HOLDER's case: not the person filtered for
    apply(client, province["portal"], applicant=other)
    notifications.run(app.extensions["hub"])
    assert len(listener.events) == 1 and HOLDER["id"] not in json.dumps(list(listener.events.values()))
    listener.stop()
