"""An agency's SM2 seal (issue 22) is renewed and revoked as its P-256 seal is, through the API and ``hub pki
--sm2``: a renewal seals the next OFD with a new key, a revocation lists the seal on the SM2 issuing CA's CRL
and judges what it sealed after the revocation time not valid, and what it sealed before stays valid."""

from __future__ import annotations

import datetime as dt
import io
import json
import time

from asn1crypto import crl as asn1_crl
from testbed import LICENCE_HOLDER, OPERATOR

FIELDS = {"premises": {"type": "string", "required": True}}


def ofd_type(registry) -> None:
    body = {"code": "food-business", "name": "食品经营许可证", "issuer": "market", "fields": FIELDS,
            "validity_days": 365, "formats": ["pdf", "ofd"]}  # fmt: skip
    registry.post("/api/v1/licence-types", body)


def issued_ofd(client, token) -> tuple[dict, bytes]:
    body = {"type": "food-business", "holder": LICENCE_HOLDER, "fields": {"premises": "西湖区文三路 1 号"}}
    licence = client.post("/api/v1/licences", json=body, headers=token).get_json()
    return licence, client.get(f"/api/v1/licences/{licence['number']}/ofd", headers=token).data


def verdict(client, content: bytes) -> dict:
    files = {"file": (io.BytesIO(content), "licence.ofd")}
    return client.post("/api/v1/verifications", data=files, content_type="multipart/form-data").get_json()


def crl_serials(client) -> dict[str, dt.datetime]:
    crl = asn1_crl.CertificateList.load(client.get("/api/v1/pki/crl/sm2-issuing.crl").data)
    entries = crl["tbs_cert_list"]["revoked_certificates"] or []
    return {format(entry["user_certificate"].native, "x"): entry["revocation_date"].native for entry in entries}


def test_a_renewed_sm2_seal_seals_the_next_ofd_and_the_old_one_stays_valid(client, registry, market):
    ofd_type(registry)
    assert client.get("/api/v1/pki/seals/market/sm2").status_code == 404  # made at the first OFD
    first, first_ofd = issued_ofd(client, market)
    shown = client.get("/api/v1/pki/seals/market/sm2").get_json()
    assert shown["serial"] == first["ofd_seal_serial"] and shown["status"] == "active"
    assert shown["subject"].startswith("CN=杭州市市场监督管理局") and shown["certificate"].startswith(
        "-----BEGIN CERTIFICATE"
    )

    renewed = client.post("/api/v1/pki/seals/market/sm2/renewal", json={}, headers=OPERATOR)
    assert renewed.status_code == 201 and renewed.get_json()["serial"] != shown["serial"]
    second, _ = issued_ofd(client, market)
    assert second["ofd_seal_serial"] == renewed.get_json()["serial"]
    assert verdict(client, first_ofd)["verdict"] == "valid"  # a renewal revokes nothing
    assert crl_serials(client) == {}


def test_a_revoked_sm2_seal_is_on_the_crl_and_replaced_at_the_next_ofd(client, registry, market):
    ofd_type(registry)
    before, before_ofd = issued_ofd(client, market)
    time.sleep(1.01 - time.time() % 1)  # a CRL dates a revocation to the second: revoke in the next one
    revoked = client.post("/api/v1/pki/seals/market/sm2/revocation", json={"reason": "superseded"}, headers=OPERATOR)
    assert revoked.status_code == 200, revoked.get_json()
    assert revoked.get_json()["serial"] == before["ofd_seal_serial"]
    assert client.get("/api/v1/pki/seals/market/sm2").get_json()["status"] == "revoked"
    assert set(crl_serials(client)) == {before["ofd_seal_serial"]}
    assert client.get("/api/v1/pki/crl/issuing.crl").status_code == 200  # the P-256 CRL does not list it
    again = client.post("/api/v1/pki/seals/market/sm2/revocation", json={}, headers=OPERATOR)
    assert again.status_code == 409 and again.mimetype == "application/problem+json"

    assert verdict(client, before_ofd)["verdict"] == "valid"  # sealed and timestamped before the revocation
    after, after_ofd = issued_ofd(client, market)
    assert after["ofd_seal_serial"] not in (None, before["ofd_seal_serial"])
    assert verdict(client, after_ofd)["verdict"] == "valid"


def test_a_seal_revoked_from_before_an_ofd_was_sealed_makes_that_ofd_not_valid(client, registry, market):
    ofd_type(registry)
    _, content = issued_ofd(client, market)
    assert verdict(client, content)["verdict"] == "valid"
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    client.post("/api/v1/pki/seals/market/sm2/revocation", json={"since": since}, headers=OPERATOR)
    judged = verdict(client, content)  # not the cached answer: a revocation changes the revocation version
    assert judged["verdict"] == "invalid" and judged["reasons"] == ["signature_failed"]
    revocation = judged["signatures"][0]["checks"]["revocation"]
    assert (revocation["outcome"], revocation["sub_indication"]) == ("failed", "REVOKED")


def test_hub_pki_sm2_shows_renews_and_revokes(hub_cli, client, registry):
    registry.agency("market", region="330100", name="杭州市市场监督管理局")
    shown = json.loads(hub_cli("pki", "seal", "market", "--sm2", check=True).stdout)  # made now
    assert shown["serial"] == client.get("/api/v1/pki/seals/market/sm2").get_json()["serial"]
    assert "BEGIN" not in json.dumps(shown)  # the certificate is for the API; the key is nowhere
    renewed = hub_cli("pki", "renew-seal", "market", "--sm2", check=True).stdout
    current = client.get("/api/v1/pki/seals/market/sm2").get_json()
    assert current["serial"] in renewed and current["serial"] != shown["serial"]
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).replace(microsecond=0)
    stamp = since.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    revoked = hub_cli("pki", "revoke-seal", "market", "--sm2", "--since", stamp, check=True).stdout
    assert current["serial"] in revoked and "SM2 seal" in revoked
    assert crl_serials(client) == {current["serial"]: since}
    assert client.get("/api/v1/pki/seals/market").get_json()["status"] == "active"  # the P-256 seal untouched
