"""The command line refuses every bad path and range before work starts: one line, exit 2."""

from __future__ import annotations

import importlib
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from edgeswarm import cli, run_memory
from edgeswarm.cli import main
from edgeswarm.ml.maintenance import FD001_FILES
from edgeswarm.swarm import MAX_NOISE_EPOCHS, Q16_MAX_REAL, Q16_MIN_REAL, Swarm, check_swarm_options


def refused(argv: list[str], capsys) -> str:
    """Runs the command, checks it stopped argparse's way before any work, and returns the error line."""
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == "", "nothing may run (or print 'serving') before the refusal"
    lines = captured.err.splitlines()
    assert "Traceback" not in captured.err
    assert len(lines) == 1, "one line: no usage block, no traceback"
    command = []  # the subcommand words before the first option: run, serve, bench cmapss
    for word in argv:
        if word.startswith("-"):
            break
        command.append(word)
    assert lines[-1].startswith(f"edgeswarm {' '.join(command)}: error: "), lines[-1]
    return lines[-1]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--epochs", "-3"], "argument --epochs: -3 is out of range; allowed integers >= 1"),
        (["--epochs", "0"], "argument --epochs: 0 is out of range"),
        (["--epochs", "ten"], "argument --epochs: 'ten' is not an integer"),
        (["--nodes", "0"], "argument --nodes: 0 is out of range"),
        (["--nodes", "50000001"], "argument --nodes: 50000001 is out of range; allowed [1, 50000000]"),
        (["--dim", "4097"], "argument --dim: 4097 is out of range; allowed [1, 4096]"),
        (["--threads", "0"], "argument --threads: 0 is out of range"),
        (["--threads", "1025"], "argument --threads: 1025 is out of range; allowed [1, 1024]"),
        (["--epoch-ms", "0"], "argument --epoch-ms: 0 is out of range"),
        (["--epoch-ms", "86400001"], "argument --epoch-ms: 86400001 is out of range; allowed [1, 86400000]"),
        (["--seed", "-1"], "argument --seed: -1 is out of range; allowed integers [0, 18446744073709551615]"),
        (["--seed", str(2**64)], "argument --seed: 18446744073709551616 is out of range"),
        (
            ["--bias", "1e308"],
            "argument --bias: 1e308 is out of range; allowed finite numbers [-32768, 32767.99998]",
        ),
        (["--bias", "-32768.5"], "argument --bias: -32768.5 is out of range"),
        (["--bias", "nan"], "argument --bias: nan is out of range"),
        (
            ["--noise", "1e308"],
            "argument --noise: 1e308 is out of range; allowed finite numbers [0, 32767.99998]",
        ),
        (["--noise", "inf"], "argument --noise: inf is out of range"),
        (["--noise", "-0.1"], "argument --noise: -0.1 is out of range"),
        (
            ["--signal", "20000"],
            "argument --signal: 20000 is out of range; allowed finite values in (-16384, 16384)",
        ),
        (["--signal=-inf"], "argument --signal: -inf is out of range"),
        (["--noise-variance", "-1"], "argument --noise-variance: -1 is out of range"),
        (["--trim", "0.5"], "argument --trim: 0.5 is out of range; allowed finite numbers [0, 0.5)"),
        (["--trim", "-0.1"], "argument --trim: -0.1 is out of range"),
        (["--sentinel-fraction", "1.5"], "argument --sentinel-fraction: 1.5 is out of range"),
        (["--byzantine", "-1"], "argument --byzantine: -1 is out of range"),
        (
            ["--nodes", "10", "--byzantine", "11"],
            "argument --byzantine: 11 exceeds --nodes 10; allowed [0, 10]",
        ),
        (
            ["--epochs", "60", "--attack-at", "60"],
            "argument --attack-at: epoch 60 is beyond the run of --epochs 60",
        ),
        (["--attack-at", "-1"], "argument --attack-at: -1 is out of range"),
        (
            ["--epochs", "5", "--noise-at", "9"],
            "argument --noise-at: epoch 9 is beyond the run of --epochs 5",
        ),
        (["--noise-at", "-2"], "argument --noise-at: -2 is out of range"),
        (["--noise-duration", "-1"], "argument --noise-duration: -1 is out of range"),
        (["--noise-duration", "1e300"], "argument --noise-duration: 1e+300 is out of range; allowed [0, "),
    ],
)
def test_run_refuses_a_bad_range_before_it_starts(argv, expected, capsys) -> None:
    assert expected in refused(["run", *argv], capsys)


