"""Licence status lists (IETF Token Status List): two bits per credential, served signed and compressed.

Every version of a licence gets an index, drawn at random from its type's current list (herd privacy: a
verifier fetching a list learns nothing of which of its million entries it checks). The bits live in the
licence type's partition and change in the same transaction as the licence record, so a list fetched
after a status change always shows it. A list holds :data:`LIST_SIZE` entries and takes new indexes
until it is three quarters full; then the type opens the next list.

Redis keeps the bits most significant first (``BITFIELD``); the token format keeps index 0 in the least
significant bits of byte 0, so each byte's four two-bit entries are reversed when a list is served.
"""

from __future__ import annotations

import base64
import secrets
import threading
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from certs import jws
from hub.errors import NotFound, StoreUnavailable
from hub.store import status_keys
from hub.store.client import Tx

if TYPE_CHECKING:
    from hub.state import HubState

BITS = 2
LIST_SIZE = 1 << 17  # 131,072 entries: 32 KB of bits and 16 KB of taken marks at most, per list in Redis
FILL_LIMIT = LIST_SIZE * 3 // 4
CLAIM_TRIES = 64  # at three quarters full, 64 misses in a row happen once in 10^8 claims
LIST_LIFETIME_SECONDS = 86_400  # a list's exp: an offline verifier must fetch again within a day
VALID, INVALID, SUSPENDED = 0x00, 0x01, 0x02
STATUS_VALUE = {"valid": VALID, "suspended": SUSPENDED, "revoked": INVALID, "superseded": INVALID, "void": INVALID}
MEDIA_TYPE = "application/statuslist+jwt"


def _entry_order_table() -> bytes:
    """For each byte, the same four two-bit entries in the opposite order (most to least significant first)."""
    table = bytearray(256)
    for value in range(256):
        entries = [(value >> shift) & 0b11 for shift in (6, 4, 2, 0)]
        table[value] = sum(entry << (2 * position) for position, entry in enumerate(entries))
    return bytes(table)


LSB_FIRST = _entry_order_table()


def claim(tx: Tx, type_code: str) -> dict[str, int]:
    """Hand out a free index of ``type_code``'s current list, within the transaction that records its
    licence version; its status starts as valid."""
    fill = tx.get_json(status_keys.status_fill(type_code)) or {"list": 1, "count": 0}
    if fill["count"] >= FILL_LIMIT:
        fill = {"list": fill["list"] + 1, "count": 0}
    taken = status_keys.status_taken(type_code, fill["list"])
    for _ in range(CLAIM_TRIES):
        index = secrets.randbelow(LIST_SIZE)
        if not tx.bit_get(taken, index):
            break
    else:
        raise StoreUnavailable(f"no free status index found in list {fill['list']} of {type_code!r}")
    tx.bit_set(taken, index, 1)
    tx.set_json(status_keys.status_fill(type_code), {"list": fill["list"], "count": fill["count"] + 1})
    reference = {"list": fill["list"], "idx": index}
    mark(tx, type_code, reference, "valid")
    return reference


def mark(tx: Tx, type_code: str, reference: dict[str, int] | None, status: str) -> None:
    """Set the status at ``reference`` (a licence version's ``status_index``) within the caller's transaction."""
    if reference is None:  # a licence issued before status lists
        return
    tx.bits_set(status_keys.status_bits(type_code, reference["list"]), BITS, reference["idx"], STATUS_VALUE[status])
    changes_key = status_keys.status_changes(type_code, reference["list"])
    # The epoch tells a list apart from an earlier one of the same name (a store restored or emptied):
    # a worker's signed copy is reused only for the very same list at the very same change.
    changes = tx.get_json(changes_key) or {"epoch": secrets.token_hex(8), "count": 0}
    tx.set_json(changes_key, {**changes, "count": changes["count"] + 1})


def uri(state: HubState, type_code: str, list_number: int) -> str:
    """Where a list is served: what a credential's ``status.status_list.uri`` names."""
    return f"{state.settings.base_url}/api/v1/status-lists/{type_code}/{list_number}"


def compressed_list(raw: bytes) -> bytes:
    """The list as the token carries it: every entry (absent ones valid), least significant first, ZLIB."""
    whole = raw[: LIST_SIZE * BITS // 8].ljust(LIST_SIZE * BITS // 8, b"\0")
    return zlib.compress(whole.translate(LSB_FIRST), 9)


@dataclass(frozen=True)
class SignedList:
    """One signed copy of a list and the change count it was made at."""

    token: str
    changes: str  # the list's epoch and change count
    issued_at: int


class StatusListService:
    """Signs lists on demand and keeps the newest signed copy of each in the worker while it is current."""

    def __init__(self, state: HubState) -> None:
        self._state = state
        self._signed: dict[tuple[str, int], SignedList] = {}
        self._lock = threading.Lock()

    def token(self, type_code: str, list_number: int) -> SignedList:
        """The list as a signed ``statuslist+jwt``; NotFound for a list that was never opened."""
        store = self._state.store
        counter = store.get_json(status_keys.status_changes(type_code, list_number))
        if counter is None:
            raise NotFound(f"no status list {type_code}/{list_number}")
        changes = f"{counter['epoch']}.{counter['count']}"
        now = int(self._state.clock.now().timestamp())
        refresh_after = self._state.settings.status_list_max_age
        with self._lock:
            kept = self._signed.get((type_code, list_number))
        if kept is not None and kept.changes == changes and now - kept.issued_at < refresh_after:
            return kept
        raw = store.get_raw(status_keys.status_bits(type_code, list_number))
        payload: dict[str, Any] = {
            "sub": uri(self._state, type_code, list_number),
            "iat": now,
            "exp": now + LIST_LIFETIME_SECONDS,
            "ttl": refresh_after,
            "status_list": {"bits": BITS, "lst": _b64url(compressed_list(raw))},
        }
        key, chain = self._state.pki.hub_jws_key()
        signed = SignedList(jws.sign_compact(payload, key, chain, {"typ": "statuslist+jwt"}), changes, now)
        with self._lock:
            self._signed[(type_code, list_number)] = signed
        return signed


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
