"""The public verification pages through the Flask test client: /verify (upload, verdict) and /verify/<number>.

Licences are issued through the API by an issuer agency registered in the test; expected texts come
from the page catalogues, not from copies here.
"""

from __future__ import annotations

import io
import re
from html import unescape

import pytest
from certs_support import simple_pdf
from testbed import LICENCE_HOLDER

from certs import numbering
from hub.web import verify as verify_pages
from hub.web.i18n import text_of as catalogue_text

HOLDER = LICENCE_HOLDER
MASKED = "杭*****店"
AGENCY_NAME = "杭州市市场监督管理局"
TYPE_NAME = "食品经营许可证 (Food business licence)"
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
# What the brief names; each must have words in both languages.
SUB_INDICATIONS = [
    "HASH_FAILURE",
    "SIG_CRYPTO_FAILURE",
    "REVOKED",
    "REVOKED_NO_POE",
    "NO_CERTIFICATE_CHAIN_FOUND",
    "NO_POE",
    "TRY_LATER",
    "SIG_CONSTRAINTS_FAILURE",
    "FORMAT_FAILURE",
    "EXPIRED",
    "OUT_OF_BOUNDS_NO_POE",
]
CHECKS = ("integrity", "signer_chain", "revocation", "timestamp", "coverage", "changes_after_signing")
DOCUMENT_REASONS = [
    "no_signature",
    "not_a_licence",
    "licence_not_on_record",
    "not_the_issued_document",
    "licence_revoked",
    "licence_suspended",
    "licence_expired",
    "signature_failed",
    "signature_indeterminate",
]


def t(key: str, lang: str, **values: object) -> str:
    return catalogue_text(key, lang).format(**values)


def text_of(response) -> str:
    """The page's text with tags dropped and entities decoded, for plain ``in`` checks."""
    return unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


@pytest.fixture
def issuer(registry):
    registry.agency("market", region="330100", name=AGENCY_NAME)
    registry.post(
        "/api/v1/licence-types",
        {
            "code": "food-business",
            "name": TYPE_NAME,
            "issuer": "market",
            "fields": {"premises": {"type": "string", "required": True}},
            "validity_days": 1825,
        },
    )
    return registry.token("market", "agency")


@pytest.fixture
def licence(client, issuer) -> dict:
    body = {"type": "food-business", "holder": HOLDER, "fields": {"premises": "西湖区文三路 1 号"}}
    response = client.post("/api/v1/licences", json=body, headers=issuer)
    assert response.status_code == 201, response.get_json()
    record = response.get_json()
    pdf = client.get(f"/api/v1/licences/{record['number']}/pdf", headers=issuer)
    assert pdf.status_code == 200
    return {**record, "pdf": pdf.data}


def upload(client, content: bytes, lang: str = "zh", name: str = "licence.pdf"):
    return client.post(
        f"/verify?lang={lang}",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
        headers=HTML,
    )


def test_every_code_named_in_the_contract_has_words_in_both_languages():
    for code in SUB_INDICATIONS:
        assert all(catalogue_text(f"verify_sub_{code}", lang) for lang in ("zh", "en"))
    for code in DOCUMENT_REASONS:
        assert all(catalogue_text(f"verify_reason_{code}", lang) for lang in ("zh", "en"))
    for check in CHECKS:
        assert all(catalogue_text(f"verify_check_{check}", lang) for lang in ("zh", "en"))


# -- the upload form
@pytest.mark.parametrize(("lang", "headers"), [("zh", {"Accept-Language": "zh-CN"}), ("en", {"Accept-Language": "en"})])
def test_form_renders_in_the_visitors_language(client, lang: str, headers: dict):
    response = client.get("/verify", headers={**HTML, **headers})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Content-Language"] == lang
    page = response.get_data(as_text=True)
    assert t("verify_title", lang) in page and t("verify_submit", lang) in page
    assert 'enctype="multipart/form-data"' in page and 'name="file"' in page and 'type="file"' in page
    assert "https://" not in page and "//cdn" not in page  # every asset from the hub


def test_form_keeps_an_explicit_language_for_the_result(client):
    page = client.get("/verify?lang=en", headers=HTML).get_data(as_text=True)
    assert 'action="/verify?lang=en"' in page


