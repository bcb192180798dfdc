"""Timed MQTT experiments: a fresh broker and fleet, injected faults, and a results folder.

``run_experiment(ExperimentConfig(devices=50, duration_s=1200, latency_ms="10:500", loss=0.1,
fail_prob=0.05, qos=1, seed=1))`` starts a new Mosquitto (its run folder inside the experiment's),
a :class:`~edgeswarm.mqtt.receiver.Receiver` and an :class:`~edgeswarm.mqtt.device_fleet.MqttFleet`
on one event loop, runs for ``duration_s`` and writes ``<out>/experiment_<label>_<timestamp>/``:

- ``devices/device_<id>.jsonl``: the device's events (status changes) and every message of it the
  receiver heard, as JSON lines, in the order they happened;
- ``broker/``: the broker's config, log and persistence;
- ``metrics.parquet`` and ``metrics.csv``: one row per device (``produced``, ``received``,
  ``delivery_ratio``, ``duplicated``, ``dropped_send_loss`` and the latencies count the messages
  produced in the window; the connection counters, ``sent``, ``acked``, ``dropped_buffer_full``,
  ``dropped_stopped`` (copies still in their injected delay at the stop) and ``buffered`` are the
  device's at the end of the run);
- ``summary.json``: delivery, latency measured against the injected delays, failures, wills;
- ``config.json``: every argument, the package, git, Python, paho-mqtt and Mosquitto versions;
- ``latency_cdf.png``, ``delivery_over_time.png``, ``failure_timeline.png``.

The measured window is ``[0, duration_s)``: the messages produced in it are the ones counted. At
its end the devices keep running for a drain time (the injected latency's 99.9th percentile plus
1 s) so that messages still delayed or in flight arrive, then stop cleanly. The injected delays
the summary compares against are the very draws the devices used: message ``k`` of a device has
the fate ``LinkFaults.send_fates`` gives for ``(seed, device, k)``.

Runs never mix: each writes a new hidden folder and renames it to its final name only once
complete (a name taken already gets a ``-2``, ``-3`` suffix), on a broker of its own.
:func:`run_comparison` runs one experiment per fleet size into ``<out>/comparison_<label>_<timestamp>/``
and adds ``comparison.csv`` and ``comparison.md``, one row per experiment.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import csv
import dataclasses
import json
import math
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from edgeswarm import net
from edgeswarm._validate import require_float, require_int
from edgeswarm.mqtt.broker import Broker, find_mosquitto
from edgeswarm.mqtt.client_loop import ClientLoop
from edgeswarm.mqtt.device import DeviceOptions
from edgeswarm.mqtt.device_fleet import MqttFleet
from edgeswarm.mqtt.faults import FailureSchedule, LinkFaults, parse_latency
from edgeswarm.mqtt.receiver import Receiver

__all__ = ["ExperimentConfig", "run_comparison", "run_experiment"]

_T = TypeVar("_T")
FLEET = "experiment"  #: the fleet name of every experiment's topics
_LABEL = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_FILES_PER_PROCESS = 64  # open files besides the devices' sockets (logs, broker, Python itself)
_CONNECT_TIMEOUT_S = 10.0
_STOP_TIMEOUT_S = 5.0
_TICK_S = 0.5  # progress bar and log flush period
_DRAIN_MARGIN_S = 1.0
_DRAIN_CAP_S = 60.0
_BROKER_TIMEOUT = "has exceeded timeout, disconnecting"  # Mosquitto's log line for a silent client


def _probability(name: str, value: object) -> float:
    p = require_float(name, value)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: {p} is out of range; allowed [0, 1]")
    return p


def _positive_seconds(name: str, value: object) -> float:
    seconds = require_float(name, value)
    if seconds <= 0.0:
        raise ValueError(f"{name}: {seconds} is out of range; allowed > 0 seconds")
    return seconds


@dataclass(frozen=True)
class ExperimentConfig:
    """One timed experiment (validated on construction; ValueError names the field).

    ``latency_ms`` is the CLI spelling of the injected delay (``"10:500"`` uniform,
    ``"normal:100:20"``, ``"pareto:5:1.5:2000"``, ``"50"`` fixed; see
    :func:`~edgeswarm.mqtt.faults.parse_latency`); ``loss`` is the probability that a device's
    message is dropped on send; failures follow :class:`~edgeswarm.mqtt.faults.FailureSchedule`.
    """

    devices: int = 10
    duration_s: float = 60.0
    latency_ms: str = "0"
    loss: float = 0.0
    fail_prob: float = 0.0
    fail_every_s: float = 30.0
    fail_duration_s: float = 30.0
    qos: int = 1
    seed: int = 0
    out: str = "results"
    label: str = "mqtt"
    keepalive_s: int = 10
    telemetry_s: float = 1.0
    heartbeat_s: float = 10.0

    def __post_init__(self) -> None:
        require_int("devices", self.devices, minimum=1, maximum=1_000_000)
        _check_open_files(self.devices)
        object.__setattr__(self, "duration_s", _positive_seconds("duration_s", self.duration_s))
        parse_latency(self.latency_ms, name="latency_ms")
        object.__setattr__(self, "loss", _probability("loss", self.loss))
        if self.qos not in (0, 1, 2) or isinstance(self.qos, bool):
            raise ValueError(f"qos: {self.qos!r} is not allowed; use 0, 1 or 2")
        if not isinstance(self.label, str) or not _LABEL.fullmatch(self.label):
            raise ValueError(
                f"label: {self.label!r} is not allowed; use 1-64 letters, digits, '_', '.' or '-'"
            )
        if not isinstance(self.out, (str, os.PathLike)):
            raise ValueError(f"out: expected a folder path, got {self.out!r}")
        object.__setattr__(self, "out", check_out_folder(self.out))
        # Their constructors check the rest: fail_*, seed, keepalive_s, telemetry_s, heartbeat_s.
        _ = self.failures, self.device_options

    @property
    def latency(self) -> net.LatencyModel:
        return parse_latency(self.latency_ms, name="latency_ms")

    @property
    def faults(self) -> LinkFaults:
        return LinkFaults(latency=self.latency, send_loss=self.loss)

    @property
    def failures(self) -> FailureSchedule:
        return FailureSchedule(
            fail_prob=self.fail_prob, fail_every_s=self.fail_every_s, fail_duration_s=self.fail_duration_s
        )

    @property
    def device_options(self) -> DeviceOptions:
        return DeviceOptions(
            fleet=FLEET,
            qos=self.qos,
            heartbeat_s=self.heartbeat_s,
            telemetry_s=self.telemetry_s,
            keepalive_s=self.keepalive_s,
            faults=self.faults,
            seed=self.seed,
        )

    @property
    def drain_s(self) -> float:
        """How long the devices keep running after the window: the injected delay's 99.9th
        percentile (from 10,000 seeded draws) plus a margin, at most a minute."""
        tail_ms = float(np.percentile(self.latency.sample(10_000, seed=self.seed), 99.9))
        return min(tail_ms / 1000.0 + _DRAIN_MARGIN_S, _DRAIN_CAP_S)


def check_out_folder(out: str | os.PathLike[str]) -> str:
    """``out`` if results can be written there: an existing writable folder, or one that can be
    created (its nearest existing parent is a writable folder). ValueError naming ``out``."""
    path = Path(out)
    if str(out) == "":
        raise ValueError("out: '' is not allowed; allowed a folder path")
    existing = path
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise ValueError(f"out: {str(out)!r}: {str(existing)!r} is not a folder; allowed a writable folder")
    try:  # os.access trusts mode bits, which root ignores, and knows nothing of read-only mounts
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        raise ValueError(
            f"out: {str(out)!r}: the folder {str(existing)!r} takes no new file ({error.strerror}); "
            "allowed a writable folder"
        ) from None
    return str(out)


def _check_open_files(devices: int) -> None:
    """Every device holds a socket: refuse a fleet this process may not open (``ulimit -n``)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and devices + _FILES_PER_PROCESS > hard:
        raise ValueError(
            f"devices: {devices} needs {devices + _FILES_PER_PROCESS} open files and this process may "
            f"open {hard} (ulimit -n); allowed <= {hard - _FILES_PER_PROCESS}, or run shards"
        )


