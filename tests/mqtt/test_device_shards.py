"""`edgeswarm devices --shard i/N` as separate processes against one broker: together they run the
fleet once (every id, no id twice), and SIGTERM stops each cleanly (retained offline for all)."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys

import pytest
from edgeswarm.mqtt import Broker
from edgeswarm.mqtt.client_loop import ClientLoop
from edgeswarm.mqtt.receiver import Receiver

from tests.mqtt.test_devices import until


@pytest.mark.parametrize("shards", [2, 3])
def test_shards_run_the_whole_fleet_once_and_stop_cleanly(broker: Broker, shards: int) -> None:
    total = 3 * shards + 1  # uneven shares

    async def scenario() -> list[subprocess.Popen[str]]:
        loop = ClientLoop()
        receiver = Receiver(loop, broker.host, broker.port, fleet="lab")
        receiver.start()
        await until(lambda: receiver.connected, "the receiver")
        await asyncio.sleep(0.05)
        processes = [
            subprocess.Popen(  # noqa: ASYNC220 - starting a process does not wait for it
                [
                    sys.executable,
                    "-m",
                    "edgeswarm",
                    "devices",
                    "--broker",
                    broker.url,
                    "--fleet",
                    "lab",
                    "--devices",
                    str(total),
                    "--shard",
                    f"{i}/{shards}",
                    "--telemetry-s",
                    "0.1",
                    "--status-every",
                    "60",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for i in range(shards)
        ]
        try:

            def every_device_reporting() -> bool:
                ids = receiver.devices
                return len(ids) == total and all(
                    receiver.metrics(d)["by_type"].get("telemetry", {}).get("received", 0) >= 3 for d in ids
                )

            await until(every_device_reporting, "telemetry from every device", timeout_s=30)
            assert sorted(int(d) for d in receiver.devices) == list(range(total))
            for process in processes:
                process.send_signal(signal.SIGTERM)
            await until(
                lambda: all(p.poll() is not None for p in processes), "the shards to exit", timeout_s=15
            )
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
    sizes = []
    for process in processes:
        out, err = process.communicate(timeout=5)
        assert process.returncode == 0, err
        last = json.loads(out.strip().splitlines()[-1])
        assert set(last["statuses"]) == {"stopped"}
        assert last["connection_losses"] == 0  # no other process took over one of its ids
        sizes.append(last["statuses"]["stopped"])
    assert sum(sizes) == total and max(sizes) - min(sizes) <= 1
