"""Licence numbers' check character, ISO/IEC 7064 MOD 37,36, against values worked out by hand and an
implementation of the standard's own recurrence written here (not python-stdnum, which the code uses)."""

from __future__ import annotations

import re
import string

import pytest

from certs import numbering

ALPHABET = string.digits + string.ascii_uppercase  # "0".."9" are 0..9, "A".."Z" are 10..35
M = 36


def check_character(text: str) -> str:
    """ISO/IEC 7064 hybrid system MOD 37,36: P1 = M; for each character a, S = (P + a) mod M (M if that is 0)
    and the next P = 2S mod (M + 1); the check character a' makes (P + a') mod M == 1."""
    p = M
    for character in text:
        s = (p + ALPHABET.index(character)) % M or M
        p = (2 * s) % (M + 1)
    return ALPHABET[(1 - p) % M]


# Worked by hand with the recurrence above:
#   "0": S = 36 mod 36 -> 36, P = 72 mod 37 = 35; 35 + 2 = 37 = 1 (mod 36) -> "2"
#   "1": S = 37 mod 36 = 1, P = 2; 2 + 35 = 37 -> 35 = "Z"
#   "A": S = 46 mod 36 = 10, P = 20; 20 + 17 = 37 -> 17 = "H"
#   "Z": S = 71 mod 36 = 35, P = 70 mod 37 = 33; 33 + 4 = 37 -> "4"
#   "AB": after "A" P = 20; S = 20 + 11 = 31, P = 62 mod 37 = 25; 25 + 12 = 37 -> 12 = "C"
BY_HAND = [("0", "2"), ("1", "Z"), ("A", "H"), ("Z", "4"), ("AB", "C")]
# The example in certs/numbering.py's docstring.
DOCSTRING_EXAMPLE = "FOOD-BIZ-330100-2026-000017-P"


@pytest.mark.parametrize(("text", "check"), BY_HAND)
def test_the_recurrence_written_here_gives_the_values_worked_by_hand(text, check):
    assert check_character(text) == check


@pytest.mark.parametrize(("text", "check"), BY_HAND)
def test_numbering_checks_the_values_worked_by_hand(text, check):
    # A body of one or two characters is too short for a licence number's shape: pad it with separators,
    # which the check ignores.
    assert numbering.is_well_formed(f"{text}----{check}")
    for other in ALPHABET.replace(check, ""):
        assert not numbering.is_well_formed(f"{text}----{other}")


def test_the_docstring_example_is_right():
    (example,) = re.findall(r"``([A-Z][A-Z-]*-\d{6}-\d{4}-\d{6}-[0-9A-Z])``", numbering.__doc__)
    assert example == DOCSTRING_EXAMPLE
    assert check_character("FOODBIZ3301002026000017") == "P"
    assert numbering.make_number("food-biz", "330100", 2026, 17) == DOCSTRING_EXAMPLE
    assert numbering.is_well_formed(DOCSTRING_EXAMPLE)
    assert numbering.is_well_formed(DOCSTRING_EXAMPLE.lower())  # case is not part of the number
    for other in ALPHABET.replace("P", ""):
        assert not numbering.is_well_formed(DOCSTRING_EXAMPLE[:-1] + other)


@pytest.mark.parametrize("type_code", ["FOOD-BUSINESS", "biz-licence", "TAXI"])
@pytest.mark.parametrize("region", ["330100", "440106"])
def test_made_numbers_end_in_the_check_of_their_letters_and_digits(type_code, region):
    for year, sequence in ((2026, 1), (2026, 17), (2030, 999_999)):
        number = numbering.make_number(type_code, region, year, sequence)
        body, _, check = number.rpartition("-")
        assert body == f"{type_code.upper()}-{region}-{year}-{sequence:06d}"
        assert check == check_character(body.replace("-", ""))


def test_a_changed_or_swapped_character_is_caught():
    number = numbering.make_number("FOOD-BUSINESS", "330100", 2026, 123)
    assert numbering.is_well_formed(number)
    assert not numbering.is_well_formed(number.replace("330100", "330110"))
    assert not numbering.is_well_formed(number.replace("000123", "000132"))
