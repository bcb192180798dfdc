"""The device StatefulSet rehearsed on this machine: its container's own arguments (`--shard auto/N`), one
process per pod with the pod's hostname (HOSTNAME=edgeswarm-devices-<ordinal>, as Kubernetes sets it),
against one local broker. Only the broker's address and the fleet's size are changed, to loopback and
a small fleet; together the processes run every device once and stop cleanly on SIGTERM."""

from __future__ import annotations

import sys

from edgeswarm.mqtt import Broker
from edgeswarm.mqtt.device_fleet import shard_range

from tests.deploy.manifests import find, load_all
from tests.mqtt.shard_processes import run_shards

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
        commands = [(argv, {"HOSTNAME": hostname}) for hostname, argv in pods]
        lasts = run_shards(broker, commands, fleet=fleet, devices=DEVICES, telemetry_each=2, timeout_s=60)
    for ordinal, last in enumerate(lasts):
        # The pod with ordinal i ran exactly shard i's devices (all stopped, none lost to another shard).
        assert last["statuses"] == {"stopped": len(shard_range(DEVICES, ordinal, len(lasts)))}, last
        assert last["connection_losses"] == 0
