"""Sealing on many threads of one process at once: every request gets a whole, valid seal.

asn1crypto parses lazily and records what it parsed on the object, so an ASN.1 object one thread is
still parsing is not safe for another to read. A hub worker seals on several threads with one PKI,
so each round here starts the PKI afresh, as a new worker process would, and seals on many threads
at once.
"""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor

from certs_support import simple_pdf

ROUNDS = 6
THREADS = 8
SEALS_PER_THREAD = 1


def test_many_threads_seal_at_once_on_a_fresh_pki(app, market):
    state = app.extensions["hub"]
    start = threading.Barrier(THREADS)

    def seal_several(index: int) -> list[tuple[int, bytes]]:
        client = app.test_client()
        start.wait()
        answers = []
        for turn in range(SEALS_PER_THREAD):
            data = {"file": (io.BytesIO(simple_pdf(f"Notice {index}-{turn}")), "notice.pdf")}
            response = client.post("/api/v1/signatures", data=data, headers=market, content_type="multipart/form-data")
            answers.append((response.status_code, response.data))
        return answers

    answers: list[tuple[int, bytes]] = []
    for _ in range(ROUNDS):
        state.__dict__.pop("pki", None)  # what a new worker process starts with: nothing parsed, no stamper
        state.__dict__.pop("seals", None)
        with ThreadPoolExecutor(THREADS) as pool:
            answers += [answer for batch in pool.map(seal_several, range(THREADS)) for answer in batch]
    assert [body for status, body in answers if status != 201] == []
    client = app.test_client()
    for _, sealed in answers[:: THREADS * SEALS_PER_THREAD]:  # one of each round
        data = {"file": (io.BytesIO(sealed), "notice.pdf")}
        verdict = client.post("/api/v1/verifications", data=data, content_type="multipart/form-data").get_json()
        assert verdict["signatures"][0]["indication"] == "passed"