# -- verdicts
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_issued_licence_is_valid_with_its_licence_and_signer(client, licence, lang: str):
    response = upload(client, licence["pdf"], lang)
    assert response.status_code == 200
    page, shown = response.get_data(as_text=True), text_of(response)
    assert 'data-verdict="valid"' in page
    assert t("verify_verdict_valid", lang) in shown
    assert licence["number"] in shown
    assert MASKED in shown and HOLDER["name"] not in shown and HOLDER["id"] not in shown
    assert TYPE_NAME in shown and AGENCY_NAME in shown and licence["valid_until"] in shown
    assert t("verify_state_valid", lang) in shown
    assert f'data-fact="signer">{AGENCY_NAME}<' in page  # the seal's common name
    for check in CHECKS:
        assert f'data-check="{check}" data-outcome="passed"' in page
        assert t(f"verify_check_{check}", lang) in shown
        assert t(f"verify_check_{check}_passed", lang) in shown
    assert response.headers["Cache-Control"] == "no-store"


def test_checks_keep_their_reading_order_on_a_repeat(client, licence):
    """The second verification of a file is answered from the cache; the page reads the same."""
    for _ in range(2):
        page = upload(client, licence["pdf"], "en").get_data(as_text=True)
        assert re.findall(r'data-check="(\w+)"', page) == list(CHECKS)


def test_a_sealed_notice_is_not_a_licence(client, issuer):
    sealed = client.post(
        "/api/v1/signatures",
        data={"file": (io.BytesIO(simple_pdf("Decision")), "notice.pdf")},
        headers=issuer,
        content_type="multipart/form-data",
    )
    assert sealed.status_code == 201
    response = upload(client, sealed.data, "zh")
    assert response.status_code == 200
    page, shown = response.get_data(as_text=True), text_of(response)
    assert 'data-verdict="valid"' not in page
    assert t("verify_reason_not_a_licence", "zh") in shown
    assert 'data-indication="passed"' in page and AGENCY_NAME in shown  # its seal is still reported
    assert t("verify_licence", "zh") not in shown


def test_an_unsigned_pdf_is_invalid(client):
    response = upload(client, simple_pdf("Unsigned"), "en")
    assert response.status_code == 200
    shown = text_of(response)
    assert 'data-verdict="invalid"' in response.get_data(as_text=True)
    assert t("verify_reason_no_signature", "en") in shown
    assert t("verify_no_signatures", "en") in shown


def test_tampered_licence_is_invalid_and_says_why(client, licence):
    pdf = licence["pdf"]
    at = pdf.index(b"/CreationDate (D:") + len(b"/CreationDate (D:")
    digit = pdf[at : at + 1]
    tampered = pdf[:at] + (b"1" if digit != b"1" else b"2") + pdf[at + 1 :]  # same length, inside the sealed bytes
    response = upload(client, tampered, "en")
    assert response.status_code == 200
    page, shown = response.get_data(as_text=True), text_of(response)
    assert 'data-verdict="invalid"' in page
    assert t("verify_verdict_invalid", "en") in shown
    assert 'data-check="integrity" data-outcome="failed"' in page
    assert t("verify_sub_HASH_FAILURE", "en") in shown
    assert t("verify_reason_signature_failed", "en") in shown


def test_revoked_licence_is_invalid_and_its_status_page_says_revoked(client, issuer, licence):
    number = licence["number"]
    changed = client.post(
        f"/api/v1/licences/{number}/status", json={"status": "revoked", "reason": "closed down"}, headers=issuer
    )
    assert changed.status_code == 200, changed.get_json()

    response = upload(client, licence["pdf"], "zh")
    shown = text_of(response)
    assert 'data-verdict="invalid"' in response.get_data(as_text=True)
    assert t("verify_reason_licence_revoked", "zh") in shown
    assert t("verify_state_revoked", "zh") in shown

    status_page = client.get(f"/verify/{number}?lang=zh", headers=HTML)
    assert status_page.status_code == 200
    assert 'data-status="revoked"' in status_page.get_data(as_text=True)
    assert t("verify_state_explain_revoked", "zh") in text_of(status_page)


