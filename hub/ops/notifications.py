"""Notifications (issue 19): portals and agencies subscribe, and hear of every case and licence event they may read,
as signed webhooks, until they take them.

Modelled on the Dutch ZGW Notificaties API: a subscription names channels (``applications``, ``licences``) and
filters (``service_item``, ``agency``, ``applicant``: kept as the person's subject hash), and grants no access. A
subscriber hears of a case only if it may read it (the portal that filed it, the lead or a co-agency) and of a
licence only as its issuer.

The scheduled job (``HUB_NOTIFY_INTERVAL``) first fans each partition's outbox (:mod:`hub.store.outbox`) out into
one delivery per event and subscription, in one transaction with how far that outbox was read, so an event is
never lost and never fanned out twice. Then it makes the deliveries that are due: a POST of the event as JSON
with ``Hub-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the subscription's secret>``.
A 2xx settles it; anything else is tried again after 30 s, 2 min, 10 min, 30 min, then hourly, for at least
``RETRY_FOR_S`` (a day), each attempt in the subscription's delivery log. Callback URLs pass the connectors'
outbound allowlist (``HUB_CONNECTOR_ALLOWLIST``) when the subscription is made and before every delivery.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests

from connectors.api import ConfigError
from connectors.netguard import allowed_addresses, parse_networks, system_resolver
from hub.context import Context, rfc3339
from hub.errors import Forbidden, Invalid, NotFound
from hub.store import case_keys, keys, outbox
from hub.store.client import Tx

if TYPE_CHECKING:
    from hub.state import HubState

CHANNELS = ("applications", "licences")
BACKOFF_S = (30, 120, 600, 1800, 3600)  # then hourly
RETRY_FOR_S = 86_400 + 3600
TIMEOUT_S = 10
FAN_OUT_BATCH = 500
LOG_KEEP = 1000


def subscribe(state: HubState, ctx: Context, owner: str, body: dict[str, Any]) -> dict[str, Any]:
    """Register a subscription for ``owner`` (an agency or a portal's agency); its record, without the secret."""
    check_callback(state, body["callback_url"])
    record = {
        "id": f"sub-{uuid.uuid4().hex[:20]}",
        "owner": owner,
        "callback_url": body["callback_url"],
        "channels": sorted(set(body["channels"])),
        "filters": _stored_filters(state, body.get("filters") or {}),
        "secret": state.keyring.encrypt(body["secret"]),
        "created_at": rfc3339(state.clock.now()),
        "created_by": ctx.actor,
    }

    def work(tx: Tx) -> None:
        tx.set_json(keys.subscription(record["id"]), record)
        tx.index_add(keys.subscription_index(), record["id"])

    state.store.atomic(work)
    return _shown(record)


def _stored_filters(state: HubState, filters: dict[str, Any]) -> dict[str, Any]:
    """The filters as kept: an applicant by their subject hash (the identifier is not kept)."""
    kept = {k: v for k, v in filters.items() if v and k != "applicant"}
    if filters.get("applicant"):
        person = filters["applicant"]
        kept["subject"] = state.keyring.subject_hash(person["id_type"], person["id"])
    return kept


def _shown(record: dict[str, Any]) -> dict[str, Any]:
    shown = {k: v for k, v in record.items() if k != "secret"}
    return shown | {"filters": {k: v for k, v in shown["filters"].items() if k != "subject"}}


def owned(state: HubState, owner: str) -> list[dict[str, Any]]:
    """The owner's subscriptions."""
    return [_shown(record) for record in _every(state) if record["owner"] == owner]


def _every(state: HubState) -> list[dict[str, Any]]:
    ids = state.store.index_page(keys.subscription_index(), None, 10_000)
    return [record for record in state.store.get_many_json([keys.subscription(i) for i in ids]) if record]


def _own(state: HubState, owner: str, subscription_id: str) -> dict[str, Any]:
    record = state.store.get_json(keys.subscription(subscription_id))
    if record is None:
        raise NotFound(f"No subscription {subscription_id!r}.")
    if record["owner"] != owner:
        raise Forbidden(f"Subscription {subscription_id} is another's.")
    return record


def unsubscribe(state: HubState, owner: str, subscription_id: str) -> None:
    _own(state, owner, subscription_id)

    def work(tx: Tx) -> None:
        tx.delete(keys.subscription(subscription_id))
        tx.index_remove(keys.subscription_index(), subscription_id)

    state.store.atomic(work)


def delivery_log(state: HubState, owner: str, subscription_id: str, limit: int) -> list[dict[str, Any]]:
    """The owner's view of what was sent to it, newest first."""
    _own(state, owner, subscription_id)
    rows = state.store.stream_page_newest_first(keys.delivery_log(subscription_id), None, limit)
    return [{**fields, "status": int(fields["status"]) if fields["status"].isdigit() else None} for _, fields in rows]


def check_callback(state: HubState, url: str) -> None:
    """Invalid unless ``url`` is http(s) to a host inside the outbound allowlist."""
    parts = urlsplit(url)
    networks = parse_networks(p.strip() for p in state.settings.connector_allowlist.split(",") if p.strip())
    try:
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError("not an http(s) URL")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        allowed_addresses(parts.hostname, port, networks, system_resolver)
    except (ConfigError, ValueError) as error:
        raise Invalid(f"The callback URL is refused: {error}", errors={"callback_url": [str(error)]}) from None


# -- the job
def run(state: HubState) -> dict[str, int]:
    """Fan new events out into deliveries, then make the deliveries that are due."""
    return {"fanned_out": fan_out(state), **deliver_due(state)}


def _partitions(state: HubState) -> list[str]:
    agencies = state.store.index_page(keys.agency_index(), None, 100_000)
    types = state.store.index_page(keys.licence_type_index(), None, 100_000)
    return [*(case_keys.application_partition(a) for a in agencies), *(keys.licence_partition(t) for t in types)]


def fan_out(state: HubState) -> int:
    """One delivery per new event and subscriber who may hear of it; how many were made."""
    subscriptions = _every(state)
    return sum(_fan_out_partition(state, partition, subscriptions) for partition in _partitions(state))


def _fan_out_partition(state: HubState, partition: str, subscriptions: list[dict[str, Any]]) -> int:
    read_to = state.store.get_json(keys.outbox_read_to(partition))
    events = outbox.read(state.store, partition, read_to, FAN_OUT_BATCH)
    if not events:
        return 0
    now_ms = state.clock.now().timestamp() * 1000
    wanted = [(event, s) for _, event, audience in events for s in subscriptions if _hears(s, event, audience)]

    def work(tx: Tx) -> int:
        if tx.get_json(keys.outbox_read_to(partition)) != read_to:
            return 0  # another runner fanned these out meanwhile
        for event, subscription in wanted:
            delivery_id = f"{event['id']}.{subscription['id']}"
            first = {"event": event, "subscription": subscription["id"], "attempts": 0, "first_at": now_ms}
            tx.set_json(keys.delivery(delivery_id), first)
            tx.scored_add(keys.deliveries_due(), delivery_id, now_ms)
        tx.set_json(keys.outbox_read_to(partition), events[-1][0])
        return len(wanted)

    return state.store.atomic(work)


def _hears(subscription: dict[str, Any], event: dict[str, Any], audience: dict[str, Any]) -> bool:
    """Whether the subscriber may read what the event is about, and asked for it."""
    if event["channel"] not in subscription["channels"]:
        return False
    filters = subscription["filters"]
    if filters.get("service_item") and event.get("service_item") != filters["service_item"]:
        return False
    if filters.get("agency") and event.get("agency") != filters["agency"]:
        return False
    if filters.get("subject") and filters["subject"] not in audience.get("subjects", []):
        return False
    owner = subscription["owner"]
    return owner in audience.get("agencies", []) or owner == audience.get("portal")


def deliver_due(state: HubState, limit: int = 200) -> dict[str, int]:
    now_ms = state.clock.now().timestamp() * 1000
    counts = {"delivered": 0, "retrying": 0, "given_up": 0}
    for delivery_id, _ in state.store.scored_up_to(keys.deliveries_due(), now_ms, 0, limit):
        counts[_attempt(state, delivery_id, now_ms)] += 1
    return counts


def _attempt(state: HubState, delivery_id: str, now_ms: float) -> str:
    delivery = state.store.get_json(keys.delivery(delivery_id))
    subscription = state.store.get_json(keys.subscription(delivery["subscription"])) if delivery else None
    if delivery is None or subscription is None:  # unsubscribed since: nothing to deliver
        state.store.atomic(lambda tx: tx.scored_remove(keys.deliveries_due(), delivery_id))
        return "given_up"
    status, problem = _post(state, subscription, delivery["event"])
    attempts = delivery["attempts"] + 1
    line = {"at": rfc3339(state.clock.now()), "event": delivery["event"]["id"], "type": delivery["event"]["type"],
            "attempt": str(attempts), "status": str(status or ""), "problem": problem or ""}  # fmt: skip
    if status is not None and 200 <= status < 300:
        outcome, next_ms = "delivered", None
    elif now_ms - delivery["first_at"] >= RETRY_FOR_S * 1000:
        outcome, next_ms = "given_up", None
    else:
        outcome = "retrying"
        next_ms = now_ms + BACKOFF_S[min(attempts - 1, len(BACKOFF_S) - 1)] * 1000

    def work(tx: Tx) -> None:
        tx.stream_add(keys.delivery_log(subscription["id"]), line | {"outcome": outcome})
        if next_ms is None:
            tx.scored_remove(keys.deliveries_due(), delivery_id)
            tx.delete(keys.delivery(delivery_id))
        else:
            tx.set_json(keys.delivery(delivery_id), delivery | {"attempts": attempts})
            tx.scored_add(keys.deliveries_due(), delivery_id, next_ms)

    state.store.atomic(work)
    return outcome


def _post(state: HubState, subscription: dict[str, Any], event: dict[str, Any]) -> tuple[int | None, str | None]:
    """POST the signed event; the status, or None and why it did not reach the subscriber."""
    body = json.dumps(event, ensure_ascii=False, sort_keys=True).encode()
    stamp = str(int(time.time()))
    try:
        secret = state.keyring.decrypt(subscription["secret"]).encode()
    except ValueError:  # sealed under another HUB_SECRET_KEY: nothing can be signed for it
        return None, "the subscription's secret does not open with this hub's key"
    signature = hmac.new(secret, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "Hub-Signature": f"t={stamp},v1={signature}",
               "Hub-Event-Id": event["id"], "Hub-Delivery": secrets.token_hex(8)}  # fmt: skip
    try:
        check_callback(state, subscription["callback_url"])
        answer = requests.post(
            subscription["callback_url"], data=body, headers=headers, timeout=TIMEOUT_S, allow_redirects=False
        )
    except Invalid as refused:
        return None, refused.detail
    except requests.RequestException as error:
        return None, type(error).__name__
    return answer.status_code, None
