"""A caseworker opens an uploaded file before deciding (`GET /api/v1/applications/{id}/materials/{code}/file`):
the lead and the co-agencies only, the file as uploaded, served so that it can never run as a page, and every
opening a line in the applicant's access log."""

from __future__ import annotations

from intake_support import HOLDER, PNG, apply, event, province, upload
from testbed import OPERATOR

__all__ = ["province"]  # a fixture, used by name


def file_url(application_id: str, code: str) -> str:
    return f"/api/v1/applications/{application_id}/materials/{code}/file"


def access_log(client) -> list[dict]:
    query = {"id_type": HOLDER["id_type"], "id": HOLDER["id"]}
    return client.get("/api/v1/access-log", query_string=query, headers=OPERATOR).get_json()["items"]


def test_the_lead_and_a_co_agency_open_an_upload_and_each_opening_is_logged(client, province):
    case = apply(client, province["portal"], item="joint-permit").get_json()
    upload(client, province["portal"], case["id"], "plan", PNG)
    upload(client, province["portal"], case["id"], "lease")
    event(client, province["market"], case["id"], "accept")
    for agency in ("market", "fire"):
        opened = client.get(file_url(case["id"], "plan"), headers=province[agency])
        assert opened.status_code == 200 and opened.get_data() == PNG and opened.mimetype == "image/png"
        assert opened.headers["Content-Disposition"] == 'inline; filename="plan.png"'
        assert "sandbox" in opened.headers["Content-Security-Policy"] and opened.headers["Cache-Control"] == "no-store"
    log = access_log(client)[:2]
    assert [(line["agency"], line["application"]) for line in log] == [("fire", case["id"]), ("market", case["id"])]
    assert log[0]["evidence_types"] == ["upload:plan"] and log[0]["fields"] == ["upload:plan.file"]


def test_nobody_else_opens_it_and_a_missing_file_is_404(client, province, registry):
    case = apply(client, province["portal"]).get_json()
    upload(client, province["portal"], case["id"], "plan")
    registry.agency("tax", region="330100")
    for token in (province["portal"], OPERATOR, province["fire"], registry.token("tax", "agency")):
        refused = client.get(file_url(case["id"], "plan"), headers=token)
        assert refused.status_code == 403 and refused.content_type == "application/problem+json"
    assert client.get(file_url(case["id"], "lease"), headers=province["market"]).status_code == 404  # not uploaded
    assert client.get(file_url(case["id"], "nothing"), headers=province["market"]).status_code == 404
    assert (
        client.get(file_url("app.market.000000000000000000000", "plan"), headers=province["market"]).status_code == 404
    )
    assert [line for line in access_log(client) if line["fields"]] == []  # no refusal showed the file
