"""Keys of what licences show the public: the status lists (:mod:`hub.licences.status_lists`) and each
licence's status answer kept ready (:func:`hub.licences.register.keep_answer`). Both live in the licence
type's partition, so a status change, its bits and its answer commit in one transaction, on a cluster too."""

from __future__ import annotations

from hub.store.keys import key, licence_partition


def status_bits(type_code: str, list_number: int) -> str:
    """Bitmap of two-bit statuses (valid, invalid, suspended), one per index, most significant bit first."""
    return key(licence_partition(type_code), "status-bits", str(list_number))


def status_taken(type_code: str, list_number: int) -> str:
    """Bitmap of the indexes handed out, one bit each."""
    return key(licence_partition(type_code), "status-taken", str(list_number))


def status_changes(type_code: str, list_number: int) -> str:
    """How many times a list's bits changed: what a signed copy of the list is cached under."""
    return key(licence_partition(type_code), "status-changes", str(list_number))


def status_fill(type_code: str) -> str:
    """The list a type's new indexes come from, and how many it has handed out."""
    return key(licence_partition(type_code), "status-fill")


def licence_answer(type_code: str, number_key: str) -> str:
    """Hash of a licence's public status answer, kept ready: its stored status, last day of validity, ETag
    and JSON body (the holder's name masked; nothing else of a person)."""
    return key(licence_partition(type_code), "public-answer", number_key)
