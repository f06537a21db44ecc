"""Licence numbers: type code, issuing region, year and sequence, ending in an ISO/IEC 7064 check.

``FOOD-BIZ-330100-2026-000017-P``: the check character is MOD 37,36 (the hybrid system over
``0-9A-Z`` that GB/T 36904 uses) over the number's letters and digits, upper-cased, separators
ignored, so a mistyped number is caught before anything is looked up.
"""

from __future__ import annotations

import re

from stdnum.exceptions import ValidationError
from stdnum.iso7064 import mod_37_36

SEQUENCE_DIGITS = 6
SEPARATORS = re.compile(r"[^0-9A-Z]")
NUMBER_SHAPE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{4,150}$")


def canonical(number: str) -> str:
    """The letters and digits of a number, upper-cased: the form the check covers and lookups use."""
    return SEPARATORS.sub("", number.upper())


def make_number(type_code: str, region: str, year: int, sequence: int) -> str:
    """A new licence number with its check character."""
    body = f"{type_code.upper()}-{region}-{year:04d}-{sequence:0{SEQUENCE_DIGITS}d}"
    return f"{body}-{mod_37_36.calc_check_digit(canonical(body))}"


def is_well_formed(number: str) -> bool:
    """True when ``number`` has a licence number's shape and its check character is right."""
    if not NUMBER_SHAPE.match(number):
        return False
    try:
        mod_37_36.validate(canonical(number))
    except ValidationError:
        return False
    return True