def test_a_run_at_the_edges_of_the_ranges_is_accepted(tmp_path, capsys) -> None:
    out = tmp_path / "run.json"
    argv = ["run", "--nodes", "12", "--epochs", "4", "--byzantine", "12", "--attack-at", "3", "--bias"]
    assert (
        main([*argv, str(Q16_MAX_REAL), "--noise", "0", "--noise-at", "3", "--quiet", "--json", str(out)])
        == 0
    )
    assert len(json.loads(out.read_text())["epochs"]) == 4
    assert "byzantine: 12" in capsys.readouterr().out


def test_json_path_is_checked_before_the_run(tmp_path, capsys) -> None:
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    assert "the folder" in refused(["run", "--json", str(tmp_path / "missing" / "out.json")], capsys)
    assert "does not exist" in refused(["run", "--json", str(tmp_path / "missing" / "out.json")], capsys)
    assert "the folder" in refused(["run", "--json", str(a_file / "out.json")], capsys)
    assert f"argument --json: '{tmp_path}' is a folder" in refused(["run", "--json", str(tmp_path)], capsys)
    assert "argument --json" in refused(
        ["bench", "cmapss", "--data", str(tmp_path), "--json", str(tmp_path)], capsys
    )


def _as_nobody_if_root(argv: list[str]) -> tuple[int, str]:
    """Runs main(argv) in a forked child, as user nobody when we are root (root may write anywhere);
    (exit code, stderr). Forked, not a new interpreter: nobody may not be able to read the checkout."""
    for module in ("edgeswarm.ml.registry", "edgeswarm.service"):  # imported before the fork: the child,
        importlib.import_module(module)  # as nobody, may not be able to read the files

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 70
        try:
            sys.stderr = os.fdopen(write_end, "w")  # pytest's capture replaced the real one
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
            main(argv)
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        finally:
            sys.stderr.flush()
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as stream:
        err = stream.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), err


def test_json_and_db_in_a_read_only_folder_are_refused() -> None:
    locked = Path(tempfile.mkdtemp(prefix="edgeswarm-locked-"))
    locked.chmod(0o555)
    try:
        for argv in (["run", "--json", str(locked / "out.json")], ["serve", "--db", str(locked / "x.db")]):
            code, err = _as_nobody_if_root(argv)
            assert code == 2, err
            assert f"the folder '{locked}' is not writable" in err.splitlines()[-1]
            assert "Traceback" not in err
    finally:
        locked.chmod(0o700)
        locked.rmdir()


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_a_path_that_passes_the_mode_bits_but_cannot_be_written_is_refused(capsys) -> None:
    # Root passes every os.access check; /proc takes no new file whoever asks (it was a traceback after
    # the whole run).
    line = refused(["run", "--json", "/proc/edgeswarm-test.json"], capsys)
    assert "argument --json: '/proc/edgeswarm-test.json' cannot be created" in line
    line = refused(["serve", "--db", "/proc/edgeswarm-test.db"], capsys)
    assert "argument --db: '/proc/edgeswarm-test.db' cannot be created" in line
    assert "argument --json: '/proc/version'" in refused(["run", "--json", "/proc/version"], capsys)


