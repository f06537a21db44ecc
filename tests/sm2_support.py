"""An SM2 test PKI made as the hub makes it (issue 22), and PEM files for OpenSSL, shared by the SM2 tests."""

from __future__ import annotations

import base64
import datetime as dt
import subprocess
from pathlib import Path

from certs.authority import Profile, PublicUrls
from certs.sm2 import DEFAULT_SIGNER_ID, Sm2Key, Sm2PublicKey
from certs.sm2_authority import Sm2Issuer, issue, name, self_signed_root

MOMENT = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
URLS = PublicUrls("https://hub.example.gov.cn")
DISTID = f"distid:{DEFAULT_SIGNER_ID.decode()}"


def pem(der: bytes, label: str) -> str:
    return f"-----BEGIN {label}-----\n{base64.encodebytes(der).decode()}-----END {label}-----\n"


class Sm2Pki:
    """An SM2 root, issuing CA, an agency's seal certificate and a seal maker's certificate."""

    def __init__(self, root_name: str = "政务服务平台 SM2 根证书") -> None:
        self.root_key, self.issuing_key, self.seal_key = Sm2Key.generate(), Sm2Key.generate(), Sm2Key.generate()
        self.root = self_signed_root(name(root_name, "省政务服务平台"), self.root_key, MOMENT, 1)
        self.root_issuer = Sm2Issuer(self.root, self.root_key, "sm2-root", URLS)
        subject = name("政务服务平台 SM2 签发证书", "省政务服务平台")
        self.issuing = issue(self.root_issuer, Profile.ISSUING, subject, self.issuing_key.public_key, MOMENT, 2)
        self.issuer = Sm2Issuer(self.issuing, self.issuing_key, "sm2-issuing", URLS)
        agency = name("广东省市场监督管理局电子印章", "广东省市场监督管理局", "440000", "GD-SCJG")
        self.seal = issue(self.issuer, Profile.SEAL, agency, self.seal_key.public_key, MOMENT, 3)
        self.maker_key = Sm2Key.generate()
        maker = name("政务服务平台印章制作系统", "省政务服务平台")
        self.maker = issue(self.issuer, Profile.SEAL, maker, self.maker_key.public_key, MOMENT, 4)


def openssl_checks(openssl: str, folder: Path, key: Sm2PublicKey, signed: bytes, signature: bytes) -> bool:
    """Whether OpenSSL finds ``signature`` to be ``key``'s over ``signed`` (SM3, the standard ID)."""
    (folder / "signer.pem").write_text(pem(key.spki().dump(), "PUBLIC KEY"))
    (folder / "signed").write_bytes(signed)
    (folder / "signature").write_bytes(signature)
    command = [openssl, "dgst", "-sm3", "-verify", "signer.pem", "-sigopt", DISTID, "-signature", "signature", "signed"]
    checked = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=60, check=False)
    return checked.returncode == 0 and "Verified OK" in checked.stdout
