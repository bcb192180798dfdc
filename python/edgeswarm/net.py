"""The network facade: the simulator's latency models and link rules, with seeded batch draws.

Example:
    >>> from edgeswarm import net
    >>> rules = net.LinkRules(latency=net.LatencyModel.pareto(5.0, 1.5, cap_ms=2000.0), loss=0.02,
    ...                       duplicate=0.01, reorder=0.05)
    >>> fates = rules.draw(10_000, seed=7, stream=1)   # one C++ call for all messages
    >>> fates.lost.mean(), fates.copies.max(), np.nanmax(fates.delay_ms)

These are the models the C++ network simulator (``cpp/net``) applies to every message of a Raft
cluster, so a rule means the same thing wherever it is used: by the fleet's device uplinks
(:mod:`edgeswarm.fleet.link`), by users and by MQTT fault injection. Times are milliseconds at
this facade and integer microseconds in the engine (a millisecond value is rounded to the
nearest microsecond). The engine checks every range and names the parameter in its ValueError.

A draw over ``n`` messages decides, per message, whether the link makes a second copy and, per
copy, whether it is lost and its delay (latency, plus a ``reorder_delay`` draw for a reordered
copy), in the same order and from the same per-purpose streams of (seed, stream) as the
simulator; the same (seed, stream) gives the same arrays, bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeswarm import _core
from edgeswarm._validate import require_float, require_int

__all__ = ["MAX_DELAY_MS", "MAX_NODES", "Fates", "LatencyModel", "LinkRules"]

#: Largest number of nodes of one simulated network (net::kMaxNodes).
MAX_NODES: int = _core.NET_MAX_NODES
#: Largest delay any latency model returns (net::kMaxDelayUs, about 35 years), in milliseconds.
MAX_DELAY_MS: float = _core.NET_MAX_DELAY_US / 1000.0

_U64_MAX = 2**64 - 1


_I64 = 2**63 - 1


def _us(name: str, ms: object) -> int:
    # Type conversion only: the engine checks the range and names the parameter. Beyond int64 a
    # value cannot reach the engine at all, so that one limit is said here.
    us = round(require_float(name, ms) * 1000.0)
    if abs(us) > _I64:
        raise ValueError(f"{name}: {ms} is out of range; allowed [0, {MAX_DELAY_MS}] milliseconds")
    return us


class LatencyModel:
    """A latency distribution over delays; build one with :meth:`fixed`, :meth:`uniform`,
    :meth:`normal` or :meth:`pareto` (arguments in milliseconds)."""

    __slots__ = ("_engine", "kind", "params")

    def __init__(self, engine: _core.LatencyModel, params: dict[str, float]) -> None:
        self._engine = engine
        #: fixed, uniform, normal or pareto.
        self.kind: str = engine.kind
        #: The parameters the model was built with (milliseconds, shape unitless).
        self.params: dict[str, float] = params

    @classmethod
    def fixed(cls, delay_ms: float) -> LatencyModel:
        """Always ``delay_ms``."""
        return cls(_core.LatencyModel.fixed(_us("delay_ms", delay_ms)), {"delay_ms": delay_ms})

    @classmethod
    def uniform(cls, min_ms: float, max_ms: float) -> LatencyModel:
        """Uniform over min_ms..max_ms inclusive (every microsecond equally likely)."""
        engine = _core.LatencyModel.uniform(_us("min_ms", min_ms), _us("max_ms", max_ms))
        return cls(engine, {"min_ms": min_ms, "max_ms": max_ms})

    @classmethod
    def normal(cls, mean_ms: float, sd_ms: float) -> LatencyModel:
        """Normal(mean_ms, sd_ms) truncated at 0 by redrawing negative values."""
        mean, sd = require_float("mean_ms", mean_ms), require_float("sd_ms", sd_ms)
        return cls(
            _core.LatencyModel.normal(mean * 1000.0, sd * 1000.0), {"mean_ms": mean_ms, "sd_ms": sd_ms}
        )

    @classmethod
    def pareto(cls, scale_ms: float, shape: float, *, cap_ms: float | None = None) -> LatencyModel:
        """Pareto type I, the long tail: P(X > x) = (scale_ms / x)^shape for x >= scale_ms, draws
        above ``cap_ms`` (default :data:`MAX_DELAY_MS`) clamped to it, so shape <= 1 (an infinite
        mean) still gives finite times."""
        cap_us = _core.NET_MAX_DELAY_US if cap_ms is None else _us("cap_ms", cap_ms)
        engine = _core.LatencyModel.pareto(_us("scale_ms", scale_ms), require_float("shape", shape), cap_us)
        return cls(engine, {"scale_ms": scale_ms, "shape": shape, "cap_ms": cap_us / 1000.0})

    def sample(self, n: int, *, seed: int, stream: int = 0) -> np.ndarray:
        """``n`` delays in milliseconds (float64, whole microseconds) from stream ``stream`` of ``seed``."""
        return self.sample_us(n, seed=seed, stream=stream) / 1000.0

    def sample_us(self, n: int, *, seed: int, stream: int = 0) -> np.ndarray:
        """``n`` delays in integer microseconds (int64), as the engine draws them."""
        n = require_int("n", n, minimum=0)
        seed = require_int("seed", seed, minimum=0, maximum=_U64_MAX)
        stream = require_int("stream", stream, minimum=0, maximum=_U64_MAX)
        return self._engine.sample(n, seed=seed, stream=stream)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"LatencyModel.{self.kind}({args})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LatencyModel) and (self.kind, self.params) == (other.kind, other.params)

    def __hash__(self) -> int:
        return hash((self.kind, tuple(self.params.items())))


@dataclass(frozen=True)
class Fates:
    """What a link did to ``n`` messages. One entry per copy (a duplicated message has two,
    adjacent), in message order."""

    n: int
    message: np.ndarray  # int64: index 0..n-1 of the message the copy belongs to
    lost: np.ndarray  # bool: the copy was lost
    reordered: np.ndarray  # bool: the copy was held back by a reorder_delay draw
    delay_us: np.ndarray  # int64: one-way delay of the copy, -1 when lost

    @property
    def delay_ms(self) -> np.ndarray:
        """Delay per copy in milliseconds (NaN when lost)."""
        return np.where(self.lost, np.nan, self.delay_us / 1000.0)

    @property
    def copies(self) -> np.ndarray:
        """Copies per message (1, or 2 when duplicated), shape (n,)."""
        return np.bincount(self.message, minlength=self.n)


class LinkRules:
    """How one direction of a link treats each message: its ``latency`` (default fixed 1 ms), and
    the probabilities that a copy is lost, that a second copy is sent (``duplicate``), and that a
    copy is held back by an extra ``reorder_delay`` draw (default uniform 0..10 ms)."""

    __slots__ = ("_engine", "latency", "reorder_delay")

    def __init__(
        self,
        *,
        latency: LatencyModel | None = None,
        loss: float = 0.0,
        duplicate: float = 0.0,
        reorder: float = 0.0,
        reorder_delay: LatencyModel | None = None,
    ) -> None:
        self.latency = latency or LatencyModel.fixed(1.0)
        self.reorder_delay = reorder_delay or LatencyModel.uniform(0.0, 10.0)
        self._engine = _core.LinkRules(
            latency=self.latency._engine,
            loss=require_float("loss", loss),
            duplicate=require_float("duplicate", duplicate),
            reorder=require_float("reorder", reorder),
            reorder_delay=self.reorder_delay._engine,
        )

    @property
    def loss(self) -> float:
        """Probability in [0, 1] that a copy is lost."""
        return self._engine.loss

    @property
    def duplicate(self) -> float:
        """Probability in [0, 1] that a second copy is sent."""
        return self._engine.duplicate

    @property
    def reorder(self) -> float:
        """Probability in [0, 1] that a copy gets a reorder_delay draw on top of its latency."""
        return self._engine.reorder

    def draw(
        self,
        n: int,
        *,
        seed: int,
        stream: int = 0,
        loss: np.ndarray | None = None,
        extra_delay_ms: np.ndarray | None = None,
    ) -> Fates:
        """Fates of ``n`` messages sent under these rules, in one engine call.

        Per-message parameters: ``loss`` (n probabilities) replaces the rules' loss message by
        message; ``extra_delay_ms`` (n values >= 0) is added to the delay of each surviving copy
        (e.g. a distance- or signal-dependent part of the latency)."""
        n = require_int("n", n, minimum=0)
        seed = require_int("seed", seed, minimum=0, maximum=_U64_MAX)
        stream = require_int("stream", stream, minimum=0, maximum=_U64_MAX)
        extra_us = None
        if extra_delay_ms is not None:
            extra = np.asarray(extra_delay_ms, np.float64)
            if not np.isfinite(extra).all():
                raise ValueError("extra_delay_ms: expected finite values")
            # Clipped inside int64 (the engine then names any value beyond its range).
            extra_us = np.rint(np.clip(extra * 1000.0, -(2.0**62), 2.0**62)).astype(np.int64)
        loss_p = None if loss is None else np.asarray(loss, np.float64)
        out = self._engine.draw(n, seed=seed, stream=stream, loss=loss_p, extra_delay_us=extra_us)
        return Fates(n=n, **out)

    def __repr__(self) -> str:
        return (
            f"LinkRules(latency={self.latency!r}, loss={self.loss!r}, duplicate={self.duplicate!r}, "
            f"reorder={self.reorder!r}, reorder_delay={self.reorder_delay!r})"
        )
