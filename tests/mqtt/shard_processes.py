"""Runs `edgeswarm devices` shard processes against one broker until every device has reported,
then SIGTERMs them: together they must have run every id once and stopped cleanly (retained
offline for each device, nothing missing, duplicated or willed). Shared by the shard test and the
StatefulSet rehearsal."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
from typing import Any

from edgeswarm.mqtt import Broker
from edgeswarm.mqtt.client_loop import ClientLoop
from edgeswarm.mqtt.receiver import Receiver

from tests.mqtt.test_devices import until


def run_shards(
    broker: Broker,
    commands: list[tuple[list[str], dict[str, str]]],
    *,
    fleet: str,
    devices: int,
    telemetry_each: int,
    timeout_s: float,
) -> list[dict[str, Any]]:
    """Starts each (argv, extra environment), checks the fleet as above and returns each
    process's last status line (the processes exited 0)."""

    async def scenario() -> list[subprocess.Popen[str]]:
        loop = ClientLoop()
        receiver = Receiver(loop, broker.host, broker.port, fleet=fleet)
        receiver.start()
        await until(lambda: receiver.connected, "the receiver")
        await asyncio.sleep(0.05)  # the SUBACK before the first device publishes
        processes = [
            subprocess.Popen(  # noqa: ASYNC220 - starting a process does not wait for it
                argv, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for argv, env in commands
        ]
        try:

            def every_device_reporting() -> bool:
                ids = receiver.devices
                return len(ids) == devices and all(
                    receiver.metrics(d)["by_type"].get("telemetry", {}).get("received", 0) >= telemetry_each
                    for d in ids
                )

            await until(every_device_reporting, "telemetry from every device", timeout_s=timeout_s)
            assert sorted(int(d) for d in receiver.devices) == list(range(devices))
            for process in processes:
                process.send_signal(signal.SIGTERM)
            await until(lambda: all(p.poll() is not None for p in processes), "the processes to exit", 15)
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

    lasts = []
    for process in asyncio.run(scenario()):
        out, err = process.communicate(timeout=5)
        assert process.returncode == 0, err
        lasts.append(json.loads(out.strip().splitlines()[-1]))
    return lasts
