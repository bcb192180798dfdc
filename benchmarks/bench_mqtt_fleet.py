"""MQTT device fleets on a real Mosquitto, on loopback: delivery, latency, generator cost, knee.

    python benchmarks/bench_mqtt_fleet.py [--seconds 20] [--quick]

Each row starts a fresh broker, a receiver in this process (one paho client on the asyncio loop,
QoS 2 subscription, so the delivered QoS is the publisher's), and the devices as
``edgeswarm devices --shard i/N`` processes (at most 5,000 devices each). After every device is
online and a warm-up, it measures for ``--seconds``: latency (receiver clock minus the embedded
send time, so it includes any injected delay) of the messages received in the window, each
generator's CPU (utime + stime from /proc) and resident memory per device, and the broker's own
``$SYS`` counters over the same window as a cross-check. Then it stops the generators (SIGTERM),
waits for the stragglers and reports delivery = distinct messages received / messages produced
(the generators' final counters).

Rows: 1,000 / 5,000 / 10,000 devices at 1 Hz at QoS 0 and 1 without faults; 1,000 devices with
10-500 ms uniform injected delay (QoS 1); 1,000 devices at 10 % send loss (QoS 0); and the
saturation knee: 1,000 devices in 2 generator processes at rising telemetry rates (5 to 40 Hz) until
p99 passes 100 ms or delivery falls below 99 %. Writes benchmarks/results/mqtt_fleet.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import signal
import subprocess
import sys
import time
from array import array
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "mqtt_fleet.json"
PER_PROCESS = 5000
WARMUP_S = 3.0
TICK_S = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK_S  # utime, stime


def proc_rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class SysCounters:
    """The broker's $SYS figures, read by the receiver's own client."""

    TOPICS: ClassVar[dict[str, str]] = {
        "$SYS/broker/publish/messages/received": "messages_received",
        "$SYS/broker/publish/messages/sent": "messages_sent",
        "$SYS/broker/publish/messages/dropped": "publish_dropped",
        "$SYS/broker/clients/connected": "clients_connected",
    }

    def __init__(self) -> None:
        self.values: dict[str, float] = {}

    def on_message(self, _c: Any, _u: Any, message: Any) -> None:
        name = self.TOPICS.get(message.topic)
        if name is not None:
            self.values[name] = float(message.payload)


async def wait_until(predicate: Any, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def one_row(
    devices: int,
    *,
    qos: int,
    telemetry_s: float = 1.0,
    latency: str = "0",
    loss: float = 0.0,
    seconds: float,
    processes: int | None = None,
) -> dict[str, Any]:
    from edgeswarm.mqtt import Broker
    from edgeswarm.mqtt.client_loop import ClientLoop
    from edgeswarm.mqtt.receiver import Receiver

    shards = processes or -(-devices // PER_PROCESS)
    window = array("d")  # latency_ms of the data messages received in the window (not tracked by the GC)
    counting = {"on": False}

    def record(r: dict[str, Any]) -> None:
        if counting["on"] and r["order"] != "duplicate":
            window.append(r["latency_ms"])

    with Broker() as broker:
        loop = ClientLoop()
        receiver = Receiver(loop, broker.host, broker.port, fleet="bench", on_record=record)
        sys_counters = SysCounters()
        receiver.client.message_callback_add("$SYS/#", sys_counters.on_message)
        receiver.start()
        await wait_until(lambda: receiver.connected, 10)
        receiver.client.subscribe("$SYS/#", qos=0)
        await asyncio.sleep(0.2)
        procs = [
            subprocess.Popen(  # noqa: ASYNC220 - starting a process does not wait for it
                [
                    sys.executable,
                    "-m",
                    "edgeswarm",
                    "devices",
                    "--broker",
                    broker.url,
                    "--fleet",
                    "bench",
                    "--devices",
                    str(devices),
                    "--shard",
                    f"{i}/{shards}",
                    "--qos",
                    str(qos),
                    "--telemetry-s",
                    str(telemetry_s),
                    "--latency-ms",
                    latency,
                    "--loss",
                    str(loss),
                    "--status-every",
                    "3600",
                    "--seed",
                    "1",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for i in range(shards)
        ]
        try:
            online = await wait_until(lambda: len(receiver.devices) >= devices, 60 + devices / 200)
            if not online:
                raise RuntimeError(f"only {len(receiver.devices)} of {devices} devices reported")
            gc.collect()
            gc.freeze()  # the receiver's per-device state: out of the cycle collector's full passes
            await asyncio.sleep(WARMUP_S)
            cpu0 = [proc_cpu_s(p.pid) for p in procs]
            sys0 = dict(sys_counters.values)
            counting["on"] = True
            t0 = time.time()
            await asyncio.sleep(seconds)
            counting["on"] = False
            elapsed = time.time() - t0
            cpu = sum(proc_cpu_s(p.pid) - c for p, c in zip(procs, cpu0, strict=True)) / elapsed
            rss = [proc_rss_bytes(p.pid) for p in procs]
            sys1 = dict(sys_counters.values)
            for p in procs:
                p.send_signal(signal.SIGTERM)
            finals = []
            for p in procs:
                out, err = await asyncio.to_thread(p.communicate, timeout=60)
                if p.returncode != 0:
                    raise RuntimeError(f"a generator failed: {err[-500:]}")
                finals.append(json.loads(out.strip().splitlines()[-1]))
            produced = sum(f["produced"] for f in finals)
            sent = sum(f["sent"] for f in finals)
            await wait_until(lambda: receiver.totals()["received"] >= sent, 15)
            received = receiver.totals()["received"]
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
            receiver.stop()
            await loop.drain()
            loop.close()
    lat = np.frombuffer(window, dtype=np.float64)
    broker_in = sys1.get("messages_received", 0) - sys0.get("messages_received", 0)
    return {
        "devices": devices,
        "processes": shards,
        "qos": qos,
        "telemetry_hz": 1.0 / telemetry_s,
        "latency_ms_injected": latency,
        "send_loss": loss,
        "window_s": round(elapsed, 2),
        "offered_per_s": round(devices / telemetry_s + devices / 10.0, 1),
        "received_per_s": round(len(window) / elapsed, 1),
        "produced": produced,
        "received": received,
        "generators": {
            key: sum(f[key] for f in finals)
            for key in (
                "sent",
                "acked",
                "buffered",
                "dropped_send_loss",
                "dropped_buffer_full",
                "dropped_stopped",
            )
        },
        "delivery": delivery(produced, received, finals),
        "latency_ms": {
            q: round(float(np.percentile(lat, p)), 3)
            for q, p in (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100))
        }
        | {"mean": round(float(lat.mean()), 3)},
        "generator_cpu_cores": round(cpu, 3),
        "generator_cpu_us_per_message": round(cpu / (len(window) / elapsed) * 1e6, 1),
        "generator_rss_kb_per_device": round(sum(rss) / devices / 1024, 1),
        "generator_rss_kb_per_device_marginal": round(
            (sum(rss) - sum(f["rss_before_devices_bytes"] for f in finals)) / devices / 1024, 1
        ),
        "broker_sys": {
            "messages_received_per_s": round(broker_in / elapsed, 1),
            "publish_dropped": sys1.get("publish_dropped", 0) - sys0.get("publish_dropped", 0),
            "clients_connected": sys1.get("clients_connected"),
        },
    }


def delivery(produced: int, received: int, finals: list[dict[str, Any]]) -> float:
    """Received / produced, leaving out the copies that were still waiting out their injected delay
    when the generators stopped (they never left the device): produced - sent - lost on send - lost
    to a full buffer - still buffered."""
    total = {
        k: sum(f.get(k, 0) for f in finals)
        for k in ("sent", "dropped_send_loss", "dropped_buffer_full", "buffered")
    }
    never_left = (
        produced
        - total["sent"]
        - total["dropped_send_loss"]
        - total["dropped_buffer_full"]
        - total["buffered"]
    )
    return received / (produced - never_left) if produced else float("nan")


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| devices | procs | QoS | Hz | injected | loss | received/s | delivery | p50 ms | p99 ms | max ms "
        "| gen. CPU (cores) | µs/msg | KB/device (marginal) | $SYS in/s |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for r in rows:
        lat = r["latency_ms"]
        lines.append(
            f"| {r['devices']:,} | {r['processes']} | {r['qos']} | {r['telemetry_hz']:g} | {r['latency_ms_injected']} "
            f"| {r['send_loss']:g} | {r['received_per_s']:,.0f} | {100 * r['delivery']:.2f} % | {lat['p50']:.1f} "
            f"| {lat['p99']:.1f} | {lat['max']:.0f} | {r['generator_cpu_cores']:.2f} "
            f"| {r['generator_cpu_us_per_message']:.0f} | {r['generator_rss_kb_per_device']:.1f} "
            f"({r.get('generator_rss_kb_per_device_marginal', float('nan')):.1f}) "
            f"| {r['broker_sys']['messages_received_per_s']:,.0f} |"
        )
    return "\n".join(lines)


def checks(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The issue's targets, from the rows of this run: the injected-delay median against the model's
    median plus the fault-free median (same size and QoS), and delivery at 10 % loss, QoS 0."""
    from edgeswarm.mqtt.faults import parse_latency

    out: dict[str, Any] = {}
    clean = {
        (r["devices"], r["qos"]): r for r in rows if r["latency_ms_injected"] == "0" and r["send_loss"] == 0
    }
    for r in rows:
        if r["latency_ms_injected"] != "0" and (r["devices"], r["qos"]) in clean:
            model = parse_latency(r["latency_ms_injected"])
            injected_p50 = float(np.median(model.sample(1_000_000, seed=1)))
            expected = injected_p50 + clean[(r["devices"], r["qos"])]["latency_ms"]["p50"]
            out[f"delay {r['latency_ms_injected']} ms, {r['devices']} devices"] = {
                "measured_p50_ms": r["latency_ms"]["p50"],
                "injected_p50_ms": round(injected_p50, 3),
                "fault_free_p50_ms": clean[(r["devices"], r["qos"])]["latency_ms"]["p50"],
                "difference_ms": round(r["latency_ms"]["p50"] - expected, 3),
                "target": "within 5 ms",
            }
        if r["send_loss"] > 0:
            out[f"loss {r['send_loss']:g}, QoS {r['qos']}, {r['devices']} devices"] = {
                "delivery": r["delivery"],
                "expected": 1 - r["send_loss"],
                "target": "within 1 percentage point",
            }
    return out


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    seconds = args.seconds
    plan: list[dict[str, Any]] = []
    sizes = [1000] if args.quick else [1000, 5000, 10000]
    for devices in sizes:
        for qos in (0, 1):
            plan.append({"devices": devices, "qos": qos})
    plan.append({"devices": 1000, "qos": 1, "latency": "10:500"})
    plan.append({"devices": 1000, "qos": 0, "loss": 0.1})
    if args.only:
        plan = [{"devices": args.only, "qos": 1}]
    rows = []
    for spec in plan:
        print(f"running {spec} ...", file=sys.stderr, flush=True)
        rows.append(await one_row(seconds=seconds, **spec))
        print(table(rows[-1:]).splitlines()[-1], file=sys.stderr, flush=True)
    knee = []
    if not args.quick and not args.only:
        for hz in (5, 10, 15, 20, 30, 40):
            print(f"knee: 1000 devices at {hz} Hz in 2 processes ...", file=sys.stderr, flush=True)
            row = await one_row(1000, qos=1, telemetry_s=1.0 / hz, seconds=seconds, processes=2)
            knee.append(row)
            print(table([row]).splitlines()[-1], file=sys.stderr, flush=True)
            if row["latency_ms"]["p99"] > 100.0 or row["delivery"] < 0.99:
                break
    return {
        "checks": checks(rows),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "seconds": seconds,
        "rows": rows,
        "knee": knee,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measurement window per row")
    parser.add_argument("--quick", action="store_true", help="1,000 devices only, no knee")
    parser.add_argument("--recheck", action="store_true", help="recompute the checks of the stored results")
    parser.add_argument(
        "--only",
        type=int,
        default=None,
        help="one row, this many devices at QoS 1 (to mqtt_fleet_only_N.json)",
    )
    args = parser.parse_args()
    if args.recheck:
        result = json.loads(RESULTS.read_text())
        for row in result["rows"] + result["knee"]:
            row["delivery"] = delivery(row["produced"], row["received"], [row["generators"]])
        result["checks"] = checks(result["rows"])
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result["checks"], indent=2))
        return
    result = asyncio.run(main_async(args))
    target = RESULTS.with_name(f"mqtt_fleet_only_{args.only}.json") if args.only else RESULTS
    target.parent.mkdir(exist_ok=True)
    target.write_text(json.dumps(result, indent=2) + "\n")
    print(table(result["rows"]))
    print("\n" + json.dumps(result["checks"], indent=2))
    if result["knee"]:
        print("\nSaturation knee (1,000 devices in 2 processes, QoS 1, rising rate):\n")
        print(table(result["knee"]))


if __name__ == "__main__":
    main()
