"""OFD packages sealed per GB/T 33190 §18 with GB/T 38540 seals (issue 22), and read from strangers with caps.

OpenSSL recomputes, on its own, the SM3 digest the sealed signature holds and the signer's SM2 signature. A
changed byte, a changed page, an added part, a seal copied from another licence and a look-alike SM2 CA are
each judged not valid; a zip bomb, an entity-expansion part and names that climb out of the package are refused
before anything is parsed.
"""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import zipfile
from pathlib import Path

import pytest
from sm2_support import MOMENT, Sm2Pki, openssl_checks

from certs import ofd_package, ofd_seal, ses
from certs.ofd_package import OfdError

NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'
XML = '<?xml version="1.0" encoding="UTF-8"?>'
WHEN = MOMENT + dt.timedelta(hours=1)
STAMP = ofd_seal.Stamp(0, (150.0, 225.0, 42.0, 42.0))


def document(text: str = "食品经营许可证") -> dict[str, bytes]:
    """A one-page OFD document: the parts of the package."""
    return {
        "OFD.xml": (
            f'{XML}<ofd:OFD {NS} Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocInfo><ofd:DocID>'
            "6f2c0e9a</ofd:DocID></ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
        ).encode(),
        "Doc_0/Document.xml": (
            f"{XML}<ofd:Document {NS}><ofd:CommonData><ofd:MaxUnitID>3</ofd:MaxUnitID><ofd:PageArea>"
            "<ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea></ofd:CommonData><ofd:Pages>"
            '<ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages></ofd:Document>'
        ).encode(),
        "Doc_0/Pages/Page_0/Content.xml": (
            f'{XML}<ofd:Page {NS}><ofd:Content><ofd:Layer ID="2"><ofd:TextObject ID="3" Boundary="20 20 170 12"'
            f' Font="4" Size="8"><ofd:TextCode X="0" Y="8">{text}</ofd:TextCode></ofd:TextObject></ofd:Layer>'
            "</ofd:Content></ofd:Page>"
        ).encode(),
    }


@pytest.fixture(scope="module")
def sm2_pki() -> Sm2Pki:
    return Sm2Pki()


def seal_of(pki: Sm2Pki) -> ses.SesSeal:
    picture = ses.SealPicture("png", b"\x89PNG", 42, 42)
    spec = ses.SealSpec("44000011400000001", "广东省市场监督管理局电子证照专用章", picture, [pki.seal], MOMENT,
                        MOMENT + dt.timedelta(days=365))  # fmt: skip
    return ses.make_seal(spec, pki.maker_key, pki.maker, MOMENT)


def sealed(pki: Sm2Pki, parts: dict[str, bytes] | None = None) -> bytes:
    package = ofd_package.write(parts or document())
    return ofd_seal.seal_ofd(package, seal_of(pki), pki.seal_key, pki.seal, STAMP, WHEN)


def trust_of(pki: Sm2Pki) -> ses.SealTrust:
    return ses.SealTrust([pki.root], [pki.issuing])


def changed(package: bytes, replacements: dict[str, bytes]) -> bytes:
    return ofd_package.write({**ofd_package.read(package), **replacements})


def test_a_sealed_ofd_verifies_and_says_where_its_seal_stands(sm2_pki: Sm2Pki) -> None:
    report = ofd_seal.verify_ofd(sealed(sm2_pki), trust_of(sm2_pki))
    [signature] = report.signatures
    assert signature.valid, (signature.failed, signature.uncovered, signature.check and signature.check.failed)
    assert signature.page == 0 and signature.boundary == STAMP.boundary
    assert signature.check is not None and signature.check.seal_name == "广东省市场监督管理局电子证照专用章"
    assert report.parts == 6  # three document parts, the list, Signature.xml and SignedValue.dat


def test_a_second_seal_leaves_the_first_valid(sm2_pki: Sm2Pki) -> None:
    twice = ofd_seal.seal_ofd(sealed(sm2_pki), seal_of(sm2_pki), sm2_pki.seal_key, sm2_pki.seal,
                              ofd_seal.Stamp(0, (20, 225, 42, 42)), WHEN + dt.timedelta(minutes=5))  # fmt: skip
    report = ofd_seal.verify_ofd(twice, trust_of(sm2_pki))
    assert [s.path for s in report.signatures] == [
        "Doc_0/Signs/Sign_0/Signature.xml",
        "Doc_0/Signs/Sign_1/Signature.xml",
    ]
    assert all(signature.valid for signature in report.signatures)