def _raise_open_files(devices: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = devices + _FILES_PER_PROCESS
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed if hard == resource.RLIM_INFINITY else hard, hard))


# --- folders --------------------------------------------------------------------------------------


def _timestamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")


def _publish(partial: Path, out: Path, name: str) -> Path:
    """Renames the complete ``partial`` folder to ``out/name`` (``name-2``, ... when taken)."""
    for attempt in range(1, 1000):
        final = out / (name if attempt == 1 else f"{name}-{attempt}")
        if final.exists():
            continue
        try:
            os.rename(partial, final)  # atomic; fails on a non-empty folder made meanwhile
        except OSError:
            continue
        return final
    raise RuntimeError(f"out: no free folder name for {name!r} in {str(out)!r}")


def _new_partial(out: Path, name: str) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".partial", dir=out))


# --- the run --------------------------------------------------------------------------------------


def _stats(values: np.ndarray) -> dict[str, float | int]:
    if len(values) == 0:
        return {"count": 0, "mean": math.nan, "p50": math.nan, "p99": math.nan, "max": math.nan}
    return {
        "count": len(values),
        "mean": float(np.mean(values)),
        "p50": float(np.percentile(values, 50)),
        "p99": float(np.percentile(values, 99)),
        "max": float(np.max(values)),
    }


