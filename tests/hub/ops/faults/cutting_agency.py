"""A stand-in agency on 127.0.0.1 that answers whole, or breaks its answer off in the ways networks and
crashing services do: headers then nothing, a declared length cut short, a chunked body cut mid-stream, or
bytes dripped slower than any timeout. ``mode`` switches what the next request gets."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# What a cut answer has sent before it breaks off is itself a well-formed JSON object: a connector that
# took whatever arrived as the answer would resolve the material with it.
PARTIAL = b'{"name": "\xe5\x8d\x8a"}'  # {"name": "半"}
CUTS = ("headers-only", "short-body", "chunked-cut", "drip")


class CuttingAgency:
    """One agency; ``record`` is what a whole answer carries, ``requests`` counts what it was asked."""

    def __init__(self, record: dict[str, Any]) -> None:
        self.record = record
        self.mode = "ok"
        self.requests = 0
        self.stopping = threading.Event()
        self.connections: set[socket.socket] = set()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = False
        self.server.block_on_close = True  # server_close() joins the handlers: none outlives the test
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})

    def start(self) -> CuttingAgency:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()  # a dripping handler stops at once
        self.server.shutdown()
        for connection in list(self.connections):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self.server.server_close()
        self._thread.join(5)

    def template(self) -> str:
        return self.url + "/records/{evidence_type}/{id_type}/{subject_id}"


def _handler_for(agency: CuttingAgency) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 10

        def setup(self) -> None:
            super().setup()
            agency.connections.add(self.connection)

        def finish(self) -> None:
            agency.connections.discard(self.connection)
            with contextlib.suppress(OSError):
                super().finish()

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if not self.path.startswith("/records/"):  # the probe
                self._head(204, 0)
                return
            agency.requests += 1
            whole = json.dumps(agency.record, ensure_ascii=False).encode()
            try:
                getattr(self, "_" + agency.mode.replace("-", "_"))(whole)
            except OSError:
                pass  # the connector gave up first, as it should
            finally:
                if agency.mode != "ok":
                    self.close_connection = True

        def _head(self, status: int, length: int | None, **extra: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if length is not None:
                self.send_header("Content-Length", str(length))
            for name, value in extra.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.flush()

        def _ok(self, whole: bytes) -> None:
            self._head(200, len(whole))
            self.wfile.write(whole)

        def _headers_only(self, whole: bytes) -> None:
            self._head(200, len(whole))
            self._cut()

        def _short_body(self, whole: bytes) -> None:
            self._head(200, len(PARTIAL) + 40)
            self.wfile.write(PARTIAL)
            self._cut()

        def _chunked_cut(self, whole: bytes) -> None:
            self._head(200, None, Transfer_Encoding="chunked")
            self.wfile.write(b"%x\r\n%s\r\n" % (len(PARTIAL), PARTIAL))  # one whole chunk, then no last chunk
            self._cut()

        def _drip(self, whole: bytes) -> None:
            self._head(200, len(PARTIAL) + 40)
            for byte in PARTIAL:
                if agency.stopping.wait(0.3):
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            agency.stopping.wait(5)

        def _cut(self) -> None:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)

    return Handler
