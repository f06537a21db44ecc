"""GB/T 38540 electronic seals and sealed signatures (issue 22): made with SM2 over SM3, checked step by step.

OpenSSL checks the two signatures inside a sealed signature on its own: the signer's over ``TBS_Sign`` and the
seal maker's over the seal. A changed document, a changed byte, a seal copied from another licence, a seal used
by someone it does not list or outside its dates, and a look-alike seal maker are each judged not valid.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from asn1crypto import core
from sm2_support import MOMENT, Sm2Pki, openssl_checks

from certs import ses
from certs.authority import Profile
from certs.sm2 import Sm2Key
from certs.sm2_authority import issue, name

SIGNED_XML = b'<?xml version="1.0" encoding="UTF-8"?><ofd:Signature xmlns:ofd="http://www.ofdspec.org/2016"/>'
WHERE = "/Doc_0/Signs/Sign_0/Signature.xml"
WHEN = MOMENT + dt.timedelta(hours=2)
PICTURE = ses.SealPicture("png", b"\x89PNG\r\n\x1a\n seal picture", 42, 42)


@pytest.fixture(scope="module")
def sm2_pki() -> Sm2Pki:
    return Sm2Pki()


def seal_of(pki: Sm2Pki, **overrides) -> ses.SesSeal:
    spec = {
        "es_id": "44000011400000001",
        "name": "广东省市场监督管理局电子证照专用章",
        "picture": PICTURE,
        "certificates": [pki.seal],
        "valid_start": MOMENT,
        "valid_end": MOMENT + dt.timedelta(days=365),
    }
    return ses.make_seal(ses.SealSpec(**{**spec, **overrides}), pki.maker_key, pki.maker, MOMENT)


def trust_of(pki: Sm2Pki) -> ses.SealTrust:
    return ses.SealTrust([pki.root], [pki.issuing])


def sealed(pki: Sm2Pki, data: bytes = SIGNED_XML, **overrides) -> bytes:
    return ses.sign(seal_of(pki, **overrides), pki.seal_key, pki.seal, data, WHERE, WHEN)


def test_a_sealed_signature_checks_and_says_what_it_is(sm2_pki: Sm2Pki) -> None:
    check = ses.check_signature(sealed(sm2_pki), SIGNED_XML, trust_of(sm2_pki))
    assert check.valid, check.failed
    assert check.seal_name == "广东省市场监督管理局电子证照专用章" and check.es_id == "44000011400000001"
    assert check.signed_at == WHEN and check.property_info == WHERE and check.picture == PICTURE
    assert check.signer is not None and check.signer.subject == sm2_pki.seal.subject
    assert check.time_stamp is None


def test_openssl_verifies_both_signatures_inside(sm2_pki: Sm2Pki, openssl: str, tmp_path: Path) -> None:
    signature = ses.SesSignature.load(sealed(sm2_pki))
    to_sign, seal = signature["to_sign"], signature["to_sign"]["eseal"]
    signer_value = bytes(signature["signature"])
    assert openssl_checks(openssl, tmp_path, sm2_pki.seal_key.public_key, to_sign.dump(), signer_value)
    maker_signed = ses.SealToSign(
        {"eseal_info": seal["eseal_info"], "cert": seal["cert"], "sign_alg_id": seal["sign_alg_id"]}
    )
    maker_value = bytes(seal["signed_value"])
    assert openssl_checks(openssl, tmp_path, sm2_pki.maker_key.public_key, maker_signed.dump(), maker_value)
    assert not openssl_checks(openssl, tmp_path, sm2_pki.seal_key.public_key, maker_signed.dump(), maker_value)


def test_a_changed_document_is_not_what_was_sealed(sm2_pki: Sm2Pki) -> None:
    check = ses.check_signature(sealed(sm2_pki), SIGNED_XML.replace(b"UTF-8", b"utf-8"), trust_of(sm2_pki))
    assert set(check.failed) == {"data_hash"}


def test_no_changed_byte_of_a_sealed_signature_is_valid(sm2_pki: Sm2Pki) -> None:
    der = sealed(sm2_pki)
    for position in random.Random(38540).sample(range(len(der)), 120):
        changed = bytearray(der)
        changed[position] ^= 0x01
        try:
            check = ses.check_signature(bytes(changed), SIGNED_XML, trust_of(sm2_pki))
        except ses.SesError:
            continue
        assert not check.valid, f"byte {position} changed and still valid"


def test_a_seal_copied_from_another_licence_does_not_make_a_valid_signature(sm2_pki: Sm2Pki) -> None:
    # Someone lifts the seal out of a licence the agency sealed and signs another document with their own key.
    lifted = ses.SesSignature.load(sealed(sm2_pki))["to_sign"]["eseal"]
    forger = Sm2Pki(root_name="政务服务平台 SM2 根证书")  # a look-alike PKI: same names, other keys
    forged = ses.sign(lifted, forger.seal_key, forger.seal, b"<forged/>", WHERE, WHEN)
    check = ses.check_signature(forged, b"<forged/>", trust_of(sm2_pki))
    assert {"signer_chain", "seal_holder"} <= set(check.failed)
    # Or keeps the agency's certificate and signature but swaps in the new document's digest.
    original = ses.SesSignature.load(sealed(sm2_pki))
    original["to_sign"]["data_hash"] = core.OctetBitString(b"\x00" * 32)
    check = ses.check_signature(original.dump(force=True), SIGNED_XML, trust_of(sm2_pki))
    assert {"signature", "data_hash"} <= set(check.failed)


def test_a_seal_used_by_someone_it_does_not_list_is_refused(sm2_pki: Sm2Pki) -> None:
    other_key = Sm2Key.generate()
    other = issue(sm2_pki.issuer, Profile.SEAL, name("另一个机关", "另一个机关"), other_key.public_key, MOMENT, 20)
    der = ses.sign(seal_of(sm2_pki), other_key, other, SIGNED_XML, WHERE, WHEN)
    assert set(ses.check_signature(der, SIGNED_XML, trust_of(sm2_pki)).failed) == {"seal_holder"}


def test_a_seal_used_outside_its_dates_is_refused(sm2_pki: Sm2Pki) -> None:
    expired = sealed(sm2_pki, valid_start=MOMENT - dt.timedelta(days=30), valid_end=MOMENT)
    assert set(ses.check_signature(expired, SIGNED_XML, trust_of(sm2_pki)).failed) == {"seal_validity"}


def test_a_seal_made_by_a_look_alike_maker_is_refused(sm2_pki: Sm2Pki) -> None:
    look_alike = Sm2Pki()
    spec = ses.SealSpec("44000011400000001", "广东省市场监督管理局电子证照专用章", PICTURE, [sm2_pki.seal], MOMENT,
                        MOMENT + dt.timedelta(days=365))  # fmt: skip
    seal = ses.make_seal(spec, look_alike.maker_key, look_alike.maker, MOMENT)
    der = ses.sign(seal, sm2_pki.seal_key, sm2_pki.seal, SIGNED_XML, WHERE, WHEN)
    assert set(ses.check_signature(der, SIGNED_XML, trust_of(sm2_pki)).failed) == {"maker_chain"}


def test_a_time_stamp_rides_along_over_the_signature_value(sm2_pki: Sm2Pki) -> None:
    der = sealed(sm2_pki)
    token = b"\x30\x03\x02\x01\x01"  # stands for an RFC 3161 token: the structure only carries it
    stamped = ses.with_time_stamp(der, token)
    check = ses.check_signature(stamped, SIGNED_XML, trust_of(sm2_pki))
    assert check.valid and check.time_stamp == token
    assert ses.signature_value_of(stamped) == ses.signature_value_of(der)


@pytest.mark.parametrize("der", [b"", b"\x30\x00", b"\x30\x80" + b"\x00" * 10, b"not asn.1 at all"])
def test_what_is_not_a_sealed_signature_is_refused_plainly(sm2_pki: Sm2Pki, der: bytes) -> None:
    with pytest.raises(ses.SesError, match="not a GB/T 38540 sealed signature"):
        ses.check_signature(der, SIGNED_XML, trust_of(sm2_pki))
