"""``hub pki``: the operator's seal commands, run as a separate process against the hub's store."""

from __future__ import annotations

import datetime as dt
import json

from certs_support import TestPki
from cryptography import x509
from cryptography.hazmat.primitives import serialization


def test_roots_seal_renew_and_revoke(hub_cli, client, registry):
    registry.agency("market", region="330100", name="杭州市市场监督管理局")
    roots = hub_cli("pki", "roots", check=True).stdout
    assert roots == client.get("/api/v1/pki/roots").get_data(as_text=True)
    shown = json.loads(hub_cli("pki", "seal", "market", check=True).stdout)
    assert shown["serial"] == client.get("/api/v1/pki/seals/market").get_json()["serial"]
    renewed = hub_cli("pki", "renew-seal", "market", check=True).stdout
    current = client.get("/api/v1/pki/seals/market").get_json()
    assert current["serial"] in renewed and current["serial"] != shown["serial"]
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    revoked = hub_cli("pki", "revoke-seal", "market", "--since", since, check=True).stdout
    assert current["serial"] in revoked and "key_compromise" in revoked
    crl = x509.load_der_x509_crl(client.get("/api/v1/pki/crl/issuing.crl").data)
    entry = crl.get_revoked_certificate_by_serial_number(int(current["serial"], 16))
    assert entry is not None and entry.revocation_date_utc.strftime("%Y-%m-%dT%H:%M:%S+00:00") == since


def test_plain_messages_for_bad_input(hub_cli, registry, tmp_path):
    registry.agency("market", region="330100")
    unknown = hub_cli("pki", "seal", "nobody")
    assert unknown.returncode != 0 and "nobody" in unknown.stderr and "Traceback" not in unknown.stderr
    garbage = tmp_path / "seal.p12"
    garbage.write_bytes(b"not a pkcs12 file")
    refused = hub_cli("pki", "import-seal", "market", "--pkcs12", str(garbage))
    assert refused.returncode != 0 and "cannot read the seal" in refused.stderr and "Traceback" not in refused.stderr


def test_import_seal_from_pem_files(hub_cli, client, registry, tmp_path):
    registry.agency("market", region="330100")
    outside = TestPki(name="Outside")
    key, certificate = outside.seal()
    chain = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (certificate, outside.root, outside.issuing))
    (tmp_path / "seal.pem").write_bytes(chain)  # CA certificates in any order: the command sorts them
    (tmp_path / "seal.key").write_bytes(
        key.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    result = hub_cli(
        "pki", "import-seal", "market", "--cert", str(tmp_path / "seal.pem"), "--key", str(tmp_path / "seal.key")
    )
    assert result.returncode == 0, result.stderr
    assert client.get("/api/v1/pki/seals/market").get_json()["serial"] == format(certificate.serial_number, "x")
    assert client.get("/api/v1/pki/roots").get_data(as_text=True).count("BEGIN CERTIFICATE") == 2
