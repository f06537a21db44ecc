"""Decisions as documents (issue 18, item 6): acceptance, the one-time request for materials, the refusal of the
application and of the licence, each a PDF sealed by the lead agency, in the applicant's language, with the reasons
and a refusal's remedies; in the case file, its archive and the applicant's reach; a failure leaves it owed."""

from __future__ import annotations

import io
import subprocess
from dataclasses import replace
from pathlib import Path

from intake_support import HOLDER, apply, event, province, ready, upload
from testbed import OPERATOR

from hub.context import Context
from hub.intake import deadlines

__all__ = ["province"]  # a fixture, used by name


def document(client, token, application_id: str, reference: str) -> bytes:
    response = client.get(f"/api/v1/applications/{application_id}/documents/{reference}", headers=token)
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/pdf" and "sandbox" in response.headers["Content-Security-Policy"]
    return response.get_data()


def text_of(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True)
    return "".join(out.stdout.split())


def sealed_by(client, pdf: bytes) -> dict:
    """The hub's verdict on the document: its signer and whether it is trusted and intact."""
    files = {"file": (io.BytesIO(pdf), "document.pdf")}
    response = client.post("/api/v1/verifications", data=files, content_type="multipart/form-data")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_an_accepted_case_gets_a_sealed_acceptance_notice_in_chinese(client, province, tmp_path):
    application_id = ready(client, province)
    accepted = event(client, province["market"], application_id, "accept").get_json()
    [notice] = accepted["documents"]
    assert notice["kind"] == "acceptance" and notice["language"] == "zh" and notice["title"] == "受理通知书"
    pdf = document(client, province["portal"], application_id, notice["reference"])
    text = text_of(pdf, tmp_path)
    assert "受理通知书" in text and HOLDER["name"] in text and accepted["deadline"][:4] in text
    verdict = sealed_by(client, pdf)  # anyone handed it can have it checked: sealed, whole, the one issued
    assert verdict["verdict"] == "valid", verdict
    assert verdict["document"]["reference"] == notice["reference"] and verdict["document"]["agency"] == "market"
    assert "杭州市市场监督管理局" in str(verdict["signatures"][0]["signer"])
    changed = pdf.replace(b"/Producer", b"/Producex", 1)  # any other bytes are not the document issued
    assert sealed_by(client, changed)["verdict"] == "invalid"


def test_a_refusal_says_why_and_what_the_applicant_may_do_in_english(client, province, tmp_path):
    headers = {**province["portal"], "Accept-Language": "en"}
    body = {"service_item": "food-permit", "applicant": HOLDER, "channel": "web", "form": {"premises": "West Lake 1"}}
    case = client.post("/api/v1/applications", json=body, headers=headers).get_json()
    upload(client, province["portal"], case["id"], "plan")
    upload(client, province["portal"], case["id"], "lease")
    refused = event(client, province["market"], case["id"], "reject", reason="Premises outside the licensing area")
    [decision] = refused.get_json()["documents"]
    assert decision["kind"] == "refusal" and decision["language"] == "en"  # never accepted: not accepted at all
    text = text_of(document(client, province["portal"], case["id"], decision["reference"]), tmp_path)
    assert "DecisionNottoAccepttheApplication" in text and "Premisesoutsidethelicensingarea" in text
    assert "60days" in text and "sixmonths" in text  # the remedies: reconsideration, or a lawsuit


def test_a_request_for_materials_names_them_all_and_a_refusal_after_acceptance_refuses_the_licence(
    client, province, tmp_path
):
    application_id = ready(client, province)
    event(client, province["market"], application_id, "accept")
    asked = event(
        client,
        province["market"],
        application_id,
        "request_materials",
        reason="平面图不清晰",
        materials=[{"code": "plan"}, {"code": "fire-check", "name": "消防检查意见"}],
    ).get_json()
    request = asked["documents"][-1]
    assert request["kind"] == "materials_request"
    text = text_of(document(client, province["market"], application_id, request["reference"]), tmp_path)
    assert "经营场所平面图" in text and "消防检查意见" in text and "平面图不清晰" in text
    upload(client, province["portal"], application_id, "plan")
    upload(client, province["portal"], application_id, "fire-check")
    refused = event(client, province["market"], application_id, "reject", reason="消防检查不合格").get_json()
    assert [d["kind"] for d in refused["documents"]] == ["acceptance", "materials_request", "licence_refusal"]
    text = text_of(
        document(client, province["market"], application_id, refused["documents"][-1]["reference"]), tmp_path
    )
    assert "不予行政许可决定书" in text and "消防检查不合格" in text and "行政复议" in text
    log = client.get("/api/v1/access-log", query_string={k: HOLDER[k] for k in ("id_type", "id")}, headers=OPERATOR)
    reads = [line for line in log.get_json()["items"] if line["fields"]]
    assert {line["agency"] for line in reads} == {"market"}  # the portal's reads (for the applicant) are not lines


def test_a_document_that_cannot_be_written_is_owed_and_the_archive_waits_for_it(client, province, app, settings):
    state = app.extensions["hub"]
    application_id = ready(client, province)
    event(client, province["market"], application_id, "accept")
    state.settings = replace(settings, licence_font=Path("/nonexistent/font.ttc"))  # rendering fails
    try:
        rejected = event(client, province["market"], application_id, "reject", reason="材料虚假").get_json()
    finally:
        state.settings = settings
    assert rejected["status"] == "rejected"  # the decision stands
    seen = client.get(f"/api/v1/applications/{application_id}", headers=province["market"]).get_json()
    assert [d["kind"] for d in seen["documents"]] == ["acceptance"] and seen.get("archive") is None
    swept = deadlines.sweep_agency(state, Context.system("schedule"), "market", state.today())
    assert swept["documents"] == 1
    seen = client.get(f"/api/v1/applications/{application_id}", headers=province["market"]).get_json()
    assert [d["kind"] for d in seen["documents"]] == ["acceptance", "licence_refusal"]
    package = client.get(f"/api/v1/applications/{application_id}/archive", headers=province["market"])
    assert package.status_code == 200  # filed now that nothing is owed


def test_only_those_who_may_read_the_case_get_its_documents(client, province, registry):
    application_id = ready(client, province)
    [notice] = event(client, province["market"], application_id, "accept").get_json()["documents"]
    url = f"/api/v1/applications/{application_id}/documents/{notice['reference']}"
    registry.agency("tax", region="330100")
    assert client.get(url, headers=registry.token("tax", "agency")).status_code == 403
    assert client.get(url).status_code == 401
    assert client.get(url.replace(notice["reference"], "NOPE-1"), headers=province["portal"]).status_code == 404
    assert apply(client, province["portal"]).status_code == 201
