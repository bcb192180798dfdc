"""Memory per MQTT device, for sizing the device shards and the broker of deploy/k8s.

Starts a broker on loopback and one shard of `--devices` devices (heartbeats and 1 Hz telemetry, QoS 1)
in this process, waits until every device is online and has sent for `--settle` seconds, and prints the
resident memory (VmRSS) that the shard process and the mosquitto process gained per device.

    python deploy/measure_memory.py --devices 2000 --settle 10
"""

from __future__ import annotations

import argparse
import asyncio
import re
from pathlib import Path

from edgeswarm.mqtt import Broker
from edgeswarm.mqtt.device import DeviceOptions
from edgeswarm.mqtt.device_fleet import MqttFleet

_CONNECT_TIMEOUT_S = 120.0


def rss_bytes(pid: int | str = "self") -> int:
    """Resident memory of a process now, from /proc/<pid>/status (Linux)."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB$", status, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no VmRSS in /proc/{pid}/status")
    return int(match.group(1)) * 1024


async def measure(devices: int, settle_s: float) -> dict[str, float]:
    with Broker() as broker:
        assert broker.pid is not None
        shard_before, broker_before = rss_bytes(), rss_bytes(broker.pid)
        fleet = MqttFleet(
            broker.host, broker.port, total=devices, options=DeviceOptions(fleet="measure", qos=1)
        )
        fleet.start()
        deadline = asyncio.get_running_loop().time() + _CONNECT_TIMEOUT_S
        while fleet.statuses().get("online", 0) < devices:
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"not all online within {_CONNECT_TIMEOUT_S} s: {fleet.statuses()}")
            await asyncio.sleep(0.5)  # polling the statuses under a deadline
        await asyncio.sleep(settle_s)  # the measured state: every device sending, buffers in use
        shard_after, broker_after = rss_bytes(), rss_bytes(broker.pid)
        totals = fleet.totals()
        fleet.stop()
        await fleet.client_loop.drain()
    return {
        "devices": devices,
        "shard_kib_per_device": (shard_after - shard_before) / devices / 1024,
        "broker_kib_per_connection": (broker_after - broker_before) / devices / 1024,
        "shard_rss_mib": shard_after / 2**20,
        "broker_rss_mib": broker_after / 2**20,
        "sent": totals.get("sent", 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=2000)
    parser.add_argument("--settle", type=float, default=10.0, help="seconds of sending before measuring")
    args = parser.parse_args()
    for key, value in asyncio.run(measure(args.devices, args.settle)).items():
        print(f"{key:>28}: {value:,.1f}")


if __name__ == "__main__":
    main()
