"""A stand-in agency HTTP service on 127.0.0.1 for connector tests, with a behaviour per evidence type.

URLs look like ``/<behaviour>/<id_type>/<subject_id>``; every request is recorded (path and headers) so
tests can check what the connector sent. ``stop()`` releases any handler that is hanging or trickling,
then joins every thread it started.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

RECORD = {"full_name": "Li Wei", "born": "1990-01-02", "internal_ref": "X-77"}


class FakeDns:
    """A resolver whose answers a test can change, as an attacker controlling a domain could."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = list(addresses)

    def __call__(self, host: str, port: int) -> list[str]:
        if not self.addresses:
            raise OSError("no such host")
        return list(self.addresses)


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the handlers: none outlives the test
    block_on_close = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Connectors reset connections they give up on (oversized, too slow): expected, not worth a traceback.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class AgencyStub:
    """One stand-in agency on a free port; ``other_url`` is where the ``redirect-other`` behaviour points."""

    def __init__(self, hang_s: float = 30.0) -> None:
        self.requests: list[dict[str, Any]] = []
        self.stopping = threading.Event()
        self.connections: set[socket.socket] = set()
        self.hang_s = hang_s
        self.other_url = "http://127.0.0.1:9"
        self.server = _Server(("127.0.0.1", 0), _handler_for(self))
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})

    def start(self) -> AgencyStub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        for connection in list(self.connections):  # idle keep-alive handlers wait on these: wake them
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self.server.server_close()
        self._thread.join(5)

    def template(self) -> str:
        """The connector URL template pointing at this stub."""
        return self.url + "/{evidence_type}/{id_type}/{subject_id}"


def _handler_for(stub: AgencyStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 10  # a safety net: no handler waits on an idle connection for ever

        def setup(self) -> None:
            super().setup()
            stub.connections.add(self.connection)

        def finish(self) -> None:
            stub.connections.discard(self.connection)
            with contextlib.suppress(OSError):
                super().finish()

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            stub.requests.append({"path": self.path, "headers": dict(self.headers), "client": self.client_address})
            behaviour = self.path.strip("/").split("/")[0]
            try:
                getattr(self, "answer_" + behaviour.replace("-", "_"), self.answer_unknown)()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the connector gave up on us, as it should

        def send(self, status: int, body: bytes, content_type: str = "application/json", **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(body)

        def answer_unknown(self) -> None:
            self.send(400, b'{"error": "unknown behaviour"}')

        def answer_ok(self) -> None:
            subject_id = self.path.rstrip("/").split("/")[-1]
            self.send(200, json.dumps({**RECORD, "subject": subject_id}).encode())

        def answer_missing(self) -> None:
            self.send(404, b'{"error": "not found"}')

        def answer_boom(self) -> None:
            self.send(500, b"internal error")

        def answer_unavailable(self) -> None:
            self.send(503, b"")

        def answer_forbidden(self) -> None:
            self.send(403, b'{"error": "forbidden"}')

        def answer_hang(self) -> None:
            stub.stopping.wait(stub.hang_s)

        def answer_huge(self) -> None:
            self.send(200, b'{"blob": "' + b"x" * 300_000 + b'"}')

        def answer_huge_undeclared(self) -> None:
            # No Content-Length: the connector must count while reading.
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b'{"blob": "' + b"x" * 300_000 + b'"}')
            self.close_connection = True

        def answer_gzip_bomb(self) -> None:
            body = gzip.compress(b'{"blob": "' + b"0" * 5_000_000 + b'"}')  # about 5 kB on the wire
            self.send(200, body, Content_Encoding="gzip")

        def answer_bad_json(self) -> None:
            self.send(200, b'{"full_name": "Li Wei",')

        def answer_html(self) -> None:
            self.send(200, b"<html>maintenance</html>", content_type="text/html")

        def answer_list(self) -> None:
            self.send(200, b'[{"full_name": "Li Wei"}]')

        def answer_redirect_same(self) -> None:
            self.send(302, b"", Location="/ok/" + "/".join(self.path.strip("/").split("/")[1:]))

        def answer_redirect_other(self) -> None:
            self.send(302, b"", Location=stub.other_url + "/ok/resident-id/1")

        def answer_redirect_loop(self) -> None:
            self.send(302, b"", Location=self.path)

        def answer_trickle(self) -> None:
            body = b'{"full_name": "' + b"y" * 200 + b'"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for byte in body:
                if stub.stopping.wait(0.05):
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()

        def answer_health(self) -> None:
            self.send(204, b"")

    return Handler
