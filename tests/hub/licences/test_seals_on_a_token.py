"""With HUB_PKCS11_MODULE set, agency seal keys are made on the token (SoftHSM2 here) and licences
sealed with them verify like any other."""

from __future__ import annotations

import io

import pkcs11
import pytest
from pkcs11.constants import Attribute, ObjectClass
from testbed import LICENCE_HOLDER, OPERATOR, SOFTHSM_TOKEN, SOFTHSM_USER_PIN

from hub import create_app
from hub.errors import Invalid
from hub.registry import catalogue


def test_seal_keys_live_on_the_token_and_licences_verify(settings, softhsm, app):
    token_settings = settings.with_overrides(
        {"pkcs11_module": softhsm, "pkcs11_token": SOFTHSM_TOKEN, "pkcs11_pin": SOFTHSM_USER_PIN}
    )
    hsm_app = create_app(settings=token_settings)  # shares the session's Redis
    client = hsm_app.test_client()
    agency = {"code": "market", "name": "杭州市市场监督管理局", "region": "330100"}
    assert client.post("/api/v1/agencies", json=agency, headers=OPERATOR).status_code == 201
    seal = client.get("/api/v1/pki/seals/market").get_json()
    assert seal["key_backend"] == "pkcs11"
    licence_type = {
        "code": "permit",
        "name": "许可证",
        "issuer": "market",
        "fields": {"premises": {"type": "string", "required": True}},
        "validity_days": 30,
    }
    assert client.post("/api/v1/licence-types", json=licence_type, headers=OPERATOR).status_code == 201
    token = client.post("/api/v1/agencies/market/tokens", json={"roles": ["agency"]}, headers=OPERATOR)
    issuer = {"Authorization": f"Bearer {token.get_json()['token']}"}
    holder = {"id_type": "resident-id", "id": "33010619900101123X", "name": "张三"}
    issued = client.post(
        "/api/v1/licences", json={"type": "permit", "holder": holder, "fields": {"premises": "x"}}, headers=issuer
    )
    assert issued.status_code == 201, issued.get_json()
    pdf = client.get(f"/api/v1/licences/{issued.get_json()['number']}/pdf", headers=issuer).data
    answer = client.post(
        "/api/v1/verifications", data={"file": (io.BytesIO(pdf), "l.pdf")}, content_type="multipart/form-data"
    ).get_json()
    assert answer["verdict"] == "valid", answer
    library = pkcs11.lib(softhsm)
    # This process is logged in already (through the hub): a new session shares that login.
    with library.get_token(token_label=SOFTHSM_TOKEN).open() as session:
        labels = [key[Attribute.LABEL] for key in session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY})]
        private = next(session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.LABEL: labels[-1]}))
        assert private[Attribute.SENSITIVE] and not private[Attribute.EXTRACTABLE]
    assert any(label.startswith("seal:market:") for label in labels)
    hsm_app.extensions["hub"].seals.close()  # log out, so other tests see the token as they left it


def test_a_hub_with_seal_keys_on_a_token_makes_no_sm2_key_in_software_unless_allowed(settings, softhsm, app):
    # No PKCS#11 token holds SM2: an operator who put seal keys on one must not find SM2 seal keys in software.
    token_settings = settings.with_overrides(
        {"pkcs11_module": softhsm, "pkcs11_token": SOFTHSM_TOKEN, "pkcs11_pin": SOFTHSM_USER_PIN}
    )
    hsm_app = create_app(settings=token_settings)
    client = hsm_app.test_client()
    agency = {"code": "market", "name": "杭州市市场监督管理局", "region": "330100"}
    assert client.post("/api/v1/agencies", json=agency, headers=OPERATOR).status_code == 201
    ofd_type = {"code": "permit", "name": "许可证", "issuer": "market", "validity_days": 30,
                "fields": {"premises": {"type": "string", "required": True}}, "formats": ["pdf", "ofd"]}  # fmt: skip
    refused = client.post("/api/v1/licence-types", json=ofd_type, headers=OPERATOR)
    assert refused.status_code == 422 and "HUB_SM2_SOFTWARE_KEYS" in refused.get_json()["detail"]
    assert "formats" in refused.get_json()["errors"]
    allowed_app = create_app(settings=token_settings.with_overrides({"sm2_software_keys": True}))
    allowed = allowed_app.test_client()
    assert allowed.post("/api/v1/licence-types", json=ofd_type, headers=OPERATOR).status_code == 201
    token = client.post("/api/v1/agencies/market/tokens", json={"roles": ["agency"]}, headers=OPERATOR)
    issuer = {"Authorization": f"Bearer {token.get_json()['token']}"}
    body = {"type": "permit", "holder": LICENCE_HOLDER, "fields": {"premises": "西湖区文三路 1 号"}}
    try:
        # A type that asks for OFD (made where it was allowed, or before the token): refused plainly, before a number
        # is taken or anything sealed; and no catalogue import brings one in either.
        unsealed = client.post("/api/v1/licences", json=body, headers=issuer)
        assert unsealed.status_code == 409 and unsealed.mimetype == "application/problem+json"
        assert "HUB_SM2_SOFTWARE_KEYS" in unsealed.get_json()["detail"]
        assert client.get("/api/v1/pki/seals/market/sm2").status_code == 404  # no SM2 key was made
        with pytest.raises(Invalid) as refused_import:
            catalogue.validate({"licence_types": [ofd_type]}, sm2_keys_allowed=token_settings.sm2_keys_allowed)
        assert "licence_types[0].formats" in refused_import.value.errors
        issued = allowed.post("/api/v1/licences", json=body, headers=issuer)
        assert issued.status_code == 201 and issued.get_json()["ofd_sha256"], issued.get_json()
        assert issued.get_json()["number"].split("-")[-2] == "000001"  # the refused tries took no number
        assert allowed.get("/api/v1/pki/seals/market").get_json()["key_backend"] == "pkcs11"  # the PDF's, as before
        assert allowed.get("/api/v1/pki/seals/market/sm2").get_json()["key_backend"] == "software"
    finally:
        for made in (hsm_app, allowed_app):
            made.extensions["hub"].seals.close()  # log out, so other tests see the token as they left it
