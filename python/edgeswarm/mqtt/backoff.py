"""Seeded reconnect delays: capped exponential backoff with jitter, reset on success.

After its ``attempt``-th failed connection attempt in a row (0 for the first) a device waits a
delay under the ceiling ``min(cap_s, base_s * factor ** attempt)``, the jitter drawn from the
project's portable RNG:

- ``"full"`` (the default; "full jitter" in AWS's Exponential Backoff and Jitter): uniform over
  [0, ceiling), which spreads a fleet that lost its broker at one instant the most;
- ``"equal"``: ceiling / 2 plus uniform over [0, ceiling / 2), never shorter than half the ceiling;
- ``"none"``: the ceiling itself (deterministic, no spreading).

A successful connection :meth:`Backoff.reset` s the attempt count to 0. The k-th delay a device
draws (counted over its whole life, resets included, so a reset never replays a jitter) is uniform
draw 0 of stream k under ``_seeds.derive(seed, MQTT_BACKOFF, device)``: the same seed and device
give the same delays, bit for bit, and devices of one fleet are decorrelated.
"""

from __future__ import annotations

from edgeswarm import _core, _seeds
from edgeswarm._validate import require_choice, require_float, require_int
from edgeswarm.mqtt.faults import device_index

__all__ = ["JITTERS", "MQTT_BACKOFF", "Backoff"]

MQTT_BACKOFF = _seeds.MQTT_BACKOFF  # the seed purpose of the reconnect jitter

#: The jitter strategies, see the module docstring.
JITTERS: tuple[str, ...] = ("full", "equal", "none")

_U64_MAX = 2**64 - 1
_MAX_EXPONENT = 1023  # factor ** 1023 may be inf for factor > 2, which min() caps; ** 1024 would raise


class Backoff:
    """Reconnect delays of one device (seconds). ``base_s`` > 0, ``cap_s`` >= ``base_s``,
    ``factor`` >= 1, ``jitter`` one of :data:`JITTERS`."""

    __slots__ = ("_seed", "attempt", "base_s", "cap_s", "device", "draws", "factor", "jitter")

    def __init__(
        self,
        *,
        seed: int,
        device: int | str = 0,
        base_s: float = 1.0,
        cap_s: float = 60.0,
        factor: float = 2.0,
        jitter: str = "full",
    ) -> None:
        self.base_s = require_float("base_s", base_s)
        if self.base_s <= 0.0:
            raise ValueError(f"base_s: {self.base_s} is out of range; allowed > 0 seconds")
        self.cap_s = require_float("cap_s", cap_s)
        if self.cap_s < self.base_s:
            raise ValueError(
                f"cap_s: {self.cap_s} is out of range; allowed >= base_s ({self.base_s}) seconds"
            )
        self.factor = require_float("factor", factor, minimum=1.0)
        self.jitter = require_choice("jitter", jitter, JITTERS)
        self.device = device
        self._seed = _seeds.derive(
            require_int("seed", seed, minimum=0, maximum=_U64_MAX), MQTT_BACKOFF, device_index(device)
        )
        #: Failed attempts in a row since the last reset.
        self.attempt = 0
        #: Delays drawn so far (the stream index of the next jitter draw).
        self.draws = 0

    def ceiling(self, attempt: int) -> float:
        """The largest delay after failed attempt number ``attempt`` (0-based): min(cap, base * factor^attempt)."""
        attempt = require_int("attempt", attempt, minimum=0)
        return min(self.cap_s, self.base_s * self.factor ** min(attempt, _MAX_EXPONENT))

    def next_delay(self) -> float:
        """The delay before the next connection attempt, after one more failure; counts the attempt."""
        ceiling = self.ceiling(self.attempt)
        self.attempt += 1
        if self.jitter == "none":
            return ceiling
        u = float(_core.rng_uniform(self._seed, self.draws, 1)[0])
        self.draws += 1
        if self.jitter == "full":
            return u * ceiling
        return ceiling / 2.0 + u * (ceiling / 2.0)

    def reset(self) -> None:
        """A connection succeeded: the next failure starts again from ``base_s``."""
        self.attempt = 0

    def __repr__(self) -> str:
        return (
            f"Backoff(base_s={self.base_s}, cap_s={self.cap_s}, factor={self.factor}, "
            f"jitter={self.jitter!r}, attempt={self.attempt})"
        )