class _Recorder:
    """Everything the run hears: events and messages, appended to the devices' logs every tick
    (files stay closed in between, so a large fleet does not hold one open file per device); kept
    in memory are the events and one latency and one arrival time per message."""

    def __init__(self, folder: Path, device_ids: list[str]) -> None:
        self.folder = folder
        self.folder.mkdir()
        self.wall_t0 = time.time()
        self.events: list[dict[str, Any]] = []
        self.received_at: list[float] = []  # every unique message, for delivery over time
        self.window: dict[str, list[tuple[float, bool]]] = {d: [] for d in device_ids}  # latency, flushed
        self.cutoff_wall = math.inf
        # Every log begins with its device's start, so none is empty whatever the device did.
        start = {"kind": "event", "t_s": 0.0, "event": "start", "detail": ""}
        self._pending: dict[str, list[str]] = {d: [json.dumps({**start, "device": d})] for d in device_ids}

    def path(self, device: str) -> Path:
        return self.folder / f"device_{device}.jsonl"

    def event(self, record: dict[str, Any]) -> None:
        self.events.append(record)
        self._pending[record["device"]].append(json.dumps({"kind": "event", **record}))

    def message(self, record: dict[str, Any]) -> None:
        device = record["device"]
        if device not in self._pending:
            return  # not one of our devices (another client publishing under the fleet's topics)
        line = {"kind": "message", "t_s": record["received_at"] - self.wall_t0, **record}
        self._pending[device].append(json.dumps(line))
        if record["order"] != "duplicate":
            self.received_at.append(record["received_at"] - self.wall_t0)
            if record["sent_at"] < self.cutoff_wall:
                self.window[device].append((record["latency_ms"], record["flushed"]))

    def flush(self) -> None:
        for device, lines in self._pending.items():
            if lines:
                with self.path(device).open("a", encoding="utf-8") as handle:
                    handle.write("\n".join(lines) + "\n")
                lines.clear()


async def _wait_for(condition: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def _run_fleet(
    config: ExperimentConfig, broker: Broker, recorder: _Recorder, progress: bool
) -> tuple[MqttFleet, Receiver, dict[str, dict[str, int]]]:
    """Runs the fleet for the window plus the drain; returns (fleet, receiver, each device's
    counters at the cut-off)."""
    from tqdm import tqdm

    client_loop = ClientLoop()
    loop = client_loop.loop
    receiver = Receiver(client_loop, broker.host, broker.port, fleet=FLEET, on_record=recorder.message)
    receiver.start()
    if not await _wait_for(lambda: receiver.connected, _CONNECT_TIMEOUT_S):
        raise RuntimeError(f"the receiver could not connect to {broker.url}: {receiver.refused or 'timeout'}")
    fleet = MqttFleet(
        broker.host,
        broker.port,
        total=config.devices,
        options=config.device_options,
        failures=config.failures,
        client_loop=client_loop,
        on_event=recorder.event,
    )
    at_cutoff: dict[str, dict[str, int]] = {}

    def cut_off() -> None:  # the window ends: what was produced so far is what is counted
        recorder.cutoff_wall = time.time()
        at_cutoff.update({d: dict(device.counters) for d, device in fleet.devices.items()})

    drain_s = config.drain_s
    recorder.wall_t0 = time.time()
    start = loop.time()
    fleet.start(horizon_s=config.duration_s)
    loop.call_at(start + config.duration_s, cut_off)
    bar = tqdm(
        total=round(config.duration_s, 1),
        unit="s",
        desc=f"experiment {config.label} ({config.devices} devices)",
        file=sys.stderr,
        disable=not progress,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} s{postfix}",
    )
    try:
        while (now := loop.time() - start) < config.duration_s + drain_s:
            await asyncio.sleep(_TICK_S)
            statuses = fleet.statuses()
            bar.n = round(min(loop.time() - start, config.duration_s), 1)
            bar.set_postfix_str(
                f"received {len(recorder.received_at)}, online {statuses.get('online', 0)}, "
                f"failed {statuses.get('failed', 0)}{', draining' if now >= config.duration_s else ''}",
                refresh=True,
            )
            recorder.flush()
    finally:
        bar.close()
        fleet.stop()
        await _wait_for(lambda: client_loop.serviced() <= 1, _STOP_TIMEOUT_S)  # the receiver's only
        receiver.stop()
        await _wait_for(lambda: client_loop.serviced() == 0, _STOP_TIMEOUT_S)
        client_loop.close()
        recorder.flush()
    return fleet, receiver, at_cutoff


