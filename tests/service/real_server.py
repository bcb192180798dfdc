"""`edgeswarm serve` as a real process on a free loopback port, for the tests that need real sockets."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

STARTUP_DEADLINE_S = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def status_of(base: str) -> dict | None:
    """GET /api/status of `host:port`, or None while the server does not answer."""
    with (
        contextlib.suppress(OSError, ValueError),
        urllib.request.urlopen(f"http://{base}/api/status", timeout=5) as response,
    ):
        return json.loads(response.read())
    return None


@contextlib.contextmanager
def real_server(
    tmp_path: Path, *, ready_epochs: int = 0, **env_settings: str
) -> Iterator[tuple[str, Path, int]]:
    """`edgeswarm serve` with no edge devices unless `env_settings` (EDGESWARM_* variables) say otherwise,
    ready once /api/status answers and the loop has timed `ready_epochs` epochs; yields (host:port, its log
    file, its process id) and stops it."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDGESWARM_")}
    env.update(
        {
            "EDGESWARM_ADMIN_PASSWORD": "admin-password-for-tests",
            "EDGESWARM_DEVICES": "0",
            "EDGESWARM_MQTT": "off",
            **env_settings,
        }
    )
    command = [sys.executable, "-m", "edgeswarm", "serve", "--port", str(port), "--quiet"]
    command += ["--db", str(tmp_path / "real.db")]
    log = tmp_path / "server.log"
    with log.open("w") as sink:
        process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=sink, stderr=subprocess.STDOUT)
    base = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_DEADLINE_S
        while process.poll() is None and time.monotonic() < deadline:
            status = status_of(base)
            if status is not None and status["loop"]["lateness_ms"]["epochs"] >= ready_epochs:
                break
            time.sleep(0.05)  # a poll interval under a deadline
        else:
            process.kill()
            process.wait(timeout=10)
            pytest.fail(f"the server did not start: {log.read_text()}")
        yield base, log, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
