"""Timed MQTT experiments (`edgeswarm experiment mqtt`): the results folder, what it measures, and
refusals. Each run starts its own broker on a free port; runs are a few seconds and a few devices."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from edgeswarm.cli import main
from edgeswarm.mqtt.experiment import ExperimentConfig, run_comparison, run_experiment
from edgeswarm.mqtt.experiment_plots import status_counts

FILES = {
    "broker/mosquitto.conf",
    "broker/mosquitto.log",
    "config.json",
    "summary.json",
    "metrics.parquet",
    "metrics.csv",
    "latency_cdf.png",
    "delivery_over_time.png",
    "failure_timeline.png",
}
# Four standard deviations of a binomial count: a correct run is refused with probability < 1e-4.
Z = 4.0
LOSS = 0.2
LATENCY_MIN_MS, LATENCY_MAX_MS = 20.0, 60.0


def _summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text())


def _metrics(folder: Path) -> list[dict]:
    with (folder / "metrics.csv").open() as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def lossy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 devices, 3 s at 20 Hz, QoS 0, 20 % send loss, 20-60 ms uniform delay."""
    config = ExperimentConfig(
        devices=4,
        duration_s=3.0,
        latency_ms=f"{LATENCY_MIN_MS:g}:{LATENCY_MAX_MS:g}",
        loss=LOSS,
        qos=0,
        telemetry_s=0.05,
        heartbeat_s=1.0,
        seed=3,
        out=str(tmp_path_factory.mktemp("lossy")),
        label="lossy",
    )
    return run_experiment(config, progress=False)