def test_serve_refuses_an_unusable_database_before_serving(tmp_path, capsys) -> None:
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("hello, not a database\n")
    line = refused(["serve", "--db", str(tmp_path / "missing" / "x.db")], capsys)
    assert line.startswith("edgeswarm serve: error: argument --db: ") and "does not exist" in line
    assert "is a folder" in refused(["serve", "--db", str(tmp_path)], capsys)
    assert "is not an SQLite database" in refused(["serve", "--db", str(not_sqlite)], capsys)


def test_serve_checks_the_database_from_the_environment_too(tmp_path, capsys, monkeypatch) -> None:
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("hello")
    monkeypatch.setenv("EDGESWARM_DB_PATH", str(not_sqlite))
    assert "argument --db (or EDGESWARM_DB_PATH)" in refused(["serve"], capsys)


def test_serve_refuses_a_host_that_does_not_resolve(tmp_path, capsys) -> None:
    line = refused(["serve", "--host", "999.1.1.1", "--db", str(tmp_path / "x.db")], capsys)
    assert "argument --host (or EDGESWARM_HOST): '999.1.1.1' does not resolve" in line
    assert not (tmp_path / "x.db").exists()


def test_a_bad_environment_setting_is_named_and_a_secret_not_echoed(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("EDGESWARM_TOKEN_MINUTES", "0")
    line = refused(["serve", "--db", str(tmp_path / "x.db")], capsys)
    assert "error: EDGESWARM_TOKEN_MINUTES: Input should be greater than or equal to 1" in line
    assert "(got" not in line


def test_the_database_type_accepts_new_empty_and_sqlite_files(tmp_path) -> None:
    from edgeswarm.cli_types import sqlite_file

    database = tmp_path / "real.db"
    sqlite3.connect(database).close()  # an empty database still has the header once written
    with sqlite3.connect(database) as connection:
        connection.execute("create table t (x)")
    empty = tmp_path / "empty.db"
    empty.touch()
    for path in (tmp_path / "new.db", empty, database):
        assert sqlite_file(str(path)) == str(path)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--port", "-1"], "argument --port: -1 is out of range; allowed integers [0, 65535]"),
        (["--port", "65536"], "argument --port: 65536 is out of range"),
        (["--nodes", "0"], "argument --nodes: 0 is out of range"),
        (["--nodes", "1000001"], "argument --nodes: "),
        (["--epoch-ms", "0"], "argument --epoch-ms: 0 is out of range"),
        (["--seed", "-5"], "argument --seed: -5 is out of range"),
        (["--devices", "-1"], "argument --devices: -1 is out of range"),
        (["--nodes", "10", "--byzantine", "11"], "argument --byzantine: 11 exceeds the 10 nodes"),
    ],
)
def test_serve_refuses_a_bad_range_before_serving(argv, expected, tmp_path, capsys) -> None:
    assert expected in refused(["serve", "--db", str(tmp_path / "x.db"), *argv], capsys)


def test_cmapss_needs_every_file_of_fd001_non_empty(tmp_path, capsys) -> None:
    missing = tmp_path / "nowhere"
    line = refused(["bench", "cmapss", "--data", str(missing)], capsys)
    expected = f"argument --data: '{missing}' does not exist; allowed an existing data folder"
    assert line == f"edgeswarm bench cmapss: error: {expected} (see edgeswarm bench cmapss --help)"
    assert "has no non-empty train_FD001.txt" in refused(["bench", "cmapss", "--data", str(tmp_path)], capsys)
    for name in FD001_FILES:
        (tmp_path / name).write_text("1 2 3\n")
    (tmp_path / "RUL_FD001.txt").write_text("")
    assert "has no non-empty RUL_FD001.txt" in refused(["bench", "cmapss", "--data", str(tmp_path)], capsys)


