"""The private Redis server: one per data directory, shared, stopped by the last hub, durable."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import time

import pytest
from testbed import short_tempdir

from hub.config import Settings
from hub.store import embedded as embedded_redis
from hub.store.client import Store


@pytest.fixture
def fresh_dir():
    path = short_tempdir("hub-embedded-")
    yield path
    pid = embedded_redis.server_pid(path)
    if pid:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    shutil.rmtree(path, ignore_errors=True)


def test_second_hub_attaches_instead_of_starting_another(fresh_dir):
    first = Store(Settings(data_dir=fresh_dir))
    second = Store(Settings(data_dir=fresh_dir))
    assert first.embedded.started_here is True
    assert second.embedded.started_here is False
    assert first.embedded.socket_path == second.embedded.socket_path
    first.set_json("hub:{t}:x", {"from": "first"})
    assert second.get_json("hub:{t}:x") == {"from": "first"}
    # The first may not stop the server while the second still uses it; the last one does.
    assert first.stop_embedded_if_last() is False
    assert embedded_redis.is_running(fresh_dir)
    assert second.get_json("hub:{t}:x") == {"from": "first"}
    assert second.stop_embedded_if_last() is True
    assert not embedded_redis.is_running(fresh_dir)
    assert not (fresh_dir / "redis.sock").exists()


def test_acknowledged_writes_survive_kill_9_of_redis(fresh_dir):
    store = Store(Settings(data_dir=fresh_dir))
    for n in range(200):
        store.set_json(f"hub:{{t}}:k{n}", {"n": n})
    pid = embedded_redis.server_pid(fresh_dir)
    os.kill(pid, signal.SIGKILL)
    assert embedded_redis.wait_stopped(fresh_dir, pid)
    assert (fresh_dir / "redis.sock").exists()  # stale: a killed server cannot remove it
    store.close()
    restarted = Store(Settings(data_dir=fresh_dir))
    assert restarted.embedded.started_here is True
    assert [restarted.get_json(f"hub:{{t}}:k{n}") for n in range(200)] == [{"n": n} for n in range(200)]
    restarted.stop_embedded_if_last()


def test_appendfsync_always_is_configurable(fresh_dir):
    store = Store(Settings(data_dir=fresh_dir, redis_appendfsync="always"))
    assert "appendfsync always" in (fresh_dir / "redis.conf").read_text()
    assert store.raw_client_for_tests().config_get("appendfsync") == {"appendfsync": "always"}
    store.stop_embedded_if_last()


def test_server_listens_on_no_tcp_port(fresh_dir):
    store = Store(Settings(data_dir=fresh_dir))
    assert store.raw_client_for_tests().config_get("port") == {"port": "0"}
    assert oct((fresh_dir / "redis.sock").stat().st_mode & 0o777) == "0o700"
    store.stop_embedded_if_last()


def test_data_dir_too_long_for_a_socket_is_a_clear_error(tmp_path):
    deep = tmp_path / ("d" * 100)
    with pytest.raises(embedded_redis.EmbeddedRedisError, match="too long"):
        embedded_redis.attach_or_start(deep)


def test_a_process_forked_while_the_lock_file_is_open_does_not_hold_the_lock(fresh_dir):
    # As when gunicorn forks a worker while its Keeper is starting Redis again: the worker must not keep the
    # directory locked after the server dies, or the Keeper would never see it gone.
    running, started = os.pipe()
    with embedded_redis._lock_file(fresh_dir / embedded_redis.LOCK_NAME, os.O_RDWR | os.O_CREAT) as fd:
        fcntl.flock(fd, fcntl.LOCK_EX)
        child = os.fork()
        if child == 0:
            os.write(started, b"!")  # past the fork handlers
            time.sleep(5)
            os._exit(0)
    assert os.read(running, 1) == b"!"
    try:
        assert not embedded_redis.is_running(fresh_dir)  # the child lives on; the lock went with our descriptor
    finally:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        os.close(running)
        os.close(started)
