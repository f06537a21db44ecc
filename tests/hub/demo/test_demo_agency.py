"""The demo's stand-in agency service: a client that hangs up is normal and prints no traceback."""

from __future__ import annotations

import socket
import struct
import time

import requests

from hub.demo.agency import StandInAgency


def test_a_client_resetting_its_connection_prints_no_traceback(capsys):
    service = StandInAgency({"identity": {"1": {"name": "张三"}}}).start()
    try:
        host, port = service.server.server_address
        with socket.create_connection((host, port)) as client:
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = RST
        time.sleep(0.3)
        assert requests.get(f"{service.url}/identity/1?type=identity", timeout=5).status_code in {200, 404}
    finally:
        service.stop()
    assert "Traceback" not in capsys.readouterr().err
