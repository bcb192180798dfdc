"""Regime detection: Calm / PreStorm / Storm from the residual entropy H.

H is the normalised Shannon entropy of the histogram of honest residuals
``|x_i - consensus| / residual_range`` over a fixed number of bins. A residual at or
beyond the range is saturated: the histogram cannot place it, so its mass is spread
evenly over the bins (maximal disorder) and a storm wider than the range reads as a
storm, not as one quiet bin. Calm swarms have H near 0; a storm spreads residuals and
raises H. The detector turns a
stream of H values into a regime with hysteresis: the regime changes only
after ``hysteresis`` consecutive epochs agree on the same new candidate.

Regime names are ``"Calm"``, ``"PreStorm"`` and ``"Storm"`` (codes 0, 1, 2).
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
import numpy.typing as npt

from edgeswarm import _core

__all__ = ["REGIMES", "RegimeDetector", "residual_entropy"]

#: Regime names, indexed by regime code.
REGIMES: tuple[str, ...] = tuple(_core.REGIMES)

# Fixed-width unicode wide enough for every name ("PreStorm" has 8 letters).
_NAMES = np.array(REGIMES, dtype="<U8")


def _integer(name: str, value: Any) -> int:
    """``value`` as an int, or ValueError naming ``name`` (floats are refused, not truncated)."""
    try:
        return operator.index(value)
    except TypeError:
        raise ValueError(f"{name}: {value!r} is not an integer; allowed integers") from None


def _real(name: str, value: Any) -> float:
    """``value`` as a float, or ValueError naming ``name``."""
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: {value!r} is not a real number") from None


def _as_float64(name: str, values: Any) -> np.ndarray:
    """``values`` as a float64 array, or ValueError naming ``name``."""
    if np.iscomplexobj(values):
        raise ValueError(f"{name}: complex values are not allowed; expected real numbers")
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: cannot be read as an array of real numbers") from None


def residual_entropy(residuals: npt.ArrayLike, *, residual_range: float, bins: int = 16) -> float:
    """Normalised entropy in [0, 1] of the histogram of ``|residuals| / residual_range``.

    Bin of r is ``floor(|r| / residual_range * bins)`` for ``|r| < residual_range``; a residual
    at or beyond the range (infinity included) is saturated and adds ``1 / bins`` to every bin,
    so saturation raises H (all saturated gives 1). NaN residuals are skipped; no residuals give 0.
    ``residual_range`` must be finite and > 0, ``bins`` an integer >= 2.
    """
    return _core.residual_entropy(
        _as_float64("residuals", residuals),
        residual_range=_real("residual_range", residual_range),
        bins=_integer("bins", bins),
    )


class RegimeDetector:
    """Streaming Calm / PreStorm / Storm classifier of the entropy H, with hysteresis.

    Candidate per epoch: Storm when ``H >= storm_threshold``; PreStorm when
    ``H >= calm_threshold`` or the smoothed H (EWMA with weight ``smoothing``) rose by at
    least ``derivative_threshold`` since the previous epoch; Calm otherwise. The regime
    switches after ``hysteresis`` consecutive epochs with the same new candidate.
    NaN and infinite H are ignored. Starts in Calm.
    """

    def __init__(
        self,
        *,
        calm_threshold: float = 0.45,
        storm_threshold: float = 0.7,
        derivative_threshold: float = 0.05,
        hysteresis: int = 3,
        smoothing: float = 0.3,
    ) -> None:
        self._core = _core.RegimeDetector(
            calm_threshold=_real("calm_threshold", calm_threshold),
            storm_threshold=_real("storm_threshold", storm_threshold),
            derivative_threshold=_real("derivative_threshold", derivative_threshold),
            hysteresis=_integer("hysteresis", hysteresis),
            smoothing=_real("smoothing", smoothing),
        )

    def update(self, h: float) -> str:
        """Feeds one entropy value and returns the regime name in force after it."""
        return REGIMES[self._core.update(_real("h", h))]

    def run_codes(self, h: npt.ArrayLike) -> np.ndarray:
        """Feeds a 1-D array of entropy values in one call; regime code after each (uint8)."""
        return self._core.run(_as_float64("h", h))

    def run(self, h: npt.ArrayLike) -> np.ndarray:
        """Feeds a 1-D array of entropy values in one call; regime name after each (dtype ``<U8``)."""
        return _NAMES[self.run_codes(h)]

    def reset(self) -> None:
        """Back to the initial state: Calm, no smoothed value."""
        self._core.reset()

    @property
    def regime(self) -> str:
        """Name of the regime in force."""
        return REGIMES[self._core.regime]

    @property
    def regime_code(self) -> int:
        """Code of the regime in force (0 Calm, 1 PreStorm, 2 Storm)."""
        return self._core.regime

    @property
    def smoothed(self) -> float:
        """EWMA of the entropy values fed so far (0 before the first)."""
        return self._core.smoothed

    @property
    def derivative(self) -> float:
        """Last change of the smoothed entropy, per epoch."""
        return self._core.derivative

    @property
    def params(self) -> dict[str, float | int]:
        """The options it was built with."""
        return dict(self._core.params)

    def __repr__(self) -> str:
        return f"RegimeDetector(regime={self.regime!r}, smoothed={self._core.smoothed:.4g})"
