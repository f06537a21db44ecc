"""HUB_TSA_URL: signature timestamps come from an RFC 3161 TSA over HTTP (here another hub process
sharing the store, whose TSA route is a real HTTP endpoint); when it is down, sealing is a 503."""

from __future__ import annotations

import io

from certs_support import simple_pdf
from testbed import ADMIN_TOKEN, store_env

from hub import create_app


def seal(client, token):
    return client.post(
        "/api/v1/signatures",
        data={"file": (io.BytesIO(simple_pdf("Notice")), "n.pdf")},
        headers=token,
        content_type="multipart/form-data",
    )


def test_seals_are_timestamped_by_the_configured_tsa(app, settings, registry, served_hub_factory):
    registry.agency("market", region="330100", name="杭州市市场监督管理局")  # makes the PKI in the store
    token = registry.token("market", "agency")
    tsa_hub = served_hub_factory(settings.data_dir, HUB_ADMIN_TOKEN=ADMIN_TOKEN, **store_env(settings)).start()
    client = create_app(settings=settings.with_overrides({"tsa_url": tsa_hub.url + "/api/v1/pki/tsa"})).test_client()

    sealed = seal(client, token)
    assert sealed.status_code == 201, sealed.get_json()
    report = client.post(
        "/api/v1/verifications", data={"file": (io.BytesIO(sealed.data), "n.pdf")}, content_type="multipart/form-data"
    ).get_json()["signatures"][0]
    assert report["indication"] == "passed" and report["timestamp"]
    assert report["checks"]["timestamp"]["outcome"] == "passed"

    tsa_hub.stop()
    refused = seal(client, token)
    assert refused.status_code == 503 and refused.mimetype == "application/problem+json"
    assert "time-stamping authority" in refused.get_json()["detail"]
