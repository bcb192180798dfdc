"""Seeded faults of a device's MQTT link: what happens to each message, and when the device fails.

The per-message models are the network simulator's own (:mod:`edgeswarm.net`): a
:class:`~edgeswarm.net.LatencyModel` (fixed, uniform, normal, Pareto) and the
:class:`~edgeswarm.net.LinkRules` draw (loss, duplication, reorder hold-back), drawn by the C++
portable RNG, so a fault means the same thing here as in a simulated Raft cluster or a fleet
uplink. :class:`LinkFaults` adds what a device agent needs on top:

- **send** (what the device publishes): each message may be duplicated (``duplicate``: a second
  copy), each copy may be dropped on send (``send_loss``) and otherwise waits its own delay
  from ``latency`` before it is published;
- **receive** (what the device is delivered, e.g. its inbox): each message may be dropped on
  receive (``receive_loss``); no delay is added on this side, so the injected delay of a path is
  counted once.

Reordering: both ways. Delays are drawn independently per copy, so whenever the latency's spread
exceeds the gap between two sends the later message can overtake the earlier one; and
``reorder`` (probability per copy) adds an explicit ``reorder_delay`` draw on top of a copy's
latency (the simulator's hold-back), which reorders even under a fixed latency.

Determinism: the fate of message ``k`` of a device is a function of (seed, device, k) alone, not
of how the draws are batched or when they are made: messages are drawn in blocks of
:data:`BLOCK` from stream ``block`` of the device's seed ``_seeds.derive(seed, MQTT_SEND,
device)`` (receive: ``MQTT_RECV``). So a device agent asking one message at a time
(:class:`DeviceFaults`) and an analysis drawing ten thousand at once (:meth:`LinkFaults.send_fates`)
see the same fates, bit for bit. A device is an integer id or a text id (``_seeds.text_id``).

Failures (:class:`FailureSchedule`, the ``--fail-prob 0.05 --fail-every 30s --fail-duration 30s``
of an experiment): at every check time ``k * fail_every_s`` (k = 1, 2, ...; a device runs one
full interval first), each device is hit with probability ``fail_prob``, independently of
whether it is already down; a hit takes it down until ``fail_duration_s`` after the check, and
overlapping or touching outages merge into one. Draws come from ``rng_uniform`` under
``_seeds.derive(seed, MQTT_FAIL, device)``; check ``k`` is draw ``k - 1``, so the schedule up
to a time does not depend on the horizon asked for.

CLI spellings: :func:`parse_latency` (``50``, ``10:500``, ``normal:100:20``, ``pareto:5:1.5``)
and :func:`parse_duration` (``30s``, ``20m``, ``500ms``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from edgeswarm import _core, _seeds, net
from edgeswarm._validate import require_float, require_int

__all__ = [
    "BLOCK",
    "MQTT_FAIL",
    "MQTT_RECV",
    "MQTT_SEND",
    "DeviceFaults",
    "FailureSchedule",
    "LinkFaults",
    "MessageFate",
    "Outages",
    "device_index",
    "parse_duration",
    "parse_latency",
]

MQTT_SEND, MQTT_RECV, MQTT_FAIL = _seeds.MQTT_SEND, _seeds.MQTT_RECV, _seeds.MQTT_FAIL  # seed purposes

#: Messages per draw block: message k of a device is entry k % BLOCK of block k // BLOCK.
BLOCK: int = 256

_U64_MAX = 2**64 - 1


def device_index(device: int | str) -> int:
    """The 64-bit index a device's streams are derived from: an int id itself, a text id its
    ``_seeds.text_id``."""
    if isinstance(device, str):
        return _seeds.text_id(device)
    return require_int("device", device, minimum=0, maximum=_U64_MAX)


def _probability(name: str, value: object) -> float:
    p = require_float(name, value)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: {p} is out of range; allowed [0, 1]")
    return p


class MessageFate(NamedTuple):
    """What the link does to one sent message: ``copies`` made (1, or 2 when duplicated), how many
    of them were dropped on send, and the delay of each surviving copy in milliseconds (empty when
    every copy was dropped), with whether that copy was held back by a reorder draw."""

    copies: int
    dropped: int
    delays_ms: tuple[float, ...]
    reordered: tuple[bool, ...]

    @property
    def duplicated(self) -> bool:
        return self.copies > 1


@dataclass(frozen=True)
class LinkFaults:
    """The faults of a device's link (see the module docstring). Probabilities in [0, 1];
    ``latency`` defaults to no delay, ``reorder_delay`` to uniform 0..10 ms (the simulator's)."""

    latency: net.LatencyModel = field(default_factory=lambda: net.LatencyModel.fixed(0.0))
    send_loss: float = 0.0
    receive_loss: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    reorder_delay: net.LatencyModel = field(default_factory=lambda: net.LatencyModel.uniform(0.0, 10.0))
    # The two directions as the simulator's link rules, built from the fields above.
    _send_rules: net.LinkRules = field(init=False, repr=False, compare=False)
    _receive_rules: net.LinkRules = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("latency", "reorder_delay"):
            if not isinstance(getattr(self, name), net.LatencyModel):
                raise ValueError(
                    f"{name}: expected an edgeswarm.net.LatencyModel, got {getattr(self, name)!r}"
                )
        for name in ("send_loss", "receive_loss", "duplicate", "reorder"):
            object.__setattr__(self, name, _probability(name, getattr(self, name)))
        send = net.LinkRules(
            latency=self.latency,
            loss=self.send_loss,
            duplicate=self.duplicate,
            reorder=self.reorder,
            reorder_delay=self.reorder_delay,
        )
        receive = net.LinkRules(latency=net.LatencyModel.fixed(0.0), loss=self.receive_loss)
        object.__setattr__(self, "_send_rules", send)
        object.__setattr__(self, "_receive_rules", receive)

    @property
    def is_clean(self) -> bool:
        """No loss, duplication, reordering or delay at all."""
        no_delay = self.latency.kind == "fixed" and self.latency.params["delay_ms"] == 0.0
        probabilities = (self.send_loss, self.receive_loss, self.duplicate, self.reorder)
        return no_delay and not any(probabilities)

    def _send_block(self, device_seed: int, block: int) -> net.Fates:
        return self._send_rules.draw(BLOCK, seed=device_seed, stream=block)

    def _receive_block(self, device_seed: int, block: int) -> np.ndarray:
        return self._receive_rules.draw(BLOCK, seed=device_seed, stream=block).lost

    def send_fates(self, n: int, *, seed: int, device: int | str) -> net.Fates:
        """Fates of the device's first ``n`` sent messages, per copy (``lost`` = dropped on send),
        as :class:`DeviceFaults` hands them out one by one."""
        n = require_int("n", n, minimum=0)
        device_seed = _seeds.derive(
            require_int("seed", seed, minimum=0, maximum=_U64_MAX), MQTT_SEND, device_index(device)
        )
        blocks = [self._send_block(device_seed, b) for b in range(-(-n // BLOCK))]
        if not blocks:
            return net.Fates(0, *(np.zeros(0, t) for t in (np.int64, bool, bool, np.int64)))
        message = np.concatenate([f.message + b * BLOCK for b, f in enumerate(blocks)])
        keep = message < n
        return net.Fates(
            n=n,
            message=message[keep],
            lost=np.concatenate([f.lost for f in blocks])[keep],
            reordered=np.concatenate([f.reordered for f in blocks])[keep],
            delay_us=np.concatenate([f.delay_us for f in blocks])[keep],
        )

    def receive_drops(self, n: int, *, seed: int, device: int | str) -> np.ndarray:
        """Whether each of the device's first ``n`` received messages is dropped on receive (bool, n)."""
        n = require_int("n", n, minimum=0)
        device_seed = _seeds.derive(
            require_int("seed", seed, minimum=0, maximum=_U64_MAX), MQTT_RECV, device_index(device)
        )
        blocks = [self._receive_block(device_seed, b) for b in range(-(-n // BLOCK))]
        return np.concatenate(blocks)[:n] if blocks else np.zeros(0, bool)


class DeviceFaults:
    """One device's fault stream: :meth:`next_send` and :meth:`next_receive` hand out the fates of
    its messages in order, drawing a block of :data:`BLOCK` at a time."""

    def __init__(self, faults: LinkFaults, *, seed: int, device: int | str) -> None:
        if not isinstance(faults, LinkFaults):
            raise ValueError(f"faults: expected a LinkFaults, got {faults!r}")
        seed = require_int("seed", seed, minimum=0, maximum=_U64_MAX)
        self.faults = faults
        self.device = device
        index = device_index(device)
        self._send_seed = _seeds.derive(seed, MQTT_SEND, index)
        self._receive_seed = _seeds.derive(seed, MQTT_RECV, index)
        #: Messages handed out so far by next_send / next_receive.
        self.sent = 0
        self.received = 0
        self._send_block: tuple[net.Fates, np.ndarray] | None = None
        self._receive_block: np.ndarray | None = None

    def next_send(self) -> MessageFate:
        """The fate of the device's next sent message."""
        j = self.sent % BLOCK
        if j == 0 or self._send_block is None:
            fates = self.faults._send_block(self._send_seed, self.sent // BLOCK)
            starts = np.searchsorted(fates.message, np.arange(BLOCK + 1))
            self._send_block = (fates, starts)
        fates, starts = self._send_block
        self.sent += 1
        lo, hi = int(starts[j]), int(starts[j + 1])
        kept = [i for i in range(lo, hi) if not fates.lost[i]]
        return MessageFate(
            copies=hi - lo,
            dropped=hi - lo - len(kept),
            delays_ms=tuple(int(fates.delay_us[i]) / 1000.0 for i in kept),
            reordered=tuple(bool(fates.reordered[i]) for i in kept),
        )

    def next_receive(self) -> bool:
        """Whether the device's next received message is dropped on receive."""
        j = self.received % BLOCK
        if j == 0 or self._receive_block is None:
            self._receive_block = self.faults._receive_block(self._receive_seed, self.received // BLOCK)
        self.received += 1
        return bool(self._receive_block[j])


@dataclass(frozen=True)
class Outages:
    """Outages of several devices as parallel arrays, sorted by (start_s, device): device ``device[i]``
    is failed over [start_s[i], end_s[i]) seconds."""

    device: np.ndarray  # int64 (uint64 ids beyond int64 are not representable here; use small ids)
    start_s: np.ndarray  # float64
    end_s: np.ndarray  # float64

    def __len__(self) -> int:
        return len(self.device)

    def failed_at(self, devices: np.ndarray, t_s: float) -> np.ndarray:
        """For each of ``devices``, whether it is failed at time ``t_s`` (bool)."""
        devices = np.asarray(devices, np.int64)
        down = (self.start_s <= t_s) & (t_s < self.end_s)
        return np.isin(devices, self.device[down])


@dataclass(frozen=True)
class FailureSchedule:
    """Seeded device failures and recoveries (see the module docstring). ``fail_prob`` 0 (the
    default) never fails a device."""

    fail_prob: float = 0.0
    fail_every_s: float = 30.0
    fail_duration_s: float = 30.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "fail_prob", _probability("fail_prob", self.fail_prob))
        for name in ("fail_every_s", "fail_duration_s"):
            value = require_float(name, getattr(self, name))
            if value <= 0.0:
                raise ValueError(f"{name}: {value} is out of range; allowed > 0 seconds")
            object.__setattr__(self, name, value)

    def outages(self, *, seed: int, device: int | str, horizon_s: float) -> np.ndarray:
        """The device's outages that start before ``horizon_s``: an (k, 2) float64 array of
        [start_s, end_s) rows in time order (an outage may end after the horizon)."""
        seed = require_int("seed", seed, minimum=0, maximum=_U64_MAX)
        horizon_s = require_float("horizon_s", horizon_s, minimum=0.0)
        checks = max(math.ceil(horizon_s / self.fail_every_s) - 1, 0)  # check times k*every < horizon
        if checks == 0 or self.fail_prob == 0.0:
            return np.zeros((0, 2))
        u = _core.rng_uniform(_seeds.derive(seed, MQTT_FAIL, device_index(device)), 0, checks)
        starts = (np.flatnonzero(u < self.fail_prob) + 1) * self.fail_every_s
        if len(starts) == 0:
            return np.zeros((0, 2))
        ends = starts + self.fail_duration_s
        # Merge: a hit at or before the current outage's end extends it.
        new = np.r_[True, starts[1:] > ends[:-1]]
        first = np.flatnonzero(new)
        return np.column_stack([starts[first], np.maximum.reduceat(ends, first)])

    def fleet(self, devices: np.ndarray | range, *, seed: int, horizon_s: float) -> Outages:
        """Outages of every device in ``devices`` (integer ids) before ``horizon_s``."""
        devices = np.asarray(devices, np.int64)
        if len(devices) and devices.min() < 0:
            raise ValueError(f"devices: {int(devices.min())} is out of range; allowed ids >= 0")
        rows = [self.outages(seed=seed, device=int(d), horizon_s=horizon_s) for d in devices]
        ids = np.repeat(devices, [len(r) for r in rows])
        spans = np.concatenate(rows) if rows else np.zeros((0, 2))
        order = np.lexsort((ids, spans[:, 0]))
        return Outages(device=ids[order], start_s=spans[order, 0], end_s=spans[order, 1])


_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_LATENCY_FORMS = (
    "allowed MS (fixed), MIN:MAX (uniform), fixed:MS, uniform:MIN:MAX, normal:MEAN:SD, "
    "pareto:SCALE:SHAPE or pareto:SCALE:SHAPE:CAP (milliseconds; shape unitless)"
)


def parse_latency(text: str, *, name: str = "latency_ms") -> net.LatencyModel:
    """A latency model from its command-line spelling (milliseconds):

    ``50`` or ``fixed:50``: always 50 ms; ``10:500`` or ``uniform:10:500``: uniform over 10..500 ms;
    ``normal:100:20``: normal with mean 100 ms and sd 20 ms (negative draws redrawn);
    ``pareto:5:1.5`` (or ``pareto:5:1.5:2000`` with a cap): Pareto type I with scale 5 ms and
    shape 1.5, draws above the cap clamped to it.

    A spelling that is none of these, or out of range (min > max, negative delays, sd < 0, scale
    or shape <= 0), raises ValueError naming ``name``, the text and what is allowed.
    """
    if not isinstance(text, str):
        raise ValueError(f"{name}: expected a text, got {text!r}; {_LATENCY_FORMS}")
    parts = text.strip().lower().split(":")
    kind = parts[0] if parts and not re.fullmatch(_NUMBER, parts[0]) else None
    args = parts[1:] if kind is not None else parts
    if kind is None:
        kind = {1: "fixed", 2: "uniform"}.get(len(args), "")
    arity = {"fixed": (1,), "uniform": (2,), "normal": (2,), "pareto": (2, 3)}
    if kind not in arity or len(args) not in arity[kind] or not all(re.fullmatch(_NUMBER, a) for a in args):
        raise ValueError(f"{name}: {text!r} is not a latency; {_LATENCY_FORMS}")
    values = [float(a) for a in args]
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"{name}: {text!r} has a value that is not finite; {_LATENCY_FORMS}")

    def need(ok: bool, what: str) -> None:
        if not ok:
            raise ValueError(f"{name}: {text!r} is out of range; {kind} needs {what}")

    if kind == "fixed":
        need(values[0] >= 0, "a delay >= 0 ms")
        return net.LatencyModel.fixed(values[0])
    if kind == "uniform":
        need(0 <= values[0] <= values[1], "0 <= min <= max (ms)")
        return net.LatencyModel.uniform(values[0], values[1])
    if kind == "normal":
        need(values[0] >= 0 and values[1] >= 0, "mean >= 0 ms and sd >= 0 ms")
        return net.LatencyModel.normal(values[0], values[1])
    need(values[0] > 0 and values[1] > 0, "scale > 0 ms and shape > 0")
    if len(values) == 3:
        need(values[2] >= values[0], "cap >= scale (ms)")
        return net.LatencyModel.pareto(values[0], values[1], cap_ms=values[2])
    return net.LatencyModel.pareto(values[0], values[1])


_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


def parse_duration(text: str, *, name: str = "duration") -> float:
    """Seconds from a command-line duration: a number with a unit ``ms``, ``s``, ``m``/``min`` or
    ``h`` (``500ms``, ``30s``, ``20m``, ``1.5h``), or a bare number of seconds. Negative, non-finite
    or unknown spellings raise ValueError naming ``name``."""
    allowed = "allowed a number >= 0 with an optional unit ms, s, m, min or h (e.g. 30s, 20m)"
    match = re.fullmatch(rf"\s*({_NUMBER})\s*([a-z]*)\s*", text) if isinstance(text, str) else None
    if match is None or match.group(2) not in (*_DURATION_UNITS, ""):
        raise ValueError(f"{name}: {text!r} is not a duration; {allowed}")
    seconds = float(match.group(1)) * _DURATION_UNITS.get(match.group(2), 1.0)
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{name}: {text!r} is out of range; {allowed}")
    return seconds
