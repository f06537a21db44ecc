"""RFC 3161 timestamps with SM2 and SM3 (issue 22): made by the hub's SM2 TSA, checked by the hub, and the TSA's
signature and digest recomputed by OpenSSL on its own."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from asn1crypto import cms, tsp
from sm2_support import MOMENT, Sm2Pki, openssl_checks
from test_tsa_authority import TimeStampResp  # a reply whose token may be absent, as a rejection's is

from certs import sm2_tsa
from certs.authority import Profile
from certs.sm2 import Sm2Key, sm3
from certs.sm2_authority import issue, name

WHEN = MOMENT + dt.timedelta(hours=3)


@pytest.fixture(scope="module")
def sm2_pki() -> Sm2Pki:
    return Sm2Pki()


def authority_of(pki: Sm2Pki, profile: Profile = Profile.TSA) -> sm2_tsa.Sm2TimeStampAuthority:
    key = Sm2Key.generate()
    certificate = issue(pki.issuer, profile, name("政务服务平台时间戳服务"), key.public_key, MOMENT, 77)
    return sm2_tsa.Sm2TimeStampAuthority(key, certificate)


def test_a_token_vouches_for_its_data_at_its_time(sm2_pki: Sm2Pki) -> None:
    authority = authority_of(sm2_pki)
    token = sm2_tsa.token_for(authority, b"the seal's signature value", WHEN)
    checked = sm2_tsa.check_token(token, b"the seal's signature value", [sm2_pki.root], [sm2_pki.issuing])
    assert checked.time == WHEN and checked.authority.dump() == authority.certificate.dump()
    with pytest.raises(sm2_tsa.TokenRefused, match="over other data"):
        sm2_tsa.check_token(token, b"another value", [sm2_pki.root], [sm2_pki.issuing])


def test_openssl_recomputes_the_digest_and_the_tsas_signature(sm2_pki: Sm2Pki, openssl: str, tmp_path: Path) -> None:
    authority = authority_of(sm2_pki)
    token = sm2_tsa.token_for(authority, b"value", WHEN)
    signed = cms.ContentInfo.load(token)["content"]
    info = signed["encap_content_info"]["content"].contents
    (tmp_path / "tstinfo").write_bytes(info)
    digest = subprocess.run([openssl, "dgst", "-sm3", "-binary", "tstinfo"], cwd=tmp_path, capture_output=True,
                            timeout=60, check=True).stdout  # fmt: skip
    attributes = {a["type"].native: a["values"][0] for a in signed["signer_infos"][0]["signed_attrs"]}
    assert bytes(attributes["message_digest"]) == digest
    assert tsp.TSTInfo.load(info)["message_imprint"]["hash_algorithm"]["algorithm"].dotted == "1.2.156.10197.1.401"
    signature = bytes(signed["signer_infos"][0]["signature"])
    key = authority.key.public_key
    assert openssl_checks(openssl, tmp_path, key, sm2_tsa.signed_attributes_of(token), signature)
    parsed = subprocess.run([openssl, "cms", "-cmsout", "-inform", "DER", "-print", "-noout"], input=token,
                            capture_output=True, timeout=60, check=False)  # fmt: skip
    assert parsed.returncode == 0 and b"id-smime-ct-TSTInfo" in parsed.stdout


def test_a_changed_token_is_refused(sm2_pki: Sm2Pki) -> None:
    token = sm2_tsa.token_for(authority_of(sm2_pki), b"value", WHEN)
    content = cms.ContentInfo.load(token)
    info = tsp.TSTInfo.load(content["content"]["encap_content_info"]["content"].contents)
    info["gen_time"] = WHEN - dt.timedelta(days=400)  # backdated
    content["content"]["encap_content_info"]["content"] = cms.ParsableOctetString(info.dump(force=True))
    with pytest.raises(sm2_tsa.TokenRefused, match="content was changed"):
        sm2_tsa.check_token(content.dump(force=True), b"value", [sm2_pki.root], [sm2_pki.issuing])


def test_only_a_trusted_time_stamping_certificate_makes_a_token(sm2_pki: Sm2Pki) -> None:
    seal_signed = sm2_tsa.token_for(authority_of(sm2_pki, Profile.SEAL), b"value", WHEN)
    with pytest.raises(sm2_tsa.TokenRefused, match="not one for time-stamping"):
        sm2_tsa.check_token(seal_signed, b"value", [sm2_pki.root], [sm2_pki.issuing])
    look_alike = Sm2Pki()
    foreign = sm2_tsa.token_for(authority_of(look_alike), b"value", WHEN)
    with pytest.raises(sm2_tsa.TokenRefused, match="not trusted"):
        sm2_tsa.check_token(foreign, b"value", [sm2_pki.root], [sm2_pki.issuing])


@pytest.mark.parametrize("token", [b"", b"\x30\x00", b"not a token"])
def test_what_is_not_a_token_is_refused_plainly(sm2_pki: Sm2Pki, token: bytes) -> None:
    with pytest.raises(sm2_tsa.TokenRefused, match="not an SM2 timestamp token that can be read"):
        sm2_tsa.check_token(token, b"value", [sm2_pki.root])


def test_the_tsa_answers_requests_over_sm3_and_refuses_the_rest_plainly(sm2_pki: Sm2Pki) -> None:
    authority = authority_of(sm2_pki)

    def request(digest: bytes, algorithm: str = "1.2.156.10197.1.401", **more: object) -> bytes:
        imprint = {"hash_algorithm": {"algorithm": algorithm}, "hashed_message": digest}
        return tsp.TimeStampReq({"version": "v1", "message_imprint": imprint, "cert_req": True, **more}).dump()

    assert sm2_tsa.asks_for_sm3(request(sm3(b"value"))) and not sm2_tsa.asks_for_sm3(b"not a request")
    granted = tsp.TimeStampResp.load(sm2_tsa.respond_der(authority, request(sm3(b"value"), nonce=7), WHEN))
    assert granted["status"]["status"].native == "granted"
    token = granted["time_stamp_token"]
    assert tsp.TSTInfo.load(token["content"]["encap_content_info"]["content"].contents)["nonce"].native == 7
    assert sm2_tsa.check_token(token.dump(), b"value", [sm2_pki.root], [sm2_pki.issuing]).time == WHEN
    for bad, failure in (
        (request(b"\x00" * 20), "bad_alg"),
        (request(sm3(b"value"), req_policy="1.2.3.4"), "unaccepted_policy"),
        (b"\x30\x03\x02\x01\x01", "bad_data_format"),
    ):
        refused = TimeStampResp.load(sm2_tsa.respond_der(authority, bad, WHEN))
        assert refused["status"]["status"].native == "rejection"
        assert refused["status"]["fail_info"].native == {failure}
