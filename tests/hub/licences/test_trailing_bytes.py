"""The verifier accounts for every byte after the signed revision (issue 23): a freshly issued licence with
objects appended after its last %%EOF and no cross-reference section (a page redefined to say "Licence
suspended"), and variants of it, are never valid; the licence as issued, whose validation data came in a
proper incremental update, stays valid."""

from __future__ import annotations

import io
import re

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from testbed import LICENCE_HOLDER

from certs.revisions import TRAILING_DATA

HOLDER = LICENCE_HOLDER


@pytest.fixture
def issued(client, registry) -> bytes:
    registry.agency("market", region="330100")
    registry.food_licence_type("market")
    token = registry.token("market", "agency")
    body = {"type": "food-business", "holder": HOLDER, "fields": {"premises": "1 号"}}
    number = client.post("/api/v1/licences", json=body, headers=token).get_json()["number"]
    return client.get(f"/api/v1/licences/{number}/pdf", headers=token).data


def verify(client, pdf: bytes) -> dict:
    response = client.post(
        "/api/v1/verifications", data={"file": (io.BytesIO(pdf), "l.pdf")}, content_type="multipart/form-data"
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def suspended_page(pdf: bytes) -> tuple[bytes, int]:
    """Raw objects that redefine page 1 to show "Licence suspended": a new content stream and the page object
    again under its own number; and the first of the numbers they use."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    page_ref = reader.root["/Pages"]["/Kids"][0].container_ref
    fresh = int(reader.trailer["/Size"])
    content = b"BT /F1 48 Tf 72 700 Td (Licence suspended) Tj ET"
    media_box = "0 0 595.28 841.89"  # A4, as the licence is
    pages = reader.root.get_value_as_reference("/Pages")
    objects = (
        f"{fresh} 0 obj\n<< /Length {len(content)} >>\nstream\n".encode()
        + content
        + b"\nendstream\nendobj\n"
        + f"{fresh + 1} 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>\nendobj\n".encode()
        + f"{page_ref.idnum} 0 obj\n<< /Type /Page /Parent {pages.idnum} 0 R /MediaBox [{media_box}]"
        f" /Resources << /Font << /F1 {fresh + 1} 0 R >> >> /Contents {fresh} 0 R >>\nendobj\n".encode()
    )
    return objects, fresh


def test_the_licence_as_issued_with_its_validation_data_update_is_valid(client, issued):
    assert len(re.findall(rb"%%EOF", issued)) >= 3  # the page, the seal, and the validation data after it
    answer = verify(client, issued)
    assert answer["verdict"] == "valid" and answer["trailing_data"] is None


def test_objects_appended_with_no_cross_reference_section_are_not_valid(client, issued):
    objects, _ = suspended_page(issued)
    answer = verify(client, issued + objects)
    assert answer["verdict"] == "invalid" and answer["reasons"][0] == TRAILING_DATA
    assert "belong to no update" in answer["trailing_data"]
    assert all(signature["indication"] == "passed" for signature in answer["signatures"])  # the hole it closes


def test_a_half_written_cross_reference_section_is_not_valid(client, issued):
    objects, fresh = suspended_page(issued)
    half = objects + b"xref\n0 1\n0000000000 65535 f \n" + f"{fresh} 2\n".encode()
    answer = verify(client, issued + half)
    assert answer["verdict"] == "invalid" and answer["reasons"][0] == TRAILING_DATA


def test_an_update_missing_its_trailer_is_not_valid(client, issued):
    objects, _ = suspended_page(issued)
    start = len(issued)
    offsets = [start + match.start() for match in re.finditer(rb"\d+ 0 obj", objects)]
    numbers = [int(match[1]) for match in re.finditer(rb"(\d+) 0 obj", objects)]
    table = b"xref\n" + b"".join(f"{n} 1\n{o:010d} 00000 n \n".encode() for n, o in zip(numbers, offsets, strict=True))
    update = objects + table + f"startxref\n{start + len(objects)}\n%%EOF\n".encode()
    answer = verify(client, issued + update)
    assert answer["verdict"] == "invalid" and TRAILING_DATA in answer["reasons"]


def test_a_comment_after_the_last_eof_is_not_valid(client, issued):
    answer = verify(client, issued + b"% nothing to see here\n")
    assert answer["verdict"] == "invalid" and answer["reasons"] == [TRAILING_DATA]
    assert verify(client, issued + b"\r\n")["verdict"] == "valid"  # a line end is no data


def proper_update(pdf: bytes, body: bytes, number: int, size: int) -> bytes:
    """A complete incremental update that lists one object (``number``, the start of ``body``): table,
    trailer with /Prev and /Size, startxref and %%EOF."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    previous = int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])
    root = reader.root_ref
    start = len(pdf)
    section = start + len(body)
    table = f"xref\n{number} 1\n{start:010d} 00000 n \n".encode()
    trailer = f"trailer\n<< /Size {size} /Root {root.idnum} 0 R /Prev {previous} >>\n".encode()
    return pdf + body + table + trailer + f"startxref\n{section}\n%%EOF\n".encode()


def test_objects_hidden_in_a_listed_stream_of_a_proper_update_are_not_valid(client, issued):
    """The review's bypass: the one listed object is a stream whose data holds page objects, which a reader
    rebuilding the cross-references takes for the real ones."""
    objects, fresh = suspended_page(issued)
    hidden = f"{fresh + 5} 0 obj\n<< /Length {len(objects)} >>\nstream\n".encode() + objects + b"\nendstream\nendobj\n"
    answer = verify(client, proper_update(issued, hidden, fresh + 5, fresh + 6))
    assert answer["verdict"] == "invalid" and answer["reasons"][0] == TRAILING_DATA
    assert "inside something else" in answer["trailing_data"]


def test_an_update_listing_objects_past_an_absurd_size_is_not_valid(client, issued):
    reader = PdfFileReader(io.BytesIO(issued), strict=False)
    fresh = int(reader.trailer["/Size"])
    body = f"{fresh} 0 obj\n<< /Note (nothing) >>\nendobj\n".encode()
    answer = verify(client, proper_update(issued, body, fresh, 999_999_999))
    assert answer["verdict"] == "invalid" and answer["reasons"][0] == TRAILING_DATA
