"""The device StatefulSet rehearsed on this machine: its container's own arguments (`--shard auto/N`), one
process per pod with the pod's hostname (HOSTNAME=edgeswarm-devices-<ordinal>, as Kubernetes sets it),
against one local broker. Only the broker's address and the fleet's size are changed, to loopback and
a small fleet; together the processes run every device once and stop cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys

from edgeswarm.mqtt import Broker
from edgeswarm.mqtt.client_loop import ClientLoop
from edgeswarm.mqtt.device_fleet import shard_range
from edgeswarm.mqtt.receiver import Receiver

from tests.deploy.manifests import find, load_all
from tests.mqtt.test_devices import until

DEVICES = 13  # uneven shares over the manifest's 4 shards


def _pod_commands(broker_url: str) -> list[tuple[str, list[str]]]:
    """(hostname, argv) of every pod of the StatefulSet, with --broker and --devices replaced."""
    stateful_set = find(load_all(), "StatefulSet", "edgeswarm-devices").raw
    (container,) = stateful_set["spec"]["template"]["spec"]["containers"]
    args = list(container["args"])
    for option, value in (("--broker", broker_url), ("--devices", str(DEVICES))):
        assert args.count(option) == 1, option
        args[args.index(option) + 1] = value
    command = [sys.executable, "-m", "edgeswarm", *args]
    return [(f"edgeswarm-devices-{i}", command) for i in range(stateful_set["spec"]["replicas"])]


def test_the_statefulsets_pods_run_the_fleet_once_and_stop_cleanly(tmp_path):
    with Broker(tmp_path / "broker") as broker:
        pods = _pod_commands(broker.url)
        fleet = pods[0][1][pods[0][1].index("--fleet") + 1]

        async def scenario() -> list[subprocess.Popen[str]]:
            loop = ClientLoop()
            receiver = Receiver(loop, broker.host, broker.port, fleet=fleet)
            receiver.start()
            await until(lambda: receiver.connected, "the receiver")
            processes = [
                subprocess.Popen(  # noqa: ASYNC220 - starting a process does not wait for it
                    argv,
                    env={**os.environ, "HOSTNAME": hostname},
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for hostname, argv in pods
            ]
            try:

                def every_device_reporting() -> bool:
                    ids = receiver.devices
                    return len(ids) == DEVICES and all(
                        receiver.metrics(d)["by_type"].get("telemetry", {}).get("received", 0) >= 2
                        for d in ids
                    )

                await until(every_device_reporting, "telemetry from every device", timeout_s=60)
                assert sorted(int(d) for d in receiver.devices) == list(range(DEVICES))
                for process in processes:
                    process.send_signal(signal.SIGTERM)
                await until(lambda: all(p.poll() is not None for p in processes), "the pods to exit", 15)
                await until(
                    lambda: all(receiver.metrics(d)["broker_status"] == "offline" for d in receiver.devices),
                    "every device's retained offline",
                )
                totals = receiver.totals()
                assert totals["missing"] == 0 and totals["duplicates"] == 0 and totals["wills"] == 0
            finally:
                for process in processes:
                    if process.poll() is None:
                        process.kill()
                receiver.stop()
                await loop.drain()
                loop.close()
            return processes

        processes = asyncio.run(scenario())
    for ordinal, process in enumerate(processes):
        out, err = process.communicate(timeout=5)
        assert process.returncode == 0, err
        last = json.loads(out.strip().splitlines()[-1])
        # The pod with ordinal i ran exactly shard i's devices (all stopped, none lost to another shard).
        assert last["statuses"] == {"stopped": len(shard_range(DEVICES, ordinal, len(processes)))}, last
        assert last["connection_losses"] == 0
