"""A stand-in agency data service for the demo province and the tests: JSON records over HTTP.

``GET /<dataset>/<subject_id>?type=<evidence_type>`` answers 200 with the subject's record, or
404 when the agency holds nothing for that subject. Records come from a mapping
``{dataset: {subject_id: {evidence_type: record}}}``; a test can make a dataset slow or failing
with ``behaviour``. It runs as ``python -m hub.demo.agency --port 8001`` for ``make run``.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

DEMO_DATA = Path(__file__).with_name("agency_records.yaml")


class _QuietServer(ThreadingHTTPServer):
    """A threading server that does not print a traceback when a client hangs up (the hub closes pooled
    connections it no longer needs, which is normal)."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class StandInAgency:
    """An agency service on 127.0.0.1; ``behaviour[dataset]`` may be {"delay_s": float, "status": int}."""

    def __init__(self, records: dict[str, dict[str, dict[str, Any]]], port: int = 0) -> None:
        self.records = records
        self.behaviour: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []
        self.fields_asked: list[tuple[str, str | None]] = []  # (dataset, the ``fields`` query) of each call
        self.server = _QuietServer(("127.0.0.1", port), _handler(self))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self) -> StandInAgency:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def url_for(self, dataset: str) -> str:
        """The connector URL template of one dataset (the hub says which fields it wants; only those come back)."""
        return self.url + f"/{dataset}/{{subject_id}}?type={{evidence_type}}&fields={{fields}}"


def _handler(agency: StandInAgency) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real agency service would offer
        disable_nagle_algorithm = True  # headers and body go out in two writes: don't wait on delayed ACKs

        def log_message(self, format: str, *args: Any) -> None:  # quiet: the hub logs its calls
            pass

        def _send(self, status: int, body: dict[str, Any]) -> None:
            payload = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            segments = [s for s in parts.path.split("/") if s]
            if not segments:
                self._send(200, {"status": "up"})
                return
            if len(segments) != 2:
                self._send(400, {"error": "expected /<dataset>/<subject_id>"})
                return
            dataset, subject_id = segments
            agency.calls.append(dataset)
            behaviour = agency.behaviour.get(dataset, {})
            if behaviour.get("delay_s"):
                time.sleep(behaviour["delay_s"])
            if behaviour.get("status"):
                self._send(behaviour["status"], {"error": "configured failure"})
                return
            query = parse_qs(parts.query, keep_blank_values=True)
            evidence_type = query.get("type", [""])[0]
            wanted = query.get("fields", [None])[0]
            agency.fields_asked.append((dataset, wanted))
            record = agency.records.get(dataset, {}).get(subject_id, {}).get(evidence_type)
            if record is None:
                self._send(404, {"error": "no record"})
            elif not wanted:  # not said: the whole record
                self._send(200, record)
            else:
                self._send(200, {name: value for name, value in record.items() if name in wanted.split(",")})

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description="The demo province's stand-in agency data service.")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    records = yaml.safe_load(DEMO_DATA.read_text(encoding="utf-8"))
    agency = StandInAgency(records, args.port)
    print(f"demo agency service at {agency.url}", flush=True)
    try:
        agency.server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        agency.server.server_close()


if __name__ == "__main__":
    main()