def _run_to_completion(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """``asyncio.run``, also from code that runs inside an event loop (a Jupyter cell): there the
    experiment gets a thread and a loop of its own, and the caller waits for it."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="experiment") as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _injected_ms(config: ExperimentConfig, device: int, produced: int) -> np.ndarray:
    """The delays the device's first ``produced`` messages were given (copies not dropped)."""
    fates = config.faults.send_fates(produced, seed=config.seed, device=device)
    return fates.delay_us[~fates.lost] / 1000.0


def _metrics_rows(
    config: ExperimentConfig,
    fleet: MqttFleet,
    receiver: Receiver,
    recorder: _Recorder,
    at_cutoff: dict[str, dict[str, int]],
) -> tuple[list[dict[str, Any]], np.ndarray, np.ndarray, np.ndarray]:
    rows: list[dict[str, Any]] = []
    measured, direct, injected = [], [], []
    for device_id, device in fleet.devices.items():
        c, w = device.counters, at_cutoff.get(device_id, device.counters)
        window = recorder.window[device_id]
        latency = np.array([w[0] for w in window], float)
        unflushed = np.array([w[0] for w in window if not w[1]], float)
        delays = _injected_ms(config, device.index, w["produced"])
        seen = receiver.metrics(device_id) if device_id in receiver.devices else None
        m, i = _stats(latency), _stats(delays)
        rows.append(
            {
                "device": device_id,
                "produced": w["produced"],
                "received": len(window),
                "delivery_ratio": len(window) / w["produced"] if w["produced"] else math.nan,
                "flushed_received": int(sum(w[1] for w in window)),
                "duplicates_received": seen["duplicates"] if seen else 0,
                "reordered": seen["reordered"] if seen else 0,
                "missing": seen["missing"] if seen else 0,
                "sent": c["sent"],
                "acked": c["acked"],
                "duplicated": w["duplicated"],
                "dropped_send_loss": w["dropped_send_loss"],
                "dropped_buffer_full": c["dropped_buffer_full"],
                "dropped_receive_loss": c["dropped_receive_loss"],
                "dropped_stopped": c["dropped_stopped"],
                "buffered": len(device.buffer),
                "latency_mean_ms": m["mean"],
                "latency_p50_ms": m["p50"],
                "latency_p99_ms": m["p99"],
                "latency_max_ms": m["max"],
                "injected_mean_ms": i["mean"],
                "injected_p50_ms": i["p50"],
                "injected_p99_ms": i["p99"],
                "failures": c["failures"],
                "connects": c["connects"],
                "connection_losses": c["connection_losses"],
                "reconnect_attempts": c["reconnect_attempts"],
                "wills": seen["wills"] if seen else 0,
                "final_status": device.status,
                "broker_status": seen["broker_status"] if seen else "unknown",
            }
        )
        measured.append(latency)
        direct.append(unflushed)
        injected.append(delays)
    return rows, np.concatenate(measured), np.concatenate(direct), np.concatenate(injected)


def _broker_disconnects(log_path: Path) -> int:
    """Connections the broker dropped because the client went silent (keepalive × 1.5)."""
    if not log_path.is_file():
        return 0
    return sum(_BROKER_TIMEOUT in line for line in log_path.read_text(errors="replace").splitlines())


def _versions() -> dict[str, str]:
    def mosquitto() -> str:
        try:
            out = subprocess.run(
                [str(find_mosquitto()), "-h"], capture_output=True, text=True, timeout=5, check=False
            ).stdout
        except (OSError, subprocess.SubprocessError):
            return "unknown"
        match = re.search(r"mosquitto version (\S+)", out)
        return match.group(1) if match else "unknown"

    def git() -> str:
        try:
            done = subprocess.run(
                ["git", "-C", str(Path(__file__).parent), "rev-parse", "HEAD"],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return "unknown"
        return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else "unknown"

    from edgeswarm import __version__

    return {
        "edgeswarm": __version__,
        "git_commit": git(),
        "python": platform.python_version(),
        "paho_mqtt": installed_version("paho-mqtt"),
        "mosquitto": mosquitto(),
    }


def _json_ready(value: Any) -> Any:
    """NaN as null, so that every JSON file is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    return value


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    path.write_text(json.dumps(_json_ready(payload), indent=1, allow_nan=False) + "\n", encoding="utf-8")


def _write_table(rows: list[dict[str, Any]], folder: Path, name: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), folder / f"{name}.parquet")
    with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _remove_empty_files(folder: Path) -> None:
    """Mosquitto's stdout capture is empty when it had nothing to say before its log opened."""
    for path in folder.rglob("*"):
        if path.is_file() and path.stat().st_size == 0:
            path.unlink()


def run_experiment(config: ExperimentConfig, *, progress: bool = True) -> Path:
    """Runs one experiment (blocking; its own event loop) and returns its results folder.
    ``progress`` shows a tqdm bar on stderr (elapsed / duration, messages, devices online / failed)."""
    from edgeswarm.mqtt import experiment_plots

    if not isinstance(config, ExperimentConfig):
        raise ValueError(f"config: expected an ExperimentConfig, got {config!r}")
    experiment_plots.require_matplotlib()  # before the run, not after it
    _raise_open_files(config.devices)
    out = Path(config.out)
    name = f"experiment_{config.label}_{_timestamp()}"
    partial = _new_partial(out, name)
    try:
        started_at = datetime.now(timezone.utc).isoformat()
        broker = Broker(partial / "broker", max_keepalive=65535)
        recorder = _Recorder(partial / "devices", [str(i) for i in range(config.devices)])
        try:
            broker.start()
            fleet, receiver, at_cutoff = _run_to_completion(_run_fleet(config, broker, recorder, progress))
        finally:
            broker.stop()
        rows, measured, direct, injected = _metrics_rows(config, fleet, receiver, recorder, at_cutoff)
        _write_table(rows, partial, "metrics")
        totals = receiver.totals()
        produced_total = sum(r["produced"] for r in rows)
        received_total = sum(r["received"] for r in rows)
        outages = config.failures.fleet(range(config.devices), seed=config.seed, horizon_s=config.duration_s)
        summary = {
            "label": config.label,
            "devices": config.devices,
            "duration_s": config.duration_s,
            "drain_s": config.drain_s,
            "produced": produced_total,
            "received": received_total,
            "delivery_ratio": received_total / produced_total if produced_total else math.nan,
            "expected_delivery_ratio": 1.0 - config.loss,
            "received_per_device": {r["device"]: r["received"] for r in rows},
            "duplicates_received": totals["duplicates"],
            "reordered": totals["reordered"],
            "missing": totals["missing"],
            "dropped": {
                reason: sum(r[f"dropped_{reason}"] for r in rows)
                for reason in ("send_loss", "buffer_full", "receive_loss", "stopped")
            },
            "buffered_at_end": sum(r["buffered"] for r in rows),
            "latency_ms": {
                "measured": _stats(measured),
                "measured_not_flushed": _stats(direct),
                "injected": _stats(injected),
                "injected_model": {"kind": config.latency.kind, **config.latency.params},
            },
            "failures": sum(r["failures"] for r in rows),
            "planned_outages": len(outages),
            "broker_disconnects": _broker_disconnects(broker.log_path),
            "wills_delivered": totals["wills"],
            "connection_losses": sum(r["connection_losses"] for r in rows),
            "receiver_connection_losses": receiver.connection_losses,
        }
        _write_json(partial / "summary.json", summary)
        _write_json(
            partial / "config.json",
            {
                "experiment": dataclasses.asdict(config),
                "fleet": FLEET,
                "broker_port": broker.port,
                "started_at": started_at,
                "versions": _versions(),
            },
        )
        experiment_plots.latency_cdf(measured, injected, partial / "latency_cdf.png")
        experiment_plots.delivery_over_time(
            np.array(recorder.received_at), config.duration_s, partial / "delivery_over_time.png"
        )
        experiment_plots.failure_timeline(
            recorder.events, config.devices, config.duration_s, partial / "failure_timeline.png"
        )
        _remove_empty_files(partial)
        return _publish(partial, out, name)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)  # nothing half-written is left to mix with a run
        raise


_COMPARED = (
    ("devices", "devices"),
    ("produced", "produced"),
    ("received", "received"),
    ("delivery_ratio", "delivery ratio"),
    ("latency_mean_ms", "latency mean (ms)"),
    ("latency_p50_ms", "p50 (ms)"),
    ("latency_p99_ms", "p99 (ms)"),
    ("latency_max_ms", "max (ms)"),
    ("injected_p50_ms", "injected p50 (ms)"),
    ("injected_p99_ms", "injected p99 (ms)"),
    ("failures", "failures"),
    ("wills_delivered", "wills"),
    ("broker_disconnects", "broker disconnects"),
    ("folder", "folder"),
)


def _comparison_row(folder: Path) -> dict[str, Any]:
    summary = json.loads((folder / "summary.json").read_text())
    measured, injected = summary["latency_ms"]["measured"], summary["latency_ms"]["injected"]
    return {
        "devices": summary["devices"],
        "produced": summary["produced"],
        "received": summary["received"],
        "delivery_ratio": summary["delivery_ratio"],
        "latency_mean_ms": measured["mean"],
        "latency_p50_ms": measured["p50"],
        "latency_p99_ms": measured["p99"],
        "latency_max_ms": measured["max"],
        "injected_p50_ms": injected["p50"],
        "injected_p99_ms": injected["p99"],
        "failures": summary["failures"],
        "wills_delivered": summary["wills_delivered"],
        "broker_disconnects": summary["broker_disconnects"],
        "folder": folder.name,
    }


def _markdown(rows: list[dict[str, Any]]) -> str:
    def cell(value: Any) -> str:
        if value is None:
            return "n/a"
        return f"{value:.4g}" if isinstance(value, float) else str(value)

    lines = [
        "| " + " | ".join(title for _, title in _COMPARED) + " |",
        "|" + "|".join("---" if key == "folder" else "---:" for key, _ in _COMPARED) + "|",
    ]
    lines += ["| " + " | ".join(cell(row[key]) for key, _ in _COMPARED) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def run_comparison(config: ExperimentConfig, devices: list[int], *, progress: bool = True) -> Path:
    """One experiment per fleet size in ``devices`` (in order, one after the other), each as
    ``config`` with that many devices, into ``<out>/comparison_<label>_<timestamp>/`` with
    ``comparison.csv`` and ``comparison.md`` (one row per experiment). Returns that folder."""
    if not isinstance(devices, (list, tuple)) or not devices:
        raise ValueError(f"devices: {devices!r} is not allowed; allowed a non-empty list of fleet sizes")
    configs = [dataclasses.replace(config, devices=n) for n in devices]  # validates each size
    out = Path(config.out)
    name = f"comparison_{config.label}_{_timestamp()}"
    partial = _new_partial(out, name)
    try:
        rows = []
        for one in configs:
            one = dataclasses.replace(one, out=str(partial), label=f"{config.label}-{one.devices}devices")
            rows.append(_comparison_row(run_experiment(one, progress=progress)))
        with (partial / "comparison.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        (partial / "comparison.md").write_text(_markdown(rows), encoding="utf-8")
        return _publish(partial, out, name)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def config_from_args(args: argparse.Namespace) -> ExperimentConfig:
    """The config of ``edgeswarm experiment mqtt`` (the first fleet size of ``--devices``)."""
    return ExperimentConfig(
        devices=args.devices[0],
        duration_s=args.duration,
        latency_ms=args.latency_ms,
        loss=args.loss,
        fail_prob=args.fail_prob,
        fail_every_s=args.fail_every,
        fail_duration_s=args.fail_duration,
        qos=args.qos,
        seed=args.seed,
        out=args.out,
        label=args.label,
        keepalive_s=args.keepalive,
        telemetry_s=args.telemetry_s,
        heartbeat_s=args.heartbeat_s,
    )
