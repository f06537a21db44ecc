"""Personal and organisation identifiers: each type's rule, and the one canonical form that hashes, logs and
look-ups use (upper case, no separators).

- ``resident-id``: the citizen identity number of GB 11643, 17 digits (region, birth date, sequence) and a
  check character over them by ISO 7064 MOD 11-2 (``X`` for ten; a lower-case ``x`` reads as ``X``).
- ``credit-code``: the unified social credit code of GB 32100: 18 characters over ``0-9`` and the letters
  but I, O, S, V and Z, whose 9th to 17th characters are an organisation code with its own GB 11714 check
  character, and whose last is a check character over the first 17 (MOD 31).
- ``passport``: a People's Republic of China passport number as published by the exit and entry
  administration: ``E`` or ``G`` and eight digits, or ``E``, a letter and seven digits.
- ``hk-macao-permit``: the mainland travel permit for Hong Kong and Macao residents: ``H`` or ``M`` and eight
  digits (ten in the permits issued before 2013).
- ``taiwan-permit``: the mainland travel permit for Taiwan residents: eight digits (ten, with an optional
  letter, in the permits issued before 2015).
"""

from __future__ import annotations

import re
from datetime import date

ID_TYPES = ("resident-id", "credit-code", "passport", "hk-macao-permit", "taiwan-permit")
SEPARATORS = re.compile(r"[\s\-]")  # what people type between groups of characters

_RESIDENT_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_CHECK = "10X98765432"  # the check character for each remainder 0..10
_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORGANISATION_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_PATTERNS = {
    "passport": re.compile(r"^(?:[EG]\d{8}|E[A-HJ-NP-Z]\d{7})$"),
    "hk-macao-permit": re.compile(r"^[HM](?:\d{8}|\d{10})$"),
    "taiwan-permit": re.compile(r"^(?:\d{8}|\d{10}[A-Z]?)$"),
}


class InvalidIdentifier(ValueError):
    """An identifier that does not fit its type; the message says how, in words a person can act on."""


def canonical_form(value: str) -> str:
    """``value`` upper-cased, separators dropped: what an identifier is hashed, logged and looked up as."""
    return SEPARATORS.sub("", value).upper()


def canonical(id_type: str, value: str) -> str:
    """The canonical form of an identifier of ``id_type``; InvalidIdentifier if it does not fit the type."""
    if id_type not in ID_TYPES:
        raise InvalidIdentifier(f"Unknown identifier type {id_type!r}; use one of {', '.join(ID_TYPES)}.")
    text = canonical_form(value)
    if id_type == "resident-id":
        _check_resident_id(text)
    elif id_type == "credit-code":
        _check_credit_code(text)
    elif not _PATTERNS[id_type].match(text):
        raise InvalidIdentifier(f"This is not a {id_type} number.")
    return text


def _check_resident_id(text: str) -> None:
    if len(text) != 18 or not text[:17].isdigit() or text[17] not in "0123456789X":
        raise InvalidIdentifier("A resident ID has 17 digits and a check character (a digit or X).")
    try:
        date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise InvalidIdentifier(f"A resident ID holds a birth date; {text[6:14]} is not one.") from None
    total = sum(int(digit) * weight for digit, weight in zip(text[:17], _RESIDENT_WEIGHTS, strict=True))
    if _RESIDENT_CHECK[total % 11] != text[17]:
        raise InvalidIdentifier("The resident ID's check character does not match: a character is mistyped.")


def _check_credit_code(text: str) -> None:
    if len(text) != 18 or any(character not in _CREDIT_ALPHABET for character in text):
        raise InvalidIdentifier(
            "A unified social credit code has 18 characters: digits and capital letters other than I, O, S, V, Z."
        )
    organisation = text[8:17]
    organisation_total = sum(
        _value(character) * weight for character, weight in zip(organisation[:8], _ORGANISATION_WEIGHTS, strict=True)
    )
    expected = 11 - organisation_total % 11
    if {10: "X", 11: "0"}.get(expected, str(expected)) != organisation[8]:
        raise InvalidIdentifier("The organisation code inside the credit code (characters 9-17) does not check.")
    total = sum(_CREDIT_ALPHABET.index(c) * w for c, w in zip(text[:17], _CREDIT_WEIGHTS, strict=True))
    if _CREDIT_ALPHABET[(31 - total % 31) % 31] != text[17]:
        raise InvalidIdentifier("The credit code's check character does not match: a character is mistyped.")


def _value(character: str) -> int:
    """A character's value in the organisation code's check (GB 11714): digits as such, A=10 ... Z=35."""
    return int(character) if character.isdigit() else ord(character) - ord("A") + 10


def with_check_characters(id_type: str, body: str) -> str:
    """A whole identifier from its body: a resident ID from its first 17 digits, a credit code from its
    first 16 characters (the organisation code's check and the last character are added). For test data,
    benchmarks and the demo, which need identifiers that fit their type."""
    if id_type == "resident-id":
        total = sum(int(digit) * weight for digit, weight in zip(body, _RESIDENT_WEIGHTS, strict=True))
        return body + _RESIDENT_CHECK[total % 11]
    if id_type == "credit-code":
        check = 11 - sum(_value(c) * w for c, w in zip(body[8:16], _ORGANISATION_WEIGHTS, strict=True)) % 11
        first = body + {10: "X", 11: "0"}.get(check, str(check))
        total = sum(_CREDIT_ALPHABET.index(c) * w for c, w in zip(first, _CREDIT_WEIGHTS, strict=True))
        return first + _CREDIT_ALPHABET[(31 - total % 31) % 31]
    raise ValueError(f"no check characters for {id_type!r}")
