"""MQTT on a real Mosquitto broker (issue 10): the broker helper here; device agents come next.

`Broker` starts Mosquitto on loopback from a generated config (persistence, $SYS, optional users with a
per-device ACL, optional TLS) and stops it cleanly.
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

__all__ = [
    "TOPIC_ROOT",
    "Broker",
    "BrokerError",
    "MosquittoNotFoundError",
    "PortInUseError",
    "find_mosquitto",
    "free_port",
]