def test_openssl_recomputes_the_digest_and_the_signature(sm2_pki: Sm2Pki, openssl: str, tmp_path: Path) -> None:
    parts = ofd_package.read(sealed(sm2_pki))
    signature_xml = parts["Doc_0/Signs/Sign_0/Signature.xml"]
    value = ses.SesSignature.load(parts["Doc_0/Signs/Sign_0/SignedValue.dat"])
    (tmp_path / "Signature.xml").write_bytes(signature_xml)
    digest = subprocess.run([openssl, "dgst", "-sm3", "-binary", "Signature.xml"], cwd=tmp_path, capture_output=True,
                            timeout=60, check=True).stdout  # fmt: skip
    assert digest == bytes(value["to_sign"]["data_hash"])
    assert value["to_sign"]["property_info"].native == "/Doc_0/Signs/Sign_0/Signature.xml"
    signed, signature = value["to_sign"].dump(), bytes(value["signature"])
    assert openssl_checks(openssl, tmp_path, sm2_pki.seal_key.public_key, signed, signature)


def test_a_changed_byte_or_page_is_not_what_was_sealed(sm2_pki: Sm2Pki) -> None:
    package = sealed(sm2_pki)
    content = ofd_package.read(package)["Doc_0/Pages/Page_0/Content.xml"]
    page = "Doc_0/Pages/Page_0/Content.xml"
    one_byte = changed(package, {page: content.replace(b'Size="8"', b'Size="9"')})  # one byte
    other_page = changed(package, {page: document("另一张许可证")[page]})
    for package_now in (one_byte, other_page):
        [signature] = ofd_seal.verify_ofd(package_now, trust_of(sm2_pki)).signatures
        assert not signature.valid and "references" in signature.failed
        assert "Content.xml is not what was sealed" in signature.failed["references"]


def test_a_part_added_after_sealing_is_named(sm2_pki: Sm2Pki) -> None:
    package = changed(sealed(sm2_pki), {"Doc_0/Res/extra.png": b"\x89PNG added later"})
    [signature] = ofd_seal.verify_ofd(package, trust_of(sm2_pki)).signatures
    assert not signature.valid and signature.uncovered == ["Doc_0/Res/extra.png"] and not signature.failed


def test_a_seal_copied_from_another_licence_is_not_valid(sm2_pki: Sm2Pki) -> None:
    first, second = sealed(sm2_pki), sealed(sm2_pki, document("另一张许可证"))
    copied = ofd_package.read(first)
    value, signature_xml = "Doc_0/Signs/Sign_0/SignedValue.dat", "Doc_0/Signs/Sign_0/Signature.xml"
    value_only = changed(second, {value: copied[value]})
    [signature] = ofd_seal.verify_ofd(value_only, trust_of(sm2_pki)).signatures
    assert signature.check is not None and "data_hash" in signature.check.failed and not signature.valid
    both = changed(second, {value: copied[value], signature_xml: copied[signature_xml]})
    [signature] = ofd_seal.verify_ofd(both, trust_of(sm2_pki)).signatures
    assert signature.check is not None and signature.check.valid  # the seal itself is intact...
    assert "references" in signature.failed and not signature.valid  # ...but it is another document's


def test_a_look_alike_sm2_ca_is_not_trusted(sm2_pki: Sm2Pki) -> None:
    look_alike = Sm2Pki()
    [signature] = ofd_seal.verify_ofd(sealed(look_alike), trust_of(sm2_pki)).signatures
    assert signature.check is not None and {"signer_chain", "maker_chain"} <= set(signature.check.failed)
    assert not signature.valid


