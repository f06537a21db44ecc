"""Licence identifiers in the structure GB/T 36904 sets out, beside the hub's own licence numbers.

``1.2.156.3005.2.FOODBUSINESS.91330100MA27XYW12A.3301002026000017.002.N`` reads, dot by dot:

- ``1.2.156.3005.2``: the object-identifier arc under which China's e-licence identifiers sit;
- the licence type's code (its letters and digits, upper-cased);
- the issuing agency's unified social credit code (GB 32100, 18 characters, its own check character);
- the serial: the issuing region (GB/T 2260, six digits), the year and the six-digit sequence, which
  are also the licence number's;
- the version, three digits: ``001`` as issued, one more for each amendment, renewal or re-issue;
- one check character, ISO/IEC 7064 MOD 37,36 over every letter and digit before it (dots ignored).

The serial carries what the licence number carries, so an identifier leads to its licence with no
index: :func:`number_key` rebuilds the number's letters and digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum.cn import uscc
from stdnum.exceptions import ValidationError
from stdnum.iso7064 import mod_37_36

from certs import numbering

ARC = "1.2.156.3005.2"
VERSION_DIGITS = 3
SERIAL_SHAPE = re.compile(r"^(?P<region>[0-9]{6})(?P<year>[0-9]{4})(?P<sequence>[0-9]{6})$")
SEGMENT_SHAPE = re.compile(r"^[0-9A-Z]{1,64}$")


@dataclass(frozen=True)
class Identifier:
    """The parts of a well-formed identifier."""

    type_code: str
    issuer_credit_code: str
    region: str
    year: int
    sequence: int
    version: int


def is_credit_code(code: str) -> bool:
    """True when ``code`` is a unified social credit code whose check character is right."""
    try:
        uscc.validate(code)
    except ValidationError:
        return False
    return True


def make(type_code: str, issuer_credit_code: str, region: str, year: int, sequence: int, version: int) -> str:
    """The identifier of one version of a licence, ending in its check character."""
    serial = f"{region}{year:04d}{sequence:0{numbering.SEQUENCE_DIGITS}d}"
    body = ".".join(
        [ARC, numbering.canonical(type_code), issuer_credit_code.upper(), serial, f"{version:0{VERSION_DIGITS}d}"]
    )
    return f"{body}.{mod_37_36.calc_check_digit(numbering.canonical(body))}"


def looks_like(text: str) -> bool:
    """True when ``text`` starts as an identifier does (so it is not a licence number)."""
    return text.startswith(ARC + ".")


def parse(text: str) -> Identifier | None:
    """The parts of ``text`` if it is a well-formed identifier whose check characters are right, else None."""
    if not looks_like(text) or len(text) > 200:
        return None
    parts = text.upper()[len(ARC) + 1 :].split(".")
    if len(parts) != 5 or not all(SEGMENT_SHAPE.match(part) for part in parts):
        return None
    type_code, credit_code, serial, version, _check = parts
    serial_parts = SERIAL_SHAPE.match(serial)
    if serial_parts is None or len(version) != VERSION_DIGITS or not version.isdigit() or int(version) < 1:
        return None
    if not is_credit_code(credit_code):
        return None
    try:
        mod_37_36.validate(numbering.canonical(text))
    except ValidationError:
        return None
    return Identifier(
        type_code=type_code,
        issuer_credit_code=credit_code,
        region=serial_parts["region"],
        year=int(serial_parts["year"]),
        sequence=int(serial_parts["sequence"]),
        version=int(version),
    )


def number_key(identifier: Identifier) -> str:
    """The letters and digits of the licence number the identifier names (the key licences are stored by)."""
    number = numbering.make_number(identifier.type_code, identifier.region, identifier.year, identifier.sequence)
    return numbering.canonical(number)
