"""MQTT on a real Mosquitto broker (issue 10).

- `Broker` (broker.py): Mosquitto on loopback from a generated config (persistence, $SYS, optional users
  with a per-device ACL, optional TLS), stopped cleanly; `parse_broker_url` (broker_url.py).
- Device agents: `MqttDevice` (device.py, one device as a paho-mqtt 2.x client: heartbeats, telemetry,
  retained status with a Last Will, inbox, seeded faults, offline buffer, reconnect with backoff),
  `MqttFleet` (device_fleet.py, a fleet or one shard of it on one event loop, seeded failures),
  `Receiver` (receiver.py, end-to-end latency and loss / duplicates / reordering by sequence number),
  `ClientLoop` (client_loop.py, many clients on one asyncio loop); `edgeswarm devices` (device_runner.py).
- Faults (faults.py), the offline buffer (offline_buffer.py), reconnect backoff (backoff.py).
- Timed experiments: `run_experiment`, `run_comparison` (experiment.py, `edgeswarm experiment mqtt`).
- Swarm gossip over the broker: `MqttGossip`, `run_over_mqtt` (swarm_gossip.py, `edgeswarm run --gossip mqtt`).
"""

from __future__ import annotations

from edgeswarm.mqtt.broker import (
    TOPIC_ROOT,
    Broker,
    BrokerError,
    MosquittoNotFoundError,
    PortInUseError,
    find_mosquitto,
    free_port,
)
from edgeswarm.mqtt.broker_url import BrokerAddress, parse_broker_url
from edgeswarm.mqtt.client_loop import ClientLoop
from edgeswarm.mqtt.device import DeviceOptions, MqttDevice
from edgeswarm.mqtt.device_fleet import MqttFleet
from edgeswarm.mqtt.experiment import ExperimentConfig, run_comparison, run_experiment
from edgeswarm.mqtt.faults import FailureSchedule, LinkFaults
from edgeswarm.mqtt.receiver import Receiver
from edgeswarm.mqtt.swarm_gossip import MqttGossip, run_over_mqtt

__all__ = [
    "TOPIC_ROOT",
    "Broker",
    "BrokerAddress",
    "BrokerError",
    "ClientLoop",
    "DeviceOptions",
    "ExperimentConfig",
    "FailureSchedule",
    "LinkFaults",
    "MosquittoNotFoundError",
    "MqttDevice",
    "MqttFleet",
    "MqttGossip",
    "PortInUseError",
    "Receiver",
    "find_mosquitto",
    "free_port",
    "parse_broker_url",
    "run_comparison",
    "run_experiment",
    "run_over_mqtt",
]
