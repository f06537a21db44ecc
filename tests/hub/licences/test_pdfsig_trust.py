"""An outside validator with the hub's root as its only trust anchor: poppler's pdfsig over NSS trusts
a licence's seal, fetching revocation data from the hub's OCSP responder named in the certificate."""

from __future__ import annotations

import json
import subprocess

import requests


def test_pdfsig_with_the_hub_root_trusts_the_seal_of_a_served_hub(hub, tmp_path):
    tokens = json.loads((hub.data_dir / "demo-tokens.json").read_text())
    issuer = {"Authorization": f"Bearer {tokens['prov-market']}"}
    body = {
        "type": "business-licence",
        "holder": {"id_type": "credit-code", "id": "91330100MA2PDFTJ5T", "name": "验证测试有限公司"},
        "fields": {
            "enterprise_name": "验证测试有限公司",
            "credit_code": "91330100MA2PDFTJ5T",
            "legal_representative": "王五",
        },
    }
    licence = requests.post(hub.url + "/api/v1/licences", json=body, headers=issuer, timeout=30)
    assert licence.status_code == 201, licence.text
    pdf = requests.get(licence.json()["pdf_url"], headers=issuer, timeout=30).content
    (tmp_path / "licence.pdf").write_bytes(pdf)
    (tmp_path / "roots.pem").write_bytes(requests.get(hub.url + "/api/v1/pki/roots", timeout=10).content)
    database = f"sql:{tmp_path}"
    subprocess.run(["certutil", "-N", "-d", database, "--empty-password"], check=True)
    subprocess.run(
        ["certutil", "-A", "-d", database, "-n", "hub-root", "-t", "C,C,C", "-i", str(tmp_path / "roots.pem")],
        check=True,
    )
    out = subprocess.run(
        ["pdfsig", "-nssdir", database, str(tmp_path / "licence.pdf")], capture_output=True, text=True, check=False
    ).stdout
    assert "Signature is Valid." in out and "Certificate is Trusted." in out, out
