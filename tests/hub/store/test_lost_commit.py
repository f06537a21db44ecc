"""A commit whose answer is lost is not run again: through a real TCP proxy to the real Redis that forwards
EXEC and then cuts the connection before the reply, the store says it is unavailable (503, the outcome
unknown) instead of running the transaction a second time and answering 409 for a change it just made.
Seen in CI as a 409 "exists already" while Redis was killed under load."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest
from testbed import ON_CLUSTER

from hub.config import Settings
from hub.errors import Conflict, StoreUnavailable
from hub.store import embedded as embedded_redis
from hub.store.client import Store, Tx

pytestmark = pytest.mark.skipif(ON_CLUSTER, reason="the proxy stands before the embedded server")


class ExecCutter:
    """TCP on 127.0.0.1 to the embedded server's socket; the first EXEC goes through, its reply never comes."""

    def __init__(self, socket_path: str) -> None:
        self.socket_path = socket_path
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.cut = threading.Event()  # set once an EXEC was forwarded and its connection cut
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.socket(socket.AF_UNIX)
            server.connect(self.socket_path)
            this_one = threading.Event()  # set when this connection's EXEC is the one cut
            threading.Thread(target=self._pump, args=(client, server, True, this_one), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False, this_one), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_client: bool, this_one: threading.Event) -> None:
        try:
            while data := source.recv(65536):
                if not from_client and this_one.is_set():
                    break  # the answer to the EXEC (and anything after it) never reaches the client
                cutting = from_client and b"EXEC" in data and not self.cut.is_set()
                if cutting:
                    self.cut.set()
                    this_one.set()  # before EXEC goes on, so that its reply cannot overtake the cut
                sink.sendall(data)
                if cutting:
                    break
        except OSError:
            pass
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def through_cutter(settings, store) -> Iterator[tuple[Store, ExecCutter]]:
    cutter = ExecCutter(str(settings.data_dir / embedded_redis.SOCKET_NAME))
    proxied = Store(Settings(redis_url=f"redis://127.0.0.1:{cutter.port}/0", secret_key="lost-commit-test"))
    yield proxied, cutter
    proxied.close()
    cutter.close()


def test_a_commit_whose_reply_is_lost_is_unavailable_not_run_again(through_cutter, store):
    proxied, cutter = through_cutter
    key = "hub:{reg}:lost-commit-probe"

    def create(tx: Tx) -> None:
        if tx.exists(key):
            raise Conflict("exists already")
        tx.set_json(key, {"made": True})

    with pytest.raises(StoreUnavailable, match="may or may not have been made"):
        proxied.atomic(create)
    assert cutter.cut.is_set()
    assert store.get_json(key) == {"made": True}  # it was made: running it again would have said 409
