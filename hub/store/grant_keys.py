"""Keys of holders' grants (:mod:`hub.licences.grants`) and credential pick-ups: each holder's grants in one
partition, so a grant and the holder's index of grants change together; a one-time code's digest leads to
its grant or pick-up (the code itself is never kept)."""

from __future__ import annotations

from hub.store.keys import key


def grant_partition(subject_hash: str) -> str:
    return "grants:" + subject_hash


def grant(subject_hash: str, grant_id: str) -> str:
    """A grant's record."""
    return key(grant_partition(subject_hash), "grant", grant_id)


def grants_of(subject_hash: str) -> str:
    """Sorted set of a holder's grant ids, scored by when each was made (epoch seconds)."""
    return key(grant_partition(subject_hash), "grant-index")


def grant_code(code_digest: str) -> str:
    """Which holder's grant a one-time code opens (by the code's SHA-256; the code itself is never kept)."""
    return key("grant-code:" + code_digest[:4], "grant", code_digest)


def credential_pickup(code_digest: str) -> str:
    """A one-time, short-lived pick-up of a holder's credential by the wallet that scanned its QR code."""
    return key("pickup:" + code_digest[:4], "pickup", code_digest)
