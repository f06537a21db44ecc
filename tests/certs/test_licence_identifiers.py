"""GB/T 36904 licence identifiers: built from their parts, self-checking, and led back to the licence number."""

from __future__ import annotations

import string

from stdnum.iso7064 import mod_37_36

from certs import identifiers, numbering
from hub.identifiers import with_check_characters

ISSUER = with_check_characters("credit-code", "1133010000248209")


def test_an_identifier_reads_back_as_its_parts_and_leads_to_the_licence_number():
    made = identifiers.make("food-business", ISSUER, "330100", 2026, 17, 2)
    assert made.startswith("1.2.156.3005.2.FOODBUSINESS." + ISSUER + ".3301002026000017.002.")
    parsed = identifiers.parse(made)
    assert parsed == identifiers.Identifier("FOODBUSINESS", ISSUER, "330100", 2026, 17, 2)
    number = numbering.make_number("food-business", "330100", 2026, 17)
    assert identifiers.number_key(parsed) == numbering.canonical(number)
    assert identifiers.parse(made.lower()) == parsed  # read as typed, case ignored


def test_every_one_character_slip_fails_the_check():
    made = identifiers.make("food-business", ISSUER, "330100", 2026, 17, 1)
    alphabet = string.digits + string.ascii_uppercase
    slips = 0
    for position, character in enumerate(made):
        if character == ".":
            continue
        for other in alphabet.replace(character, ""):
            slipped = made[:position] + other + made[position + 1 :]
            assert identifiers.parse(slipped) is None, slipped
            slips += 1
    assert slips > 1000
    # two neighbours swapped (the other slip a typist makes) fail too
    swapped = made[:-4] + made[-3] + made[-4] + made[-2:]
    assert made[-4] == made[-3] or identifiers.parse(swapped) is None


def test_shapes_that_are_not_identifiers_are_refused():
    made = identifiers.make("food-business", ISSUER, "330100", 2026, 17, 1)
    version_zero = made.rsplit(".", 2)[0] + ".000"
    version_zero += "." + mod_37_36.calc_check_digit(numbering.canonical(version_zero))
    assert identifiers.parse(version_zero) is None  # no version 0, though its check character is right
    assert identifiers.parse(made.rsplit(".", 1)[0]) is None  # no check character
    assert identifiers.parse("1.2.156.3005.2.X") is None
    assert identifiers.parse("FOOD-BUSINESS-330100-2026-000017-P") is None
