"""Size caps on every body and upload (413), and hostile input that must be refused cheaply, never with a 5xx:
deeply nested JSON, a CSV with a million columns, a giant cell or too many rows, a PDF whose streams inflate
to a GiB each."""

from __future__ import annotations

import io

import pytest
from hardening_support import flate_bomb_pdf, limited_app, nested_json, wide_csv
from testbed import OPERATOR

from hub.sources.datasets import MAX_COLUMNS, MAX_ROWS

SMALL = {"max_body_bytes": 64 * 1024, "max_upload_bytes": 256 * 1024, "rate_limits": False}


@pytest.fixture(scope="module")
def small(settings):
    return limited_app(settings, **SMALL)


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data()[:300]
    assert response.mimetype == "application/problem+json"
    return response.get_json()


def test_json_bodies_past_the_limit_are_413_declared_or_chunked(app, small):
    client = small.test_client()
    body = b'{"code": "' + b"x" * (70 * 1024) + b'"}'
    assert_problem(client.post("/api/v1/agencies", data=body, content_type="application/json", headers=OPERATOR), 413)
    chunked = client.post(  # no length declared: as gunicorn hands a chunked body over
        "/api/v1/agencies",
        input_stream=io.BytesIO(body),
        headers={**OPERATOR, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert_problem(chunked, 413)


def test_uploads_past_the_limit_are_413_on_the_api_and_a_page_on_pages(app, small):
    client = small.test_client()
    big = b"%PDF-1.7\n" + b"0" * (300 * 1024)
    assert_problem(client.post("/api/v1/verifications", data={"file": (io.BytesIO(big), "big.pdf")}), 413)
    page = client.post("/verify", data={"file": (io.BytesIO(big), "big.pdf")}, headers={"Accept": "text/html"})
    assert page.status_code == 413 and page.mimetype == "text/html"
    # a JSON route does not take an upload's size: its own, smaller limit holds for multipart too
    form = client.post("/api/v1/agencies", data={"file": (io.BytesIO(b"x" * (100 * 1024)), "a")}, headers=OPERATOR)
    assert form.status_code in (413, 415)


@pytest.mark.parametrize(("depth", "status"), [(100, 422), (10_000, 400), (500_000, 400)])
def test_deeply_nested_json_is_refused_not_a_crash(client, depth, status):
    """Shallow nesting is valid JSON of the wrong shape (422); past the parser's depth it is refused (400)."""
    answer = client.post("/api/v1/agencies", data=nested_json(depth), content_type="application/json", headers=OPERATOR)
    assert_problem(answer, status)


@pytest.fixture
def dataset(app, client, registry):
    """A csv connector of agency ``market`` and a function that uploads a dataset to it as that agency."""
    registry.agency("market")
    registry.evidence_type("identity")
    connector = {"id": "people", "agency": "market", "kind": "csv", "provides": ["identity"], "config": {}}
    registry.post("/api/v1/connectors", {**connector, "timeout_ms": 1000})
    agency = registry.token("market", "agency")

    def put(content: bytes):
        files = {"file": (io.BytesIO(content), "people.csv")}
        return client.put("/api/v1/connectors/people/dataset", data=files, headers=agency)

    return put


def test_a_csv_with_a_million_columns_is_refused_in_a_few_words(dataset):
    answer = dataset(wide_csv(1_000_000))
    problem = assert_problem(answer, 422)
    assert problem["errors"]["header"] == [f"1000000 columns; at most {MAX_COLUMNS}."]
    assert len(answer.get_data()) < 2048


def test_unknown_columns_are_named_only_up_to_twenty(dataset):
    problem = assert_problem(dataset(wide_csv(MAX_COLUMNS)), 422)
    assert problem["errors"]["header"][0].endswith(f"and {MAX_COLUMNS - 1 - 20} more.")


def test_a_giant_cell_and_too_many_rows_are_422_not_500(dataset):
    giant = b"subject_id,name\n440104198512125675," + b"x" * 200_000 + b"\n"
    assert "field larger than field limit" in assert_problem(dataset(giant), 422)["detail"]
    rows = b"subject_id,name\n" + b"".join(b"%d,n\n" % n for n in range(MAX_ROWS + 1))
    assert assert_problem(dataset(rows), 422)["errors"]["file"][0].startswith(f"{MAX_ROWS + 1} rows; at most")
    assert dataset(b"subject_id,name\n440104198512125675,Li Wei\n").status_code == 200


def test_a_flate_bomb_pdf_is_refused_by_the_verifier_and_the_hub_goes_on(client):
    bomb = flate_bomb_pdf(1 << 30)  # each of two streams inflates to 1 GiB; 2 MiB on the wire
    assert len(bomb) < 3 * 1024 * 1024
    answer = client.post("/api/v1/verifications", data={"file": (io.BytesIO(bomb), "bomb.pdf")})
    assert "PdfDecodeLimitError" in assert_problem(answer, 422)["detail"]
    again = client.post("/api/v1/verifications", data={"file": (io.BytesIO(b"%PDF-1.7\n%%EOF\n"), "tiny.pdf")})
    assert again.status_code == 422 and client.get("/healthz").status_code == 200


def test_a_flate_bomb_sent_to_the_sealing_service_is_refused_in_the_worker(client, registry):
    """Agencies' PDFs are sealed in the worker itself: pyHanko's decode limits stop the bomb there too."""
    registry.agency("market")
    agency = registry.token("market", "agency")
    bomb = flate_bomb_pdf(1 << 30)
    answer = client.post("/api/v1/signatures", data={"file": (io.BytesIO(bomb), "bomb.pdf")}, headers=agency)
    assert_problem(answer, 422)
    assert client.get("/healthz").status_code == 200