def test_nab_needs_its_labels_profiles_and_every_labelled_csv(tmp_path, capsys) -> None:
    def nab(folder: Path) -> str:
        return refused(["bench", "nab", "--data", str(folder), "--detector", "ewma"], capsys)

    assert "does not exist" in nab(tmp_path / "nowhere")
    assert "has no non-empty labels/combined_windows.json" in nab(tmp_path)
    (tmp_path / "labels").mkdir()
    (tmp_path / "config").mkdir()
    (tmp_path / "labels" / "combined_windows.json").write_text(
        json.dumps({"real/a.csv": [], "real/b.csv": []})
    )
    assert "has no non-empty config/profiles.json" in nab(tmp_path)
    (tmp_path / "config" / "profiles.json").write_text("{}")
    assert "has no non-empty data/real/a.csv" in nab(tmp_path)
    (tmp_path / "data" / "real").mkdir(parents=True)
    (tmp_path / "data" / "real" / "a.csv").write_text("timestamp,value\n2020-01-01 00:00:00,1\n")
    (tmp_path / "data" / "real" / "b.csv").write_text("")
    assert "has no non-empty data/real/b.csv" in nab(tmp_path)


# -- memory ------------------------------------------------------------------------------------


def test_the_estimate_grows_with_nodes_dim_epochs_and_topology() -> None:
    base = run_memory.estimate_run_bytes(10**6)
    assert run_memory.estimate_run_bytes(2 * 10**6) - base == base - run_memory.estimate_run_bytes(0)
    assert run_memory.estimate_run_bytes(10**6, dim=8) > base
    assert run_memory.estimate_run_bytes(10**6, epochs=10**5) > base
    assert run_memory.estimate_run_bytes(10**6, topology="random_geometric") > base
    # The documented maximum needs gigabytes: about 8 GB at dim 1, beyond the 6 GB of the machine.
    assert 6 * 2**30 < run_memory.estimate_run_bytes(50_000_000) < 10 * 2**30


def test_the_estimate_is_not_below_a_real_run() -> None:
    # 10^5 nodes, 5 epochs: about 90 MB, in a fresh interpreter. VmHWM, not ru_maxrss: Linux carries
    # ru_maxrss over exec from the forked pytest process, VmHWM belongs to the new process's memory alone.
    code = (
        "from pathlib import Path; from edgeswarm.swarm import Swarm; s = Swarm(100000, history=None); "
        "s.run(5, progress=False); "
        "print(next(l for l in Path('/proc/self/status').read_text().splitlines() if l.startswith('VmHWM')))"
    )
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    peak = int(done.stdout.split()[1]) * 1024  # "VmHWM:   92000 kB"
    estimate = run_memory.estimate_run_bytes(100_000, epochs=5)
    assert peak <= estimate < 1.5 * peak, (peak, estimate)


def test_the_memory_check_refuses_beyond_the_available_memory() -> None:
    needed = run_memory.estimate_run_bytes(10**6, dim=1, epochs=60, topology="complete")
    run_memory.check_run_memory(10**6, dim=1, epochs=60, topology="complete", available_bytes=needed)
    run_memory.check_run_memory(10**6, dim=1, epochs=60, topology="complete", available_bytes=None)
    with pytest.raises(
        ValueError, match=r"need about 0\.\d\d GiB of memory but this machine has 0\.01 GiB available"
    ):
        run_memory.check_run_memory(10**6, dim=1, epochs=60, topology="complete", available_bytes=2**23)


