"""Every Redis key the hub uses, built in one place.

Each key carries a hash tag (the part in braces) naming the partition it lives in. All keys of one
partition hash to the same Redis Cluster slot, so a change that touches several of them, together
with its audit entry, is one MULTI/EXEC on a single server and on a cluster alike.

The registry (agencies, tokens, evidence and licence types, connectors, service items) is one
partition, ``{reg}``: it is small, written rarely by operators, and whole-catalogue imports must
be atomic, which on a cluster is only possible within one slot.
"""

from __future__ import annotations

import hashlib

PREFIX = "hub"
REGISTRY = "reg"


def key(partition: str, *parts: str) -> str:
    """The key for ``parts`` inside ``partition``: ``hub:{partition}:part:part``."""
    return ":".join((PREFIX, "{" + partition + "}", *parts))


# -- registry aggregates and their indexes (sorted sets of codes, scored 0, read by lex range)
def agency(code: str) -> str:
    return key(REGISTRY, "agency", code)


def agency_index() -> str:
    return key(REGISTRY, "index", "agencies")


def token(token_hash: str) -> str:
    return key(REGISTRY, "token", token_hash)


def tokens_of(agency: str | None) -> str:
    """Hash of token id -> token hash for one agency, or (None) for the operator."""
    return key(REGISTRY, "operator-tokens") if agency is None else key(REGISTRY, "tokens-of", agency)


def evidence_type(code: str) -> str:
    return key(REGISTRY, "evidence-type", code)


def evidence_type_index() -> str:
    return key(REGISTRY, "index", "evidence-types")


def licence_type(code: str) -> str:
    return key(REGISTRY, "licence-type", code)


def licence_type_index() -> str:
    return key(REGISTRY, "index", "licence-types")


def connector(connector_id: str) -> str:
    return key(REGISTRY, "connector", connector_id)


def connector_index() -> str:
    return key(REGISTRY, "index", "connectors")


def connectors_changed() -> str:
    """A fresh random marker written with every change to a connector record (workers cache the list by it)."""
    return key(REGISTRY, "connectors-changed")


def service_item_versions(code: str) -> str:
    """List of every version of one service item; element N-1 is version N."""
    return key(REGISTRY, "service-item", code)


def service_item_answer(code: str) -> str:
    """Hash: the newest version's number and its public JSON answer, kept ready by the write that made it."""
    return key(REGISTRY, "service-item-answer", code)


def service_item_index() -> str:
    return key(REGISTRY, "index", "service-items")


def service_item_implementations(catalogue_code: str) -> str:
    """Lexicographic index of the implementation items that implement one catalogue entry."""
    return key(REGISTRY, "index", "implementations-of", catalogue_code)


def service_item_region_index(region: str) -> str:
    return key(REGISTRY, "index", "service-items-in", region)


# -- audit: one hash-chained stream per partition, plus its head (last sequence number and hash)
def audit_stream(partition: str) -> str:
    return key(partition, "audit")


def audit_head(partition: str) -> str:
    return key(partition, "audit-head")


def blob_store_marker() -> str:
    """The name of the marker blob the first hub put in its blob store (see ``Documents.claim_blob_store``)."""
    return key(REGISTRY, "blob-store-marker")


def secret_fingerprint() -> str:
    """A fingerprint of the secret the first hub used this store with (see ``Keyring.claim_store``)."""
    return key(REGISTRY, "secret-fingerprint")


def policy(name: str) -> str:
    """An operator's Cedar policy text."""
    return key(REGISTRY, "policy", name)


def policy_index() -> str:
    return key(REGISTRY, "index", "policies")


def policy_version() -> str:
    """Counter bumped by every change to the operator's policies, so workers reload them."""
    return key(REGISTRY, "policy-version")


# -- uploaded datasets of ``csv`` connectors: one partition per connector, with its own audit chain
def dataset_partition(connector_id: str) -> str:
    return "ds:" + connector_id


def dataset_rows(connector_id: str, evidence_type: str) -> str:
    """Hash of subject hash -> row (JSON) for one evidence type of one dataset."""
    return key(dataset_partition(connector_id), "rows", evidence_type)


def dataset_meta(connector_id: str) -> str:
    return key(dataset_partition(connector_id), "meta")


# -- connector health: recent calls and the last circuit state seen, one partition per connector
def connector_calls(connector_id: str) -> str:
    """Stream of recent calls (time, latency, outcome), trimmed to about the last hour's worth."""
    return key("conn:" + connector_id, "calls")