def test_the_folder_is_complete_and_every_file_non_empty(lossy: Path) -> None:
    assert lossy.name.startswith("experiment_lossy_")
    files = {str(p.relative_to(lossy)) for p in lossy.rglob("*") if p.is_file()}
    assert files >= FILES
    assert {f"devices/device_{i}.jsonl" for i in range(4)} <= files
    assert all((lossy / f).stat().st_size > 0 for f in files), "an empty file in the results folder"
    assert [p.name for p in lossy.parent.iterdir()] == [lossy.name], "a partial folder was left behind"
    for png in ("latency_cdf.png", "delivery_over_time.png", "failure_timeline.png"):
        assert (lossy / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = _metrics(lossy)
    assert [r["device"] for r in rows] == ["0", "1", "2", "3"]
    assert pq.read_table(lossy / "metrics.parquet").to_pylist()[0]["received"] == int(rows[0]["received"])
    config = json.loads((lossy / "config.json").read_text())
    assert config["experiment"]["loss"] == LOSS and config["experiment"]["qos"] == 0
    assert set(config["versions"]) == {"edgeswarm", "git_commit", "python", "paho_mqtt", "mosquitto"}
    assert config["versions"]["mosquitto"][0].isdigit()
    # Each device log holds that device's events and messages only, as JSON lines.
    for i in range(4):
        lines = [json.loads(x) for x in (lossy / f"devices/device_{i}.jsonl").read_text().splitlines()]
        assert {x["device"] for x in lines} == {str(i)}
        assert lines[0]["event"] == "start" and any(x["kind"] == "message" for x in lines)
    summary = _summary(lossy)
    assert summary["received"] == sum(summary["received_per_device"].values())
    assert summary["received_per_device"] == {r["device"]: int(r["received"]) for r in rows}


def test_loss_is_reproduced_in_the_delivery_ratio_at_qos_0(lossy: Path) -> None:
    summary = _summary(lossy)
    n, received = summary["produced"], summary["received"]
    assert n > 200
    bound = Z * math.sqrt(n * LOSS * (1 - LOSS))
    assert abs(received - n * (1 - LOSS)) <= bound, (received, n, bound)
    # What the link dropped never arrives, and nothing else is lost on loopback at this load.
    assert received <= n - summary["dropped"]["send_loss"]


def test_the_injected_latency_shows_in_the_measured_one(lossy: Path) -> None:
    latency = _summary(lossy)["latency_ms"]
    measured, injected = latency["measured"], latency["injected"]
    assert measured["p50"] >= injected["p50"]
    assert LATENCY_MIN_MS <= injected["p50"] <= LATENCY_MAX_MS
    # The delay comes before the publish: no message arrives faster than the model's minimum.
    assert all(float(r["latency_max_ms"]) >= LATENCY_MIN_MS for r in _metrics(lossy) if int(r["received"]))
    lines = [
        json.loads(x)
        for f in (lossy / "devices").iterdir()
        for x in f.read_text().splitlines()
        if '"kind": "message"' in x
    ]
    assert min(x["latency_ms"] for x in lines) >= LATENCY_MIN_MS
    # The injected figures are the devices' own seeded draws, recomputed here from their counts.
    config = ExperimentConfig(**json.loads((lossy / "config.json").read_text())["experiment"])
    delays = []
    for row in _metrics(lossy):
        fates = config.faults.send_fates(int(row["produced"]), seed=config.seed, device=int(row["device"]))
        delays.append(fates.delay_us[~fates.lost] / 1000.0)
    assert injected["p50"] == float(np.percentile(np.concatenate(delays), 50))
    assert injected["count"] == len(np.concatenate(delays))


def test_two_runs_in_a_row_make_two_folders(lossy: Path) -> None:
    config = ExperimentConfig(devices=1, duration_s=1.0, out=str(lossy.parent), label="lossy")
    second = run_experiment(config, progress=False)
    folders = sorted(p.name for p in lossy.parent.iterdir())
    assert folders == sorted([lossy.name, second.name]) and second != lossy
    first_start = json.loads((lossy / "config.json").read_text())["started_at"]
    second_config = json.loads((second / "config.json").read_text())
    assert second_config["started_at"] > first_start
    assert second_config["experiment"]["devices"] == 1
    assert [p.name for p in (second / "devices").iterdir()] == ["device_0.jsonl"]
    assert _summary(second)["produced"] >= 1


def test_failures_and_wills_are_counted(tmp_path: Path) -> None:
    """Every device fails at 1 s (checks every second, each one a hit, outages merge) and comes back
    at the end of the window; keepalive 1 s, so the broker drops each silent device and publishes
    its will (Mosquitto 2.0.11 takes about 5 s for that at keepalive 1), and the buffered messages
    are flushed after the recovery."""
    devices = 3
    config = ExperimentConfig(
        devices=devices,
        duration_s=8.0,
        fail_prob=1.0,
        fail_every_s=1.0,
        fail_duration_s=1.0,
        keepalive_s=1,
        telemetry_s=0.5,
        qos=1,
        seed=5,
        out=str(tmp_path),
    )
    folder = run_experiment(config, progress=False)
    summary = _summary(folder)
    assert summary["planned_outages"] == devices
    assert summary["failures"] == devices
    assert summary["wills_delivered"] == devices
    assert summary["broker_disconnects"] == devices
    rows = _metrics(folder)
    assert all(int(r["failures"]) == 1 and int(r["wills"]) == 1 for r in rows)
    assert sum(int(r["flushed_received"]) for r in rows) > 0
    events = [
        json.loads(x)
        for f in (folder / "devices").iterdir()
        for x in f.read_text().splitlines()
        if '"kind": "event"' in x
    ]
    _times, failed, _online = status_counts(events)
    assert failed.max() == devices


def test_a_list_of_fleet_sizes_makes_a_comparison_table(tmp_path: Path) -> None:
    config = ExperimentConfig(duration_s=1.0, latency_ms="5", out=str(tmp_path), label="cmp")
    folder = run_comparison(config, [1, 2], progress=False)
    assert folder.parent == tmp_path and folder.name.startswith("comparison_cmp_")
    with (folder / "comparison.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["devices"]) for r in rows] == [1, 2]
    for row in rows:
        assert (folder / row["folder"] / "summary.json").is_file()
        assert _summary(folder / row["folder"])["devices"] == int(row["devices"])
    table = (folder / "comparison.md").read_text().splitlines()
    assert len(table) == 2 + len(rows) and table[0].startswith("| devices |")


@pytest.mark.parametrize(
    ("arguments", "option", "allowed"),
    [
        (["--devices", "0"], "--devices", ">= 1"),
        (["--devices", "-5"], "--devices", ">= 1"),
        (["--devices", "10,0"], "--devices", ">= 1"),
        (["--loss", "1.5"], "--loss", "[0, 1]"),
        (["--loss", "-0.1"], "--loss", "[0, 1]"),
        (["--fail-prob", "2"], "--fail-prob", "[0, 1]"),
        (["--latency-ms", "500:10"], "--latency-ms", "min <= max"),
        (["--latency-ms", "fast"], "--latency-ms", "MIN:MAX"),
        (["--qos", "3"], "--qos", "[0, 2]"),
        (["--duration", "0s"], "--duration", "> 0"),
        (["--duration", "20x"], "--duration", "unit"),
        (["--fail-every", "soon"], "--fail-every", "unit"),
        (["--fail-duration", "0"], "--fail-duration", "> 0"),
        (["--heartbeat-s", "0"], "--heartbeat-s", "> 0"),
        (["--label", "a/b"], "--label", "letters"),
    ],
)
def test_bad_arguments_are_refused_before_anything_starts(
    arguments: list[str], option: str, allowed: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["experiment", "mqtt", "--out", str(tmp_path), "--duration", "1s", *arguments])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert f"argument {option}:" in error and allowed in error
    assert list(tmp_path.iterdir()) == []  # no folder, no broker run


@pytest.mark.parametrize("kind", ["a file", "under a file"])
def test_an_unwritable_out_is_refused(kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    existing = tmp_path / "file"
    existing.write_text("x")
    out = existing if kind == "a file" else existing / "results"
    with pytest.raises(SystemExit) as exit_info:
        main(["experiment", "mqtt", "--out", str(out)])
    assert exit_info.value.code == 2
    assert "argument --out:" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("devices", 0),
        ("devices", 2.5),
        ("duration_s", -1.0),
        ("latency_ms", "9:3"),
        ("loss", 1.01),
        ("fail_prob", -0.5),
        ("fail_every_s", 0.0),
        ("fail_duration_s", math.nan),
        ("qos", 3),
        ("qos", True),
        ("keepalive_s", 0),
        ("telemetry_s", -1.0),
        ("label", ""),
        ("seed", -1),
    ],
)
def test_the_config_names_a_bad_field(field: str, value: object, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=rf"^{field}: "):
        ExperimentConfig(out=str(tmp_path), **{field: value})


def test_a_run_that_fails_leaves_no_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The broker cannot start (as when its port is taken): the error reaches the caller and the
    hidden partial folder is removed, so no incomplete results folder is ever left."""
    from edgeswarm.mqtt import experiment
    from edgeswarm.mqtt.broker import BrokerError

    def refuse(_broker: object) -> None:
        raise BrokerError("port 1883 is in use")

    monkeypatch.setattr(experiment.Broker, "start", refuse)
    with pytest.raises(BrokerError, match="in use"):
        run_experiment(ExperimentConfig(devices=1, duration_s=1.0, out=str(tmp_path)), progress=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("sizes", [[], [3, 0], "10"])
def test_a_comparison_names_a_bad_list_of_sizes(sizes: object, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^devices: "):
        run_comparison(ExperimentConfig(out=str(tmp_path)), sizes)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_it_runs_from_inside_an_event_loop_as_in_jupyter(tmp_path: Path) -> None:
    import asyncio

    async def cell() -> Path:  # a notebook cell runs while the kernel's loop is running
        return run_experiment(ExperimentConfig(devices=1, duration_s=1.0, out=str(tmp_path)), progress=False)

    folder = asyncio.run(cell())
    assert _summary(folder)["produced"] >= 1 and (folder / "metrics.parquet").stat().st_size > 0
