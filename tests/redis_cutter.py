"""A real TCP proxy to the embedded Redis that loses one reply: the first command whose bytes hold every marker
goes through to Redis, and the connection is cut before its answer comes back. While ``down`` is set, new
connections are closed as soon as they are made, as if Redis were away. For the faults a ``kill -9`` of Redis
makes only now and then: a write made, its acknowledgement lost."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Sequence


class ReplyCutter:
    """TCP on 127.0.0.1 to the Redis at ``socket_path``; ``cut`` is set once the marked command went through and
    its connection was cut (and ``down`` too, when ``down_after_cut``)."""

    def __init__(self, socket_path: str, markers: Sequence[bytes] = (b"EXEC",), down_after_cut: bool = False):
        self.socket_path, self.markers, self.down_after_cut = socket_path, tuple(markers), down_after_cut
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.cut = threading.Event()
        self.down = threading.Event()
        self._open: list[socket.socket] = []  # every proxied connection's two ends
        threading.Thread(target=self._accept, daemon=True).start()

    def go_down(self) -> None:
        """Redis away: every connection open now is cut, and new ones are closed as soon as they are made."""
        self.down.set()
        for end in self._open:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def come_back(self) -> None:
        self.down.clear()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.down.is_set():
                client.close()
                continue
            server = socket.socket(socket.AF_UNIX)
            server.connect(self.socket_path)
            self._open += [client, server]
            this_one = threading.Event()  # set when this connection's command is the one cut
            threading.Thread(target=self._pump, args=(client, server, True, this_one), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False, this_one), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_client: bool, this_one: threading.Event) -> None:
        try:
            while data := source.recv(65536):
                if not from_client and this_one.is_set():
                    break  # the answer to the command (and anything after it) never reaches the client
                cutting = from_client and not self.cut.is_set() and all(marker in data for marker in self.markers)
                if cutting:
                    this_one.set()  # before the command goes on, so that its reply cannot overtake the cut
                    if self.down_after_cut:
                        self.down.set()
                    self.cut.set()
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