def test_unknown_codes_are_shown_verbatim(client, monkeypatch):
    """A code the pages have no words for is shown as it is; the page never fails on it."""
    novel = {
        "verdict": "strange",
        "reasons": ["brand_new_reason"],
        "licence": None,
        "signatures": [
            {
                "field_name": "Sig1",
                "kind": "future_kind",
                "indication": "indeterminate",
                "sub_indication": "NEW_SUB_INDICATION",
                "signer": {},
                "claimed_signing_time": "not a time",
                "timestamp": None,
                "coverage": "some_new_coverage",
                "modification_level": "some_new_level",
                "checks": {
                    "quantum": {"outcome": "indeterminate", "sub_indication": "QUANTUM_FAILURE", "reason": "why"},
                    "integrity": {"outcome": "odd", "sub_indication": None, "reason": None},
                },
                "reasons": ["quantum_failure"],
            }
        ],
        "sha256": "00" * 32,
    }
    monkeypatch.setattr(verify_pages.verification, "verify_document", lambda state, pdf, ctx: novel)
    response = upload(client, b"%PDF-1.7\n", "en")
    assert response.status_code == 200
    shown = text_of(response)
    assert re.findall(r'data-check="(\w+)"', response.get_data(as_text=True)) == ["integrity", "quantum"]
    for verbatim in (
        "strange",
        "brand_new_reason",
        "future_kind",
        "NEW_SUB_INDICATION",
        "QUANTUM_FAILURE",
        "quantum",
        "odd",
        "not a time",
        "some_new_coverage",
        "some_new_level",
        "quantum_failure",
    ):
        assert verbatim in shown, verbatim


# -- uploads that cannot be verified
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_file_that_is_not_a_pdf_gets_a_friendly_page(client, lang: str):
    response = upload(client, b"just some text, not a PDF at all", lang, name="notes.txt")
    assert response.status_code == 422
    assert response.mimetype == "text/html"
    shown = text_of(response)
    assert t("verify_cannot_check", lang) in shown
    assert t("verify_unreadable", lang) in shown
    assert "neither a PDF nor an OFD" in shown  # and the service's own detail
    assert 'name="file"' in response.get_data(as_text=True)  # and the form, to try again
    assert "Traceback" not in shown


def test_no_file_gets_a_friendly_page(client):
    response = client.post("/verify?lang=en", data={}, content_type="multipart/form-data", headers=HTML)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert t("verify_no_file", "en") in text_of(response)


def test_an_oversized_upload_gets_a_friendly_page(client, settings):
    too_big = b"%PDF-1.7\n" + b"0" * settings.max_upload_bytes
    response = upload(client, too_big, "en")
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    limit_mb = settings.max_upload_bytes // 1_048_576
    assert t("verify_too_large", "en", mb=limit_mb) in text_of(response)


# -- the QR link's status page
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_status_page_shows_the_licence_with_the_holder_masked(client, licence, lang: str):
    response = client.get(f"/verify/{licence['number']}?lang={lang}", headers=HTML)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Content-Language"] == lang
    page, shown = response.get_data(as_text=True), text_of(response)
    assert 'data-status="valid"' in page
    assert t("verify_status_title", lang) in shown and t("verify_state_valid", lang) in shown
    assert licence["number"] in shown and TYPE_NAME in shown and AGENCY_NAME in shown
    assert licence["valid_until"] in shown
    assert MASKED in shown and HOLDER["name"] not in shown and HOLDER["id"] not in shown


def test_status_answers_json_when_asked(client, licence):
    response = client.get(f"/verify/{licence['number']}", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    answer = response.get_json()
    assert {"number", "status", "type", "holder_name_masked", "valid_until"} <= set(answer)
    assert answer["number"] == licence["number"] and answer["status"] == "valid"
    assert answer["holder_name_masked"] == MASKED
    assert HOLDER["name"] not in response.get_data(as_text=True)
    assert "Accept" in response.headers["Vary"]


def test_a_browser_without_preferences_gets_the_page(client, licence):
    response = client.get(f"/verify/{licence['number']}", headers={"Accept": "*/*"})
    assert response.status_code == 200 and response.mimetype == "text/html"


@pytest.mark.parametrize("kind", ["wrong-check-character", "not-on-record"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_unknown_number_is_a_404_page(client, licence, kind: str, lang: str):
    if kind == "wrong-check-character":
        last = licence["number"][-1]
        number = licence["number"][:-1] + ("A" if last != "A" else "B")
        assert not numbering.is_well_formed(number)
    else:
        number = numbering.make_number("food-business", "330100", 2026, 999_999)
    response = client.get(f"/verify/{number}?lang={lang}", headers=HTML)
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    shown = text_of(response)
    assert t("verify_status_unknown", lang) in shown and number in shown
    assert MASKED not in shown

    as_json = client.get(f"/verify/{number}", headers={"Accept": "application/json"})
    assert as_json.status_code == 404
    assert as_json.mimetype == "application/problem+json"