def test_a_broken_signature_xml_is_one_failed_seal_not_an_unreadable_file(sm2_pki: Sm2Pki) -> None:
    once = sealed(sm2_pki)
    twice = ofd_seal.seal_ofd(once, seal_of(sm2_pki), sm2_pki.seal_key, sm2_pki.seal, STAMP, WHEN)
    first = "Doc_0/Signs/Sign_0/Signature.xml"
    broken = changed(twice, {first: ofd_package.read(twice)[first][:-40]})  # cut short: not well-formed
    report = ofd_seal.verify_ofd(broken, trust_of(sm2_pki))
    assert [signature.path for signature in report.signatures] == [first, "Doc_0/Signs/Sign_1/Signature.xml"]
    assert "not well-formed" in report.signatures[0].failed["format"] and not report.signatures[0].valid
    assert report.signatures[1].check is not None and report.signatures[1].check.valid  # the other seal is read
    second = "Doc_0/Signs/Sign_1/Signature.xml"
    broken_later = changed(twice, {second: ofd_package.read(twice)[second][:-40]})
    earlier, later = ofd_seal.verify_ofd(broken_later, trust_of(sm2_pki)).signatures
    assert earlier.valid, (earlier.failed, earlier.uncovered)  # the broken seal's folder is its own, not an addition
    assert "format" in later.failed and not later.valid


def test_an_unsealed_package_has_no_signatures(sm2_pki: Sm2Pki) -> None:
    assert ofd_seal.verify_ofd(ofd_package.write(document()), trust_of(sm2_pki)).signatures == []


# -- hostile packages
def zip_of(entries: list[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return out.getvalue()


def test_a_zip_bomb_is_refused_unread() -> None:
    bomb = zip_of([("OFD.xml", b"<x/>"), ("Doc_0/Res/bomb.png", bytes(40 * 1024 * 1024))])
    assert len(bomb) < 100 * 1024
    with pytest.raises(OfdError, match="larger than an OFD part may be"):
        ofd_package.read(bomb)
    ratio_bomb = zip_of([("OFD.xml", b"<x/>"), ("Doc_0/Res/dense.xml", bytes(8 * 1024 * 1024))])
    with pytest.raises(OfdError, match="compressed past"):
        ofd_package.read(ratio_bomb)


def test_an_entity_expansion_part_is_refused() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE ofd:OFD [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
        b'<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"><ofd:DocBody><ofd:DocRoot>&d;</ofd:DocRoot></ofd:DocBody></ofd:OFD>'
    )
    with pytest.raises(OfdError, match="declares what an OFD part may not"):
        ofd_seal.verify_ofd(zip_of([("OFD.xml", laughs)]), ses.SealTrust([]))
    external = b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>'
    with pytest.raises(OfdError, match="declares what an OFD part may not"):
        ofd_package.parse_xml(external, "OFD.xml")


@pytest.mark.parametrize(
    ("entries", "words"),
    [
        ([("OFD.xml", b"<x/>"), ("../escape.xml", b"<x/>")], "outside itself"),
        ([("OFD.xml", b"<x/>"), ("/etc/cron.d/x", b"<x/>")], "outside itself"),
        ([("OFD.xml", b"<x/>"), ("Doc_0\\..\\..\\x", b"<x/>")], "may not have"),
        ([("OFD.xml", b"<x/>"), ("Doc_0/x.xml", b"1"), ("Doc_0/x.xml", b"2")], "twice"),
        ([("Doc_0/Document.xml", b"<x/>")], "no OFD.xml"),
    ],
    ids=["climbs-out", "absolute", "backslashes", "duplicate", "no-entry-point"],
)
def test_odd_packages_are_refused(entries: list[tuple[str, bytes]], words: str) -> None:
    with pytest.warns(UserWarning) if words == "twice" else _nothing():
        package = zip_of(entries)
    with pytest.raises(OfdError, match=words):
        ofd_package.read(package)


def test_what_is_not_a_zip_is_refused() -> None:
    with pytest.raises(OfdError, match="not an OFD package"):
        ofd_package.read(b"%PDF-1.7 not a zip")


def test_a_reference_that_climbs_out_is_not_followed() -> None:
    with pytest.raises(OfdError, match="outside the package"):
        ofd_package.resolve("Doc_0/Signs/Sign_0/Signature.xml", "../../../../etc/passwd")
    assert (
        ofd_package.resolve("Doc_0/Signs/Signatures.xml", "Sign_0/Signature.xml") == "Doc_0/Signs/Sign_0/Signature.xml"
    )
    assert ofd_package.resolve("Doc_0/Signs/Signatures.xml", "/Doc_0/Document.xml") == "Doc_0/Document.xml"


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
