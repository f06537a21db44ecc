"""The SM2 side of the hub's PKI (issue 22): its SM2 CAs published beside the P-256 ones, CRLs signed with SM2,
keys encrypted at rest, made once per store. OpenSSL checks every signature with the standard SM2 ID."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

from asn1crypto import crl as asn1_crl
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from sm2_support import openssl_checks, pem
from testbed import everything_in

from certs import sm2_tsa
from certs.sm2 import DEFAULT_SIGNER_ID, Sm2Key, Sm2PublicKey
from hub.licences.sm2_pki import ISSUING, MAKER, ROOT, TSA, Sm2Pki
from hub.store import keys

BASE = "http://127.0.0.1:8000"


def fetched(client, path: str) -> bytes:
    answer = client.get(path)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.data


def test_the_sm2_cas_are_published_and_chain_as_openssl_checks_them(client, tmp_path: Path) -> None:
    root = asn1_x509.Certificate.load(fetched(client, "/api/v1/pki/ca/sm2-root.crt"))
    issuing = asn1_x509.Certificate.load(fetched(client, "/api/v1/pki/ca/sm2-issuing.crt"))
    assert root.subject.native["common_name"] == "Government Service Hub SM2 Root CA" and root.self_signed == "maybe"
    assert issuing.issuer == root.subject and issuing.ca and root.ca
    assert issuing.crl_distribution_points[0].url == f"{BASE}/api/v1/pki/crl/sm2-root.crl"
    (tmp_path / "root.pem").write_text(pem(root.dump(), "CERTIFICATE"))
    (tmp_path / "issuing.pem").write_text(pem(issuing.dump(), "CERTIFICATE"))
    checked = subprocess.run(
        ["openssl", "verify", "-vfyopt", f"distid:{DEFAULT_SIGNER_ID.decode()}", "-partial_chain", "-CAfile",
         "root.pem", "issuing.pem"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert checked.returncode == 0 and "issuing.pem: OK" in checked.stdout, checked.stdout + checked.stderr


def test_the_sm2_crls_are_signed_by_their_ca(client, tmp_path: Path) -> None:
    for name in ("sm2-root", "sm2-issuing"):
        ca = asn1_x509.Certificate.load(fetched(client, f"/api/v1/pki/ca/{name}.crt"))
        answer = client.get(f"/api/v1/pki/crl/{name}.crl")
        assert answer.status_code == 200 and answer.mimetype == "application/pkix-crl"
        crl = asn1_crl.CertificateList.load(answer.data)
        assert crl.issuer == ca.subject and crl["signature_algorithm"]["algorithm"].dotted == "1.2.156.10197.1.501"
        key = Sm2PublicKey.from_spki(ca.public_key)
        assert openssl_checks("openssl", tmp_path, key, crl["tbs_cert_list"].dump(), bytes(crl["signature"]))


def test_a_revoked_sm2_certificate_is_on_its_cas_crl_only(app, client, store) -> None:
    state = app.extensions["hub"]
    maker = state.sm2_pki.authority.maker
    entry = {"revoked_at": "2026-03-02T09:30:00+00:00", "reason": "key_compromise", "issued_by": ISSUING}
    store.atomic(lambda tx: tx.hash_set_json_many(keys.pki_revoked(), {format(maker.serial_number, "x"): entry}))
    store.atomic(lambda tx: tx.set_json(keys.pki_revocation_version(), 1))
    issuing_crl = asn1_crl.CertificateList.load(fetched(client, "/api/v1/pki/crl/sm2-issuing.crl"))
    listed = [r["user_certificate"].native for r in issuing_crl["tbs_cert_list"]["revoked_certificates"]]
    assert listed == [maker.serial_number]
    root_crl = asn1_crl.CertificateList.load(fetched(client, "/api/v1/pki/crl/sm2-root.crl"))
    assert not root_crl["tbs_cert_list"]["revoked_certificates"].native
    p256 = fetched(client, "/api/v1/pki/crl/issuing.crl")  # the P-256 CA does not list another CA's serial
    assert format(maker.serial_number, "x").encode() not in p256


def test_the_keys_rest_encrypted_and_no_private_key_is_in_the_store(app, store) -> None:
    state = app.extensions["hub"]
    loaded = state.sm2_pki.authority
    stored = store.get_json(keys.pki_authority("sm2"))
    assert set(stored) == {ROOT, ISSUING, MAKER, TSA}
    for role in stored.values():
        assert role["key"].startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    everything = everything_in(store)  # as an attacker with a copy of Redis would look: in any form, anywhere
    for key in (loaded.root_key, loaded.issuing_key, loaded.maker_key, loaded.tsa_key):
        secret = key.private_bytes()
        assert secret not in everything and secret.hex().encode() not in everything
        assert base64.b64encode(key.pkcs8())[24:64] not in everything  # nor the key unencrypted in PEM's base64
        assert Sm2Key.from_pkcs8(key.pkcs8()).public_key == key.public_key


def test_the_authorities_are_made_once_per_store(app) -> None:
    state = app.extensions["hub"]
    first = state.sm2_pki.authority
    again = Sm2Pki(state.pki).authority  # another process's view of the same store
    assert again.root.dump() == first.root.dump() and again.maker.dump() == first.maker.dump()
    assert again.issuing_key.public_key == first.issuing_key.public_key


def test_an_unknown_ca_is_not_found(client) -> None:
    for path in ("/api/v1/pki/ca/sm2-maker.crt", "/api/v1/pki/crl/sm2-nothing.crl"):
        answer = client.get(path)
        assert answer.status_code == 404 and answer.mimetype == "application/problem+json"


def test_the_tsa_answers_an_sm3_request_with_sm2(app, client, tmp_path: Path) -> None:
    (tmp_path / "data").write_bytes("电子证照 SM2 timestamp".encode())
    made = subprocess.run(
        ["openssl", "ts", "-query", "-data", "data", "-sm3", "-cert", "-out", "request.tsq"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr  # OpenSSL makes the request: an SM3 imprint, the certificate asked for
    answer = client.post(
        "/api/v1/pki/tsa", data=(tmp_path / "request.tsq").read_bytes(), content_type="application/timestamp-query"
    )
    assert answer.status_code == 200 and answer.mimetype == "application/timestamp-reply"
    reply = tsp.TimeStampResp.load(answer.data)
    assert reply["status"]["status"].native == "granted"
    token = reply["time_stamp_token"].dump()
    state = app.extensions["hub"]
    authority = state.sm2_pki.authority
    checked = sm2_tsa.check_token(token, (tmp_path / "data").read_bytes(), [authority.root], [authority.issuing])
    assert checked.authority.dump() == authority.tsa.dump()
    signature = bytes(reply["time_stamp_token"]["content"]["signer_infos"][0]["signature"])
    key = Sm2PublicKey.from_spki(authority.tsa.public_key)
    assert openssl_checks("openssl", tmp_path, key, sm2_tsa.signed_attributes_of(token), signature)
    sha256 = subprocess.run(
        ["openssl", "ts", "-query", "-data", "data", "-sha256", "-out", "p256.tsq"],
        cwd=tmp_path,
        check=True,
        timeout=60,
    )
    assert sha256.returncode == 0  # and a SHA-256 request still goes to the P-256 TSA
    p256 = client.post(
        "/api/v1/pki/tsa", data=(tmp_path / "p256.tsq").read_bytes(), content_type="application/timestamp-query"
    )
    signed = tsp.TimeStampResp.load(p256.data)["time_stamp_token"]["content"]["signer_infos"][0]
    assert signed["signature_algorithm"]["algorithm"].dotted != "1.2.156.10197.1.501"
