"""A stand-in S3 server on 127.0.0.1 for the blob store tests: moto's server (an emulator of the S3 API).

Ceph's radosgw on these machines is Debian 12's Pacific release, which serves only from a whole Ceph
cluster (its standalone ``dbstore`` backend came later), and MinIO is neither packaged here nor
licensed for us (AGPL); moto's server speaks S3 over real HTTP to the real boto3 client, conditional
writes included, which is what the blob store suite needs.
"""

from __future__ import annotations

import secrets
import socket

ACCESS = {
    "AWS_ACCESS_KEY_ID": "hub-tests",
    "AWS_SECRET_ACCESS_KEY": "hub-tests-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class S3Server:
    """One emulated S3 endpoint; ``bucket()`` makes a fresh bucket and gives its name."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer  # heavy: loaded only by the tests that start one

        self.port = _free_port()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        """What a hub (or boto3 in the tests) is given to reach this server."""
        return {**ACCESS, "AWS_ENDPOINT_URL": self.url}

    def start(self) -> S3Server:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=ACCESS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=ACCESS["AWS_SECRET_ACCESS_KEY"],
            region_name=ACCESS["AWS_DEFAULT_REGION"],
        )

    def bucket(self) -> str:
        name = f"hub-{secrets.token_hex(6)}"
        self.client().create_bucket(Bucket=name)
        return name