def connector_circuit(connector_id: str) -> str:
    """The circuit state the last call saw, and when (each worker keeps its own breaker)."""
    return key("conn:" + connector_id, "circuit")


def connector_probe(connector_id: str) -> str:
    """The last scheduled health probe of a connector (ok, latency, detail, when, failing since)."""
    return key("conn:" + connector_id, "probe")


# -- events about people (resolutions, their access logs): spread over a fixed set of partitions by
# subject, each with its own audit chain, so one resolution commits with its audit entry and the
# person's access-log line in one slot.
EVENT_PARTITIONS = 16


def event_partitions() -> list[str]:
    """Every event partition."""
    return [f"ev{n:02d}" for n in range(EVENT_PARTITIONS)]


def event_partition(subject_hash: str) -> str:
    """The partition of everything recorded about one subject."""
    return f"ev{int(subject_hash[:8], 16) % EVENT_PARTITIONS:02d}"


def resolution(partition: str, resolution_id: str) -> str:
    return key(partition, "resolution", resolution_id)


def evidence_cache(partition: str, evidence_type: str, subject_hash: str) -> str:
    """A source's answer kept for the TTL its evidence type allows."""
    return key(partition, "cache", evidence_type, subject_hash)


def cases_of(partition: str, subject_hash: str) -> str:
    """Sorted set of the cases a person is a party to (applicant or representative), scored by filing time (epoch
    ms): what their own pages and their portals list, whatever channel filed them."""
    return key(partition, "cases-of", subject_hash)


def access_log(partition: str, subject_hash: str) -> str:
    """Stream of who read what about one subject."""
    return key(partition, "access", subject_hash)


# -- idempotency records, per caller and key
def idempotency(actor: str, idempotency_key: str) -> str:
    return key("idem:" + actor, idempotency_key)


def idempotent_outcome(partition: str, actor: str, idempotency_key: str) -> str:
    """What a request under this key created in ``partition`` (noted in the creating transaction)."""
    digest = hashlib.sha256(f"{actor}\n{idempotency_key}".encode()).hexdigest()
    return key(partition, "idem-outcome", digest)


# -- the PKI: one partition for the hub's authorities, every certificate it issued, and revocations
PKI = "pki"


def pki_authority(side: str = "") -> str:
    """The root, issuing CA, TSA and OCSP responder: certificates and key references (``sm2``: the SM2 CAs)."""
    return key(PKI, f"authority-{side}" if side else "authority")


def pki_certificate(serial_hex: str) -> str:
    """What the hub issued under one serial (profile, subject, agency), for OCSP and the CRL."""
    return key(PKI, "cert", serial_hex)


def pki_seal(agency: str, side: str = "") -> str:
    """An agency's current seal: certificate, key reference, validity (``sm2``: its SM2 seal for OFD)."""
    return key(PKI, f"seal-{side}" if side else "seal", agency)


def pki_seal_history(agency: str) -> str:
    """List of every seal the agency had, oldest first."""
    return key(PKI, "seals-of", agency)


def pki_anchors() -> str:
    """Hash of SHA-256 -> PEM: roots of outside CAs whose seals the operator imported."""
    return key(PKI, "anchors")


def pki_revoked() -> str:
    """Hash of serial (hex) -> revocation (time, reason, issuer)."""
    return key(PKI, "revoked")


def pki_revocation_version() -> str:
    """Counter bumped by each revocation, so workers and caches notice."""
    return key(PKI, "revocation-version")


# -- licences: one partition per licence type (its numbers, records, indexes and audit chain)
def licence_partition(type_code: str) -> str:
    return "lic:" + type_code


def licence(type_code: str, number_key: str) -> str:
    """A licence record, by the letters and digits of its number."""
    return key(licence_partition(type_code), "licence", number_key)


def licence_history(type_code: str, number_key: str) -> str:
    """List of a licence's status changes."""
    return key(licence_partition(type_code), "history", number_key)


def licence_versions(type_code: str, number_key: str) -> str:
    """List of a licence's earlier versions (each superseded or void), oldest first."""
    return key(licence_partition(type_code), "versions", number_key)


def licence_sequence(type_code: str, region: str, year: int) -> str:
    return key(licence_partition(type_code), "sequence", region, str(year))


