"""Licences as SD-JWT VCs with a status list: checked by independent code (the IETF SD-JWT reference
implementation over jwcrypto, and a status-list reader written here from the draft), and by
``hub verify-offline`` with no call to the hub."""

from __future__ import annotations

import base64
import json
import subprocess
import zlib
from datetime import UTC, datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from jwcrypto.jwk import JWK
from jwcrypto.jws import JWS, InvalidJWSSignature
from sd_jwt.verifier import SDJWTVerifier
from testbed import LICENCE_HOLDER, OPERATOR, VENV_BIN

HOLDER = LICENCE_HOLDER
FIELDS = {"premises": "西湖区文三路 1 号", "seats": 20, "chain_store": False}


@pytest.fixture
def issuer(registry):
    registry.agency("market", region="330100", name="杭州市市场监督管理局")
    fields = {"premises": {"type": "string", "required": True}, "seats": {"type": "number"}}
    fields["chain_store"] = {"type": "boolean"}
    body = {"code": "food-business", "name": "食品经营许可证", "issuer": "market", "fields": fields}
    registry.post("/api/v1/licence-types", body | {"validity_days": 365})
    return registry.token("market", "agency")


@pytest.fixture
def licence(client, issuer) -> dict:
    response = client.post(
        "/api/v1/licences", json={"type": "food-business", "holder": HOLDER, "fields": FIELDS}, headers=issuer
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def credential_of(client, token, number: str, query: str = "") -> str:
    response = client.get(f"/api/v1/licences/{number}/credential{query}", headers=token)
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/dc+sd-jwt"
    return response.get_data(as_text=True)


def chain_checked_key(client, header: dict) -> JWK:
    """The x5c leaf's key, once the chain is seen to lead to the hub's published roots (checked here)."""
    chain = [x509.load_der_x509_certificate(base64.b64decode(item)) for item in header["x5c"]]
    roots = x509.load_pem_x509_certificates(client.get("/api/v1/pki/roots").data)
    anchor = next(root for root in roots if root.subject == chain[-1].issuer)
    for child, parent in zip(chain, [*chain[1:], anchor], strict=True):
        child.verify_directly_issued_by(parent)
    pem = (
        chain[0].public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return JWK.from_pem(pem)


def present(credential: str, keep: set[str]) -> str:
    """What a holder shows: the issuer-signed JWT and only the disclosures of the claims in ``keep``."""
    jwt, *disclosures = credential.split("~")
    kept = [d for d in disclosures if d and json.loads(base64.urlsafe_b64decode(d + "==="))[1] in keep]
    return "~".join([jwt, *kept, ""])


def independent_status(client, uri: str, index: int) -> int:
    """The two status bits at ``index``, read by code written from the Token Status List draft."""
    response = client.get(uri.split("localhost", 1)[-1].split(":8000", 1)[-1])
    assert response.status_code == 200 and response.mimetype == "application/statuslist+jwt"
    assert "max-age=" in response.headers["Cache-Control"]
    token = JWS()
    token.deserialize(response.get_data(as_text=True))
    token.verify(chain_checked_key(client, token.jose_header))
    assert token.jose_header["typ"] == "statuslist+jwt"
    claims = json.loads(token.payload)
    assert claims["sub"] == uri and claims["status_list"]["bits"] == 2
    entries = zlib.decompress(base64.urlsafe_b64decode(claims["status_list"]["lst"] + "==="))
    assert len(entries) * 4 >= 131_072
    return (entries[index // 4] >> (2 * (index % 4))) & 0b11


def test_a_credential_verifies_with_the_reference_implementation_with_all_some_and_no_fields(client, issuer, licence):
    credential = credential_of(client, issuer, licence["number"])
    jwt_header = json.loads(base64.urlsafe_b64decode(credential.split(".")[0] + "==="))
    assert jwt_header["alg"] == "ES256" and jwt_header["typ"] == "dc+sd-jwt"

    def verified(presentation: str) -> dict:
        return SDJWTVerifier(presentation, lambda iss, header: chain_checked_key(client, header)).get_verified_payload()

    everything = verified(credential)
    assert everything["fields"] == FIELDS
    assert everything["holder"] == {"name": HOLDER["name"], "id_type": "credit-code", "id_masked": "9133**********3P23"}
    assert everything["licence_number"] == licence["number"] and everything["version"] == 1
    assert everything["identifier"] == licence["identifier"]

    some = verified(present(credential, {"premises", "name"}))
    assert some["fields"] == {"premises": FIELDS["premises"]} and some["holder"] == {"name": HOLDER["name"]}
    none = verified(present(credential, set()))
    assert none["fields"] == {} and none["holder"] == {} and none["licence_number"] == licence["number"]
    assert HOLDER["name"] not in base64.urlsafe_b64decode(credential.split(".")[1] + "===").decode()

    tampered = credential.split(".")
    tampered[1] = base64.urlsafe_b64encode(json.dumps({**everything, "version": 9}).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidJWSSignature):
        verified(".".join(tampered))


def test_the_status_list_shows_a_suspension_and_a_revocation_at_once(client, issuer, licence):
    number = licence["number"]
    claims = SDJWTVerifier(
        credential_of(client, issuer, number), lambda iss, header: chain_checked_key(client, header)
    ).get_verified_payload()
    uri, index = claims["status"]["status_list"]["uri"], claims["status"]["status_list"]["idx"]
    assert independent_status(client, uri, index) == 0
    client.post(f"/api/v1/licences/{number}/status", json={"status": "suspended", "reason": "检查"}, headers=issuer)
    assert independent_status(client, uri, index) == 2
    client.post(f"/api/v1/licences/{number}/status", json={"status": "revoked", "reason": "吊销"}, headers=issuer)
    assert independent_status(client, uri, index) == 1
    refused = client.get(f"/api/v1/licences/{number}/credential", headers=issuer)
    assert refused.status_code == 409


def test_a_new_version_invalidates_the_old_credential_and_indexes_are_drawn_at_random(client, issuer, licence):
    number = licence["number"]
    old = SDJWTVerifier(credential_of(client, issuer, number), lambda i, h: chain_checked_key(client, h))
    old_status = old.get_verified_payload()["status"]["status_list"]
    client.post(f"/api/v1/licences/{number}/reissues", json={"reason": "遗失"}, headers=issuer)
    new = SDJWTVerifier(credential_of(client, issuer, number), lambda i, h: chain_checked_key(client, h))
    new_status = new.get_verified_payload()["status"]["status_list"]
    assert new_status["idx"] != old_status["idx"]
    assert independent_status(client, old_status["uri"], old_status["idx"]) == 1
    assert independent_status(client, new_status["uri"], new_status["idx"]) == 0
    indexes = [old_status["idx"], new_status["idx"]]
    for _ in range(4):
        other = client.post(
            "/api/v1/licences", json={"type": "food-business", "holder": HOLDER, "fields": FIELDS}, headers=issuer
        ).get_json()
        claims = SDJWTVerifier(
            credential_of(client, issuer, other["number"]), lambda i, h: chain_checked_key(client, h)
        )
        indexes.append(claims.get_verified_payload()["status"]["status_list"]["idx"])
    assert len(set(indexes)) == 6 and max(indexes) > 1000  # not handed out in order from 0


def test_a_portal_gets_the_credential_only_for_the_holder_it_names_with_their_proof(
    client, registry, issuer, licence, person_proof
):
    registry.agency("hall", region="330100")
    unproven = registry.token("hall", "portal")
    portal = unproven | person_proof(HOLDER)
    number = licence["number"]
    mine = f"?holder_id_type=credit-code&holder_id={HOLDER['id']}"
    assert client.get(f"/api/v1/licences/{number}/credential{mine}", headers=unproven).status_code == 403
    assert client.get(f"/api/v1/licences/{number}/credential", headers=portal).status_code == 403
    other = "?holder_id_type=resident-id&holder_id=440106199001011235"
    assert client.get(f"/api/v1/licences/{number}/credential{other}", headers=portal).status_code == 403
    mine = f"?holder_id_type=credit-code&holder_id={HOLDER['id']}"
    assert credential_of(client, portal, number, mine).count("~") == 1 + 3 + len(FIELDS)
    log = client.get(f"/api/v1/access-log?id_type=credit-code&id={HOLDER['id']}", headers=OPERATOR).get_json()
    assert [line["agency"] for line in log["items"]] == ["hall"]  # the handing over is in the holder's log


def test_verify_offline_sees_a_revocation_on_its_next_list_fetch(client, clock, issuer, tmp_path):
    # The offline check runs at the real time (certificates are made at it), so the licence is issued then too.
    clock.moment = datetime.now(UTC)
    body = {"type": "food-business", "holder": HOLDER, "fields": FIELDS}
    number = client.post("/api/v1/licences", json=body, headers=issuer).get_json()["number"]
    credential = credential_of(client, issuer, number)
    (tmp_path / "roots.pem").write_bytes(client.get("/api/v1/pki/roots").data)
    (tmp_path / "licence.sd-jwt").write_text(credential + "\n" + present(credential, {"premises"}) + "\n")
    uri = json.loads(base64.urlsafe_b64decode(credential.split(".")[1] + "==="))["status"]["status_list"]["uri"]
    path = uri.split("/api/v1/", 1)[1]

    def fetch_and_check() -> subprocess.CompletedProcess:
        (tmp_path / "list.jwt").write_bytes(client.get(f"/api/v1/{path}").data)
        command = [str(VENV_BIN / "hub"), "verify-offline", "--roots", str(tmp_path / "roots.pem")]
        command += ["--list", str(tmp_path / "list.jwt"), str(tmp_path / "licence.sd-jwt")]
        return subprocess.run(command, capture_output=True, text=True, timeout=120)

    first = fetch_and_check()
    assert first.returncode == 0, first.stderr
    assert first.stdout.count(f": valid {number} version 1") == 2
    client.post(f"/api/v1/licences/{number}/status", json={"status": "revoked", "reason": "吊销"}, headers=issuer)
    second = fetch_and_check()
    assert second.returncode == 1 and second.stdout.count(": invalid") == 2, second.stdout

    jwt, first_disclosure = credential.split("~")[:2]
    foreign = base64.urlsafe_b64encode(json.dumps(["c2FsdA", "seats", 999]).encode()).rstrip(b"=").decode()
    (tmp_path / "licence.sd-jwt").write_text(f"{jwt}~{first_disclosure}~{foreign}~\n")  # a disclosure added
    third = fetch_and_check()
    assert third.returncode == 1 and "unverifiable" in third.stdout and "not part of this credential" in third.stdout


def test_only_the_issuers_seal_and_the_hubs_seal_make_credentials_and_lists_that_check(
    app, client, clock, registry, issuer
):
    """The review's forgeries: another agency's seal (it chains to the same roots) signing a credential that names
    market as its issuer, or a status list; and malformed tokens, which are judged, never crash the checker."""
    from certs import credential_check, jws
    from hub.context import Context
    from hub.registry import agencies

    clock.moment = datetime.now(UTC)  # checked at the real time, as the certificates were made then
    registry.agency("health", region="330100")
    state = app.extensions["hub"]
    health = agencies.get_agency(state.store, "health")
    other_key, other_chain = state.seals.agency_jws_key(health, Context.system("test"))
    body = {"type": "food-business", "holder": HOLDER, "fields": FIELDS}
    number = client.post("/api/v1/licences", json=body, headers=issuer).get_json()["number"]
    genuine = credential_of(client, issuer, number)
    payload = json.loads(base64.urlsafe_b64decode(genuine.split(".")[1] + "==="))
    anchors = credential_check.Anchors.from_pem(client.get("/api/v1/pki/roots").data)
    uri = payload["status"]["status_list"]["uri"]
    at = datetime.fromtimestamp(payload["iat"], UTC)
    lists = {
        uri: credential_check.load_status_list(
            client.get(uri.split(":8000", 1)[-1]).get_data(as_text=True), anchors, at
        )
    }
    assert credential_check.check_credential(genuine, anchors, lists, at).verdict == "valid"

    forged = jws.sign_compact(payload, other_key, other_chain, {"typ": "dc+sd-jwt"}) + "~" + genuine.split("~", 1)[1]
    outcome = credential_check.check_credential(forged, anchors, lists, at)
    assert outcome.verdict == "unverifiable" and "'market'" in outcome.reason
    forged_list = jws.sign_compact(
        {"sub": uri, "exp": payload["iat"] + 999, "status_list": {"bits": 2, "lst": "eJwDAAAAAAE"}},
        other_key,
        other_chain,
        {"typ": "statuslist+jwt"},
    )
    with pytest.raises(credential_check.CheckFailed, match="hub's seal"):
        credential_check.load_status_list(forged_list, anchors, at)

    jwt = genuine.split("~")[0]
    malformed = [
        base64.urlsafe_b64encode(b"[1]").rstrip(b"=").decode() + "." + jwt.split(".", 1)[1],  # header not an object
        jwt + "~" + base64.urlsafe_b64encode(b'{"a": 1, "b": 2, "c": 3}').rstrip(b"=").decode() + "~",
        jwt + "~é~",
        "not a token at all",
    ]
    for token in malformed:
        assert credential_check.check_credential(token, anchors, lists, at).verdict == "unverifiable", token
