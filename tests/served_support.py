"""Helpers for tests that talk to a served hub over HTTP: posting, waiting on a condition, client
threads that keep sending requests while the test does something to the hub, and its processes."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import requests
from testbed import OPERATOR

T = TypeVar("T")


def wait_for(condition: Callable[[], T], seconds: float = 30, every: float = 0.05, what: str = "condition") -> T:
    """Poll ``condition`` until it returns something truthy; that value, or AssertionError after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


def post(url: str, path: str, body: dict, headers: dict = OPERATOR, status: int = 201) -> dict:
    """POST ``body`` as JSON and assert the answer's status; the answer's JSON."""
    response = requests.post(url + path, json=body, headers=headers, timeout=30)
    assert response.status_code == status, response.text
    return response.json()


class ClientThreads:
    """Threads that each call their loop with a session of their own until the ``with`` block ends.

    A subclass passes its loops (each taking the session and an ``int`` argument) to :meth:`__init__`;
    a loop runs until ``stopping`` is set and records what it saw under ``lock``.
    """

    def __init__(self, loops: list[tuple[Callable[[requests.Session, int], None], int]], join_s: float) -> None:
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._join_s = join_s
        self._sessions: list[requests.Session] = []
        self._threads = [threading.Thread(target=self._run, args=(loop, argument)) for loop, argument in loops]

    def __enter__(self) -> Any:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        for thread in self._threads:
            thread.join(self._join_s)
        for session in self._sessions:  # no keep-alive connection left for the hub's graceful stop to wait out
            session.close()

    def _run(self, loop: Callable[[requests.Session, int], None], argument: int) -> None:
        session = requests.Session()
        with self.lock:
            self._sessions.append(session)
        loop(session, argument)


def children(pid: int) -> list[int]:
    """Live child processes of ``pid``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        state, parent = stat.rpartition(")")[2].split()[:2]
        if int(parent) == pid and state not in ("Z", "X"):
            found.append(int(entry))
    return found
