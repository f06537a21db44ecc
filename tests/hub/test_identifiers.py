"""Identifier rules (GB 11643, GB 32100 with GB 11714 inside, passports and travel permits) against values
computed by hand or by python-stdnum, an implementation independent of the hub's."""

from __future__ import annotations

import pytest
from stdnum.cn import uscc

from hub.identifiers import InvalidIdentifier, canonical

# GB 11643-1999's own example. By hand: the weighted sum of 11010519491231002 is
# 1*7+1*9+0*10+1*5+0*8+5*4+1*2+9*1+4*6+9*3+1*7+2*9+3*10+1*5+0*8+0*4+2*2 = 167; 167 mod 11 = 2, whose
# check character is X.
STANDARD_RESIDENT_ID = "11010519491231002X"
# The organisation code 71526726: 7*3+1*7+5*9+2*10+6*5+7*8+2*4+6*2 = 199; 199 mod 11 = 1; 11-1 = 10 -> X.
# The final character (G) is python-stdnum's MOD 31 check over the first 17.
CREDIT_CODE = "9144030071526726XG"


@pytest.mark.parametrize(
    ("id_type", "typed", "canonical_form"),
    [
        ("resident-id", STANDARD_RESIDENT_ID, STANDARD_RESIDENT_ID),
        ("resident-id", "11010519491231002x", STANDARD_RESIDENT_ID),  # a lower-case x reads as X
        ("resident-id", "110105 19491231 002X", STANDARD_RESIDENT_ID),  # separators are dropped
        ("credit-code", CREDIT_CODE, CREDIT_CODE),
        ("credit-code", "9144030071526726xg", CREDIT_CODE),
        ("passport", "E12345678", "E12345678"),
        ("passport", "g12345678", "G12345678"),
        ("passport", "EA1234567", "EA1234567"),
        ("hk-macao-permit", "H12345678", "H12345678"),
        ("hk-macao-permit", "M1234567890", "M1234567890"),
        ("taiwan-permit", "12345678", "12345678"),
        ("taiwan-permit", "1234567890B", "1234567890B"),
    ],
)
def test_fitting_identifiers_are_made_canonical(id_type, typed, canonical_form):
    assert canonical(id_type, typed) == canonical_form


@pytest.mark.parametrize(
    ("id_type", "typed", "said"),
    [
        ("resident-id", "110105194912310021", "check character"),  # one character slipped
        ("resident-id", "11010519491331002X", "birth date"),  # month 13
        ("resident-id", "1101051949123100X", "17 digits"),
        ("resident-id", "91440300715267260G", "17 digits"),  # a credit code sent as a resident ID
        ("credit-code", STANDARD_RESIDENT_ID, "check"),  # a resident ID sent as a credit code
        ("credit-code", "9144030071526726XH", "check character"),
        ("credit-code", "91440300MA2INTAKE1", "I, O, S, V, Z"),
        ("passport", "E1234567", "passport"),
        ("passport", "EI1234567", "passport"),  # I is not used
        ("hk-macao-permit", "X12345678", "hk-macao-permit"),
        ("taiwan-permit", "1234567", "taiwan-permit"),
        ("social-security", "1", "Unknown identifier type"),
    ],
)
def test_identifiers_that_do_not_fit_their_type_are_refused(id_type, typed, said):
    with pytest.raises(InvalidIdentifier, match=said):
        canonical(id_type, typed)


def test_the_organisation_code_inside_a_credit_code_is_checked():
    # Characters 9-17 with a wrong organisation check (1 instead of X), and a final character that python-stdnum,
    # which checks only the last one, computes afresh: stdnum accepts it, GB 32100 does not.
    first = "91440300715267261"
    forged = first + uscc.calc_check_digit(first)
    assert uscc.is_valid(forged)
    with pytest.raises(InvalidIdentifier, match="organisation code"):
        canonical("credit-code", forged)


def test_the_hub_agrees_with_stdnum_on_every_final_check_character():
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    first = "91440300715267" + "26X"  # a sound organisation code, so only the last character decides
    for character in alphabet:
        code = first + character
        fits = character == uscc.calc_check_digit(first)
        if fits:
            assert canonical("credit-code", code) == code
        else:
            with pytest.raises(InvalidIdentifier):
                canonical("credit-code", code)