def test_available_memory_reads_meminfo(tmp_path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       32000000 kB\nMemFree:  1000 kB\nMemAvailable:   2048 kB\n")
    assert run_memory.available_memory_bytes(meminfo) == 2048 * 1024
    assert run_memory.available_memory_bytes(tmp_path / "absent") is None
    assert run_memory.available_memory_bytes(Path("/proc/meminfo")) > 0


def test_run_at_the_documented_maximum_is_refused_on_a_small_machine(monkeypatch, capsys) -> None:
    monkeypatch.setattr(cli, "available_memory_bytes", lambda: 6 * 2**30)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    line = refused(["run", "--nodes", "50000000"], capsys)
    assert "need about 7." in line and "GiB of memory but this machine has 6.00 GiB available" in line
    # Refused before anything was allocated: the peak did not move by the hundreds of MB a start would take.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 * 1024


def test_run_beyond_any_machine_is_refused_with_the_real_meminfo(capsys) -> None:
    line = refused(["run", "--nodes", "40000000", "--dim", "4096"], capsys)
    assert "GiB of memory but this machine has" in line and "(MemAvailable)" in line


# -- the shared limits -------------------------------------------------------------------------


def test_the_cli_limits_are_the_engines() -> None:
    swarm = Swarm(10, epoch_ms=1000)
    swarm.inject_byzantine(1, bias=Q16_MAX_REAL)
    swarm.inject_byzantine(1, bias=Q16_MIN_REAL)
    with pytest.raises(ValueError, match="bias"):
        swarm.inject_byzantine(1, bias=Q16_MAX_REAL + 0.001)
    swarm.inject_noise(intensity=Q16_MAX_REAL, duration_s=float(MAX_NOISE_EPOCHS))  # epochs of 1 s
    with pytest.raises(ValueError, match="duration_s"):
        swarm.inject_noise(intensity=1.0, duration_s=MAX_NOISE_EPOCHS * 1.001)
    with pytest.raises(ValueError, match="intensity"):
        swarm.inject_noise(intensity=Q16_MAX_REAL + 0.001, duration_s=1.0)


def test_check_swarm_options_refuses_without_allocating() -> None:
    check_swarm_options(50_000_000)  # validated, not built: no gigabytes spent
    with pytest.raises(ValueError, match=r"n_nodes: 50000001 is out of range"):
        check_swarm_options(50_000_001)
    with pytest.raises(ValueError, match="trim"):
        check_swarm_options(10, trim=0.7)


# -- in a real process ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--epochs", "-3"],
        ["run", "--bias", "1e308"],
        ["bench", "cmapss", "--data", "/nonexistent/cmapss"],
    ],
)
def test_the_installed_command_prints_one_line_and_no_traceback(argv) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "edgeswarm", *argv], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    error_lines = done.stderr.splitlines()
    assert len(error_lines) == 1 and ": error: argument " in error_lines[0], done.stderr


def test_the_serve_help_states_the_settings_ranges(capsys) -> None:
    # The help repeats the service's limits (importing the service for every command costs ~0.3 s).
    from edgeswarm.service.settings import Settings

    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for option, field in (("--nodes", "nodes"), ("--epoch-ms", "epoch_ms"), ("--devices", "devices")):
        low, high = (
            next(getattr(m, k) for m in Settings.model_fields[field].metadata if hasattr(m, k))
            for k in ("ge", "le")
        )
        assert f"{option} {option[2:].upper().replace('-', '_')} " in text
        assert f"{low} to {high:,}" in text, (option, low, high)


@pytest.mark.parametrize(
    ("option", "field", "highest", "shown"),
    [
        ("--nodes", "n_nodes", 50_000_000, "1 to 50,000,000"),
        ("--dim", "dim", 4096, "1 to 4096"),
        ("--threads", "threads", 1024, "1 to 1024"),
        ("--epoch-ms", "epoch_ms", 86_400_000, "1 to 86400000"),
    ],
)
def test_the_run_help_states_the_engines_limits(option, field, highest, shown, capsys) -> None:
    # The help repeats limits the engine checks; this keeps the two in step.
    arguments = {"n_nodes": 100, field: highest}
    check_swarm_options(arguments.pop("n_nodes"), **arguments)
    with pytest.raises(ValueError, match=f"^{field}: {highest + 1} is out of range"):
        arguments = {"n_nodes": 100, field: highest + 1}
        check_swarm_options(arguments.pop("n_nodes"), **arguments)
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"{option} {option[2:].upper().replace('-', '_')} " in text
    assert shown in text.split(f"{option} {option[2:].upper().replace('-', '_')} ", 1)[1][:80]