def licence_index(type_code: str) -> str:
    """Every number of a type (lexicographic index)."""
    return key(licence_partition(type_code), "index")


def licence_holder_index(type_code: str, subject_hash: str) -> str:
    """The numbers a holder has of one type."""
    return key(licence_partition(type_code), "holder", subject_hash)


def unreferenced_blobs() -> str:
    """Sorted set of the digests of documents nothing named at a collection, scored by when that was first seen
    (epoch seconds)."""
    return key("blob-gc", "unreferenced")


def blob_name(blob_key: str) -> str:
    """The digest a (pre-blob-store) document key names."""
    return blob_key.split("{blob:", 1)[1].split("}", 1)[0]


def blob(sha256: str) -> str:
    """A document by content (its own slot; written before the record that names it)."""
    return key("blob:" + sha256, "bytes")


def verification_cache(sha256: str) -> str:
    """The signature reports of one uploaded document (by content)."""
    return key("vc:" + sha256, "report")


# -- the working-day calendar
def calendar_year(year: int) -> str:
    """A year of holidays and make-up working days the operator loaded (overrides the package's)."""
    return key(REGISTRY, "calendar", str(year))


def calendar_year_index() -> str:
    """The years the operator loaded (lexicographic index; years have four digits)."""
    return key(REGISTRY, "index", "calendar-years")


def calendar_version() -> str:
    """Changes with every loaded year, so workers rebuild their calendar."""
    return key(REGISTRY, "calendar-version")


# -- audit checkpoints: the heads of every chain, sealed and timestamped, in a partition of their own
CHECKPOINTS = "ckpt"


def checkpoint_list() -> str:
    """List of sealed checkpoints, oldest first (each names the one before it)."""
    return key(CHECKPOINTS, "list")


# -- scheduled jobs: one lease per job and period, so several hub instances run each job once
def job_lease(job: str, period: str) -> str:
    return key("jobs", "lease", job, period)


# -- notifications (issue 19): subscriptions, where each outbox was read up to, deliveries and their log
NOTIFY = "notify"


def subscription(subscription_id: str) -> str:
    return key(NOTIFY, "subscription", subscription_id)


def subscription_index() -> str:
    """Every subscription's id (lexicographic index)."""
    return key(NOTIFY, "index", "subscriptions")


def outbox_read_to(partition: str) -> str:
    """The id of the last event of ``partition``'s outbox that was fanned out to the subscriptions."""
    return key(NOTIFY, "read-to", partition)


def delivery(delivery_id: str) -> str:
    return key(NOTIFY, "delivery", delivery_id)


def deliveries_due() -> str:
    """Sorted set of the deliveries still to make, scored by when to try next (epoch ms)."""
    return key(NOTIFY, "due")


def delivery_log(subscription_id: str) -> str:
    """Stream of every delivery attempt to one subscription: what its owner reads."""
    return key(NOTIFY, "log", subscription_id)


# -- server-side sessions of the console and the applicant pages
def web_session(session_id: str) -> str:
    return key("sess:" + session_id, "session")


def sessions_of(subject_hash: str) -> str:
    """Sorted set of one person's applicant sessions, scored by when each expires (epoch seconds)."""
    return key("sess-of:" + subject_hash, "sessions")


# -- what is sealed at rest (hub.store.sealing): the families that can hold a person's data
PERSONAL_FAMILIES = frozenset(
    {
        "application",  # case records: the applicant, the form, the evidence, the signed envelope
        "application-audit",
        "archive",
        "bytes",  # every blob: uploads, licence PDFs
        "cache",  # cached evidence
        "discrepancy",  # form and platform values
        "history",
        "licence",  # the holder's name and the licence's fields
        "rows",  # dataset rows
        "session",  # who is signed in
        "versions",  # a licence's earlier fields
        "grant",  # which licence a holder lets whom use
        "pickup",  # a holder's credential, waiting for their wallet
    }
)
PERSONAL_PARTITIONS = ("idem:",)  # idempotent replays keep whole answers


def holds_personal_data(redis_key: str) -> bool:
    """Whether values at ``redis_key`` are sealed at rest (``hub:{partition}:family:...``)."""
    partition, _, rest = redis_key.partition("}:")
    partition = partition.removeprefix(PREFIX + ":{")
    return partition.startswith(PERSONAL_PARTITIONS) or rest.split(":", 1)[0] in PERSONAL_FAMILIES
