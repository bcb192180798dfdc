"""The `edgeswarm` command line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from edgeswarm.cli import main

LINE = re.compile(
    r"^\[Epoch (\d+)\] Consensus: -?\d+\.\d{4}, Entropy: \d\.\d\d, Regime: (Calm|PreStorm|Storm), "
    r"Drift: \d+\.\d%$"
)


def test_run_prints_epoch_lines_and_a_summary(capsys) -> None:
    assert main(["run", "--nodes", "100", "--epochs", "12", "--byzantine", "30", "--bias", "0.9"]) == 0
    out = capsys.readouterr().out.splitlines()
    lines = [line for line in out if line.startswith("[Epoch")]
    assert len(lines) == 12
    assert all(LINE.match(line) for line in lines), lines[:3]
    assert LINE.match(lines[0]).group(1) == "1"
    assert "-- summary --" in out
    assert any(line.startswith("byzantine: 30, banned: 30") for line in out)


def test_json_output_and_quiet_mode_agree(tmp_path) -> None:
    loud, quiet = tmp_path / "loud.json", tmp_path / "quiet.json"
    args = [
        "run",
        "--nodes",
        "80",
        "--epochs",
        "20",
        "--byzantine",
        "10",
        "--noise",
        "0.4",
        "--noise-at",
        "5",
    ]
    assert main([*args, "--json", str(loud)]) == 0
    assert main([*args, "--quiet", "--json", str(quiet)]) == 0
    a, b = json.loads(loud.read_text()), json.loads(quiet.read_text())
    assert len(a["epochs"]) == 20
    assert a["state_hash"] == b["state_hash"]
    assert a["epochs"][-1]["consensus"] == b["epochs"][-1]["consensus"]
    assert a["config"]["seed"] == 42


def test_bad_arguments_give_a_clear_error(capsys) -> None:
    # Refused before the run, argparse's way (SystemExit 2), naming the option (tests/test_cli_checks.py
    # covers every option).
    with pytest.raises(SystemExit) as refused:
        main(["run", "--nodes", "0"])
    assert refused.value.code == 2
    assert "argument --nodes: 0 is out of range" in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:
        main(["run", "--nodes", "10", "--byzantine", "20"])
    assert refused.value.code == 2
    assert "argument --byzantine: 20 exceeds --nodes 10" in capsys.readouterr().err


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("edgeswarm")
    result = subprocess.run([str(script), "--version"], check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("edgeswarm ")
