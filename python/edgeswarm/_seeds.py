"""The one seed derivation of the Python side: every stream and sub-seed comes from ``_core.stream_id``.

The C++ engine derives its streams with ``core::stream_id`` (SplitMix64 steps over up to three
64-bit identifiers) from the seed a component was given: the swarm per (node, epoch, purpose),
the network simulator per purpose, the fleet per (device, time, purpose). Python components
that split one seed among several parts use the same function, with one purpose constant per
part, so no part re-implements a mixer and two parts never share a stream by accident:

- :func:`derive` gives a part that takes its own seed (a Raft group, a detector, a fleet of one
  admin-added device) the seed ``stream_id(seed, purpose, index)``;
- :func:`stream` gives the stream id ``stream_id(purpose, index)`` for draws the caller makes
  under its own seed (the device uplinks' batches).

Changing a purpose constant changes every result of its part: they are fixed here, once.
"""

from __future__ import annotations

from edgeswarm import _core

__all__ = [
    "ADMIN_DEVICE",
    "DETECTOR",
    "EMERGENCY_RAFT",
    "EXPERIMENT",
    "MQTT_BACKOFF",
    "MQTT_FAIL",
    "MQTT_RECV",
    "MQTT_SEND",
    "UPLINK",
    "derive",
    "stream",
    "text_id",
]


def _purpose(name: str) -> int:
    # Up to 8 ASCII characters as one big-endian 64-bit number, like the C++ network's "NETWORK\0".
    raw = name.encode("ascii")
    if not 0 < len(raw) <= 8:
        raise ValueError(f"name: {name!r} must be 1 to 8 ASCII characters")
    return int.from_bytes(raw.ljust(8, b"\0"), "big")


#: Raft group of cluster ``k`` of an :class:`~edgeswarm.fleet.emergency.EmergencyCoordinator`.
EMERGENCY_RAFT: int = _purpose("EMRGRAFT")
#: Fleet of one admin-added device of an :class:`~edgeswarm.fleet.runtime.EdgeRuntime` (index: its id).
ADMIN_DEVICE: int = _purpose("ADMINDEV")
#: Streaming detectors of device row ``row`` of an EdgeRuntime.
DETECTOR: int = _purpose("DETECTOR")
#: Batch ``k`` of messages sent through a :class:`~edgeswarm.fleet.link.DeviceLink`.
UPLINK: int = _purpose("UPLINK")
#: Sent messages of an MQTT device (:mod:`edgeswarm.mqtt.faults`): duplication, send loss, delay.
MQTT_SEND: int = _purpose("MQTTSEND")
#: Received messages of an MQTT device: receive loss.
MQTT_RECV: int = _purpose("MQTTRECV")
#: Failure checks of an MQTT device.
MQTT_FAIL: int = _purpose("MQTTFAIL")
#: Reconnect jitter of an MQTT device (:mod:`edgeswarm.mqtt.backoff`).
MQTT_BACKOFF: int = _purpose("MQTTBOFF")
#: Replication ``r`` of a seed in an experiment sweep (:mod:`edgeswarm.experiments.spec`).
EXPERIMENT: int = _purpose("EXPERMNT")

_U64 = 2**64


def _u64(name: str, value: int) -> int:
    value = int(value)
    if not 0 <= value < _U64:
        raise ValueError(f"{name}: {value} is out of range; allowed 0..2^64-1")
    return value


def derive(seed: int, purpose: int, index: int = 0) -> int:
    """Seed of part ``index`` of ``purpose`` under ``seed``: ``_core.stream_id(seed, purpose, index)``."""
    return _core.stream_id(_u64("seed", seed), _u64("purpose", purpose), _u64("index", index))


def stream(purpose: int, index: int = 0) -> int:
    """Stream id of part ``index`` of ``purpose``, for draws under the caller's own seed."""
    return _core.stream_id(_u64("purpose", purpose), _u64("index", index))


def text_id(text: str) -> int:
    """A 64-bit index for a text identifier (a device id): its UTF-8 bytes folded 8 at a time
    through ``_core.stream_id``, starting from the byte length, so equal texts give equal
    indices and no padding makes two texts equal."""
    raw = text.encode("utf-8")
    h = _core.stream_id(len(raw))
    for start in range(0, len(raw), 8):
        h = _core.stream_id(h, int.from_bytes(raw[start : start + 8], "little"))
    return h
