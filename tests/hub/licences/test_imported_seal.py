"""A seal issued by an outside CA, imported by the operator: documents it seals validate, its
revocation data fetched from that CA's own CRL URL and embedded for offline validation."""

from __future__ import annotations

import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from certs_support import TestPki, simple_pdf
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from testbed import free_port

from certs import authority
from hub.context import Context
from hub.errors import Invalid


@pytest.fixture
def outside_ca():
    port = free_port()
    ca = TestPki(name="Outside", urls=authority.PublicUrls(f"http://127.0.0.1:{port}"))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            issuing, root = ca.crls()
            body = {"/api/v1/pki/crl/issuing.crl": issuing, "/api/v1/pki/crl/root.crl": root}.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/pkix-crl")
            self.end_headers()
            self.wfile.write(body or b"")

        def do_POST(self):  # no OCSP here: validators fall back to the CRL
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield ca
    server.shutdown()


def test_imported_pkcs12_seal_signs_documents_that_verify(app, client, registry, outside_ca):
    registry.agency("market", region="330100", name="杭州市市场监督管理局")
    key, certificate = outside_ca.seal("杭州市市场监督管理局")
    bundle = pkcs12.serialize_key_and_certificates(
        b"seal",
        key.private_key,
        certificate,
        [outside_ca.issuing, outside_ca.root],
        serialization.BestAvailableEncryption(b"p12-password"),
    )
    loaded_key, loaded_cert, chain = pkcs12.load_key_and_certificates(bundle, b"p12-password")
    state = app.extensions["hub"]
    agency = {"code": "market", "name": "杭州市市场监督管理局", "region": "330100"}
    seal = state.seals.import_seal(agency, loaded_cert, loaded_key, list(chain), Context("operator"))
    assert seal.serial == format(certificate.serial_number, "x")
    roots = client.get("/api/v1/pki/roots").data.decode()
    assert roots.count("BEGIN CERTIFICATE") == 2  # the hub's root and the outside CA's

    token = registry.token("market", "agency")
    sealed = client.post(
        "/api/v1/signatures",
        data={"file": (io.BytesIO(simple_pdf("Notice")), "n.pdf")},
        headers=token,
        content_type="multipart/form-data",
    )
    assert sealed.status_code == 201, sealed.get_json()
    answer = client.post(
        "/api/v1/verifications", data={"file": (io.BytesIO(sealed.data), "n.pdf")}, content_type="multipart/form-data"
    ).get_json()
    report = answer["signatures"][0]
    assert report["indication"] == "passed", report
    assert "Outside Issuing CA" in report["signer"]["issuer"]


def test_an_import_whose_key_or_chain_does_not_fit_is_refused(app, registry, outside_ca):
    registry.agency("market", region="330100")
    state = app.extensions["hub"]
    agency = {"code": "market", "name": "Agency market", "region": "330100"}
    key, certificate = outside_ca.seal()
    other_key, _ = outside_ca.seal()
    with pytest.raises(Invalid, match="does not belong"):
        state.seals.import_seal(
            agency, certificate, other_key.private_key, [outside_ca.issuing, outside_ca.root], Context("op")
        )
    stranger = TestPki(name="Stranger")
    with pytest.raises(Invalid, match="does not verify"):
        state.seals.import_seal(agency, certificate, key.private_key, [stranger.issuing, stranger.root], Context("op"))
    with pytest.raises(Invalid, match="self-signed root"):
        state.seals.import_seal(agency, certificate, key.private_key, [outside_ca.issuing], Context("op"))
