"""`edgeswarm devices --shard i/N` as separate processes against one broker: together they run the
fleet once (every id, no id twice), and SIGTERM stops each cleanly (retained offline for all)."""

from __future__ import annotations

import sys

import pytest
from edgeswarm.mqtt import Broker

from tests.mqtt.shard_processes import run_shards


@pytest.mark.parametrize("shards", [2, 3])
def test_shards_run_the_whole_fleet_once_and_stop_cleanly(broker: Broker, shards: int) -> None:
    total = 3 * shards + 1  # uneven shares
    commands = [
        (
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
            {},
        )
        for i in range(shards)
    ]
    lasts = run_shards(broker, commands, fleet="lab", devices=total, telemetry_each=3, timeout_s=30)
    sizes = []
    for last in lasts:
        assert set(last["statuses"]) == {"stopped"}
        assert last["connection_losses"] == 0  # no other process took over one of its ids
        sizes.append(last["statuses"]["stopped"])
    assert sum(sizes) == total and max(sizes) - min(sizes) <= 1
