"""`edgeswarm serve` for real: uvicorn on a free loopback port, epoch lines, a taken port."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from edgeswarm.cli import main

from tests.service.real_server import free_port

EPOCH_LINE = re.compile(
    r"^\[Epoch (\d+)\] Consensus: \d+\.\d{4}, Entropy: \d\.\d\d, Regime: (Calm|PreStorm|Storm)"
)
DEADLINE_S = 60.0


def _get_json(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def test_serve_answers_status_and_prints_epoch_lines(tmp_path: Path) -> None:
    port = free_port()
    script = Path(sys.executable).with_name("edgeswarm")
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDGESWARM_")}
    env["EDGESWARM_ADMIN_PASSWORD"] = "served-admin-pw"
    process = subprocess.Popen(
        [
            str(script),
            "serve",
            "--port",
            str(port),
            "--epoch-ms",
            "50",
            "--seed",
            "3",
            "--db",
            str(tmp_path / "s.db"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + DEADLINE_S
        status = None
        # Poll until the loop has run a few epochs (no fixed sleep: each poll is a real request).
        while time.monotonic() < deadline and process.poll() is None:
            status = _get_json(f"http://127.0.0.1:{port}/api/status")
            if status is not None and status["epoch"] >= 3:
                break
            time.sleep(0.05)
        assert status is not None and status["epoch"] >= 3, "".join(lines)
        assert status["running"] is True and status["seed"] == 3 and status["n_nodes"] == 100
        while time.monotonic() < deadline and not any(EPOCH_LINE.match(line) for line in lines):
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
    reader.join(timeout=10)
    process.stdout.close()
    epochs = [int(m.group(1)) for m in map(EPOCH_LINE.match, lines) if m]
    assert epochs[:3] == [1, 2, 3], "".join(lines)
    assert any(f"http://localhost:{port}/" in line for line in lines)
    assert process.returncode == 0, "".join(lines)


def test_a_taken_port_gives_a_clear_message_not_a_traceback(tmp_path: Path, capsys) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code = main(["serve", "--port", str(port), "--db", str(tmp_path / "s.db")])
    err = capsys.readouterr().err
    assert code == 2
    assert f"port {port} on 127.0.0.1 is already in use" in err
    assert "--port" in err and "Traceback" not in err


def test_serve_rejects_bad_options_by_name(tmp_path: Path, capsys) -> None:
    # Refused before serving, argparse's way: SystemExit 2 (tests/test_cli_checks.py has every option).
    for argv, named in (
        (["--port", "70000"], "--port"),
        (["--nodes", "0"], "--nodes"),
        (["--nodes", "10", "--byzantine", "11"], "--byzantine: 11 exceeds the 10 nodes"),
    ):
        with pytest.raises(SystemExit) as refused:
            main(["serve", *argv, "--db", str(tmp_path / "s.db")])
        assert refused.value.code == 2
        assert named in capsys.readouterr().err
