"""Quality control: control charts, Western Electric rules, process capability, defect flags.

Phase I estimates the in-control mean and sigma from a calibration window
(:func:`estimate`, or :meth:`ControlChart.calibrate`), or takes them as given;
Phase II monitors new samples with three charts at once (C++, GIL released):

* the individuals (Shewhart) chart, center ``mean`` and limits ``mean ± 3 sigma``,
  read with the Western Electric rules — 1: one point beyond 3 sigma; 2: two of
  three consecutive points beyond 2 sigma on the same side; 3: four of five beyond
  1 sigma on the same side; 4: eight in a row on one side of the center line. A
  rule fires at the sample that completes its pattern, which must itself be part
  of it;
* the EWMA chart ``e_t = lambda x_t + (1 - lambda) e_{t-1}``, ``e_0 = mean``, with
  the exact time-varying limits
  ``mean ± L sigma sqrt(lambda / (2 - lambda) (1 - (1 - lambda)^(2t)))``;
* the tabular CUSUM in sigma units, ``C+ = max(0, C+ + z - k)``,
  ``C- = max(0, C- - z - k)``, ``z = (x - mean) / sigma``, signalling above ``h``.

"Beyond" means strictly beyond. A sample is a **defect** when any enabled signal
fires. Its **confidence** in [0, 1]: each chart that signals is a witness with
belief ``q = r^2 / (1 + r^2)``, ``r`` its statistic over its limit (``|z| / 3``,
``|e_t - mean|`` over the EWMA half-width, ``max(C+, C-) / h``), so ``q`` is 0.5
exactly at the limit and grows with the distance past it; a pattern rule (2-4)
without a point beyond 3 sigma counts as 0.5. The confidence is the chance that
at least one witness is right, ``1 - prod(1 - q)``: 0 without a signal, 0.5 for
one chart just past its limit, 0.75 for two, towards 1 far past the limits.

A chart object is one stream's state: calling :meth:`ControlChart.monitor` on
chunks one after the other gives exactly the result of one call over their
concatenation. NaN and infinity are counted (``stats["invalid"]``) and skipped:
NaN statistics, no signal, confidence 0, nothing learned, and they neither break
nor extend a rule's pattern.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from edgeswarm import _core
from edgeswarm._validate import require_choice, require_float

__all__ = ["SIGNALS", "ControlChart", "InControl", "capability", "estimate", "violations"]

SIGNALS = ("rule1", "rule2", "rule3", "rule4", "ewma", "cusum")
"""Signal names; signal ``i`` is bit ``1 << i`` of the ``signals`` column."""

SIGMA_METHODS = ("moving_range", "std")
_EWMA_BIT = 1 << 4
_CUSUM_BIT = 1 << 5
# "rule" column text for each combination of the four Western Electric bits.
_RULE_TEXT = np.array([",".join(str(r + 1) for r in range(4) if m >> r & 1) for m in range(16)], dtype=object)


@dataclass(frozen=True)
class InControl:
    """In-control process parameters from a Phase I calibration window."""

    mean: float
    sigma: float
    n: int  # finite samples used
    invalid: int  # samples skipped for NaN or infinity
    method: str


def _series(x: npt.ArrayLike) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != 1:
        raise ValueError(f"x: expected a 1-D array, got shape {a.shape}")
    return a


def estimate(x: npt.ArrayLike, *, method: str = "moving_range") -> InControl:
    """Phase I: mean and sigma of the finite values of ``x``.

    ``method="moving_range"``: mean moving range of consecutive finite values over
    d2 = 2 / sqrt(pi) (the individuals chart's within sigma); ``"std"``: sample
    standard deviation (n - 1), the overall sigma.
    """
    require_choice("method", method, SIGMA_METHODS)
    r = _core.estimate_in_control(_series(x), method=method)
    return InControl(float(r["mean"]), float(r["sigma"]), int(r["n"]), int(r["invalid"]), method)


def capability(
    x: npt.ArrayLike | None = None,
    *,
    lsl: float,
    usl: float,
    mean: float | None = None,
    sigma: float | None = None,
) -> dict[str, Any]:
    """Process capability against the spec limits ``lsl < usl``.

    From data ``x``: Cp, Cpk with the within sigma (moving range) and Pp, Ppk with
    the overall sigma (sample standard deviation). From given ``mean`` and ``sigma``
    (no ``x``): Cp and Cpk only; Pp and Ppk are None. ``Cp = (usl - lsl) / (6 sigma)``,
    ``Cpk = min(usl - mean, mean - lsl) / (3 sigma)`` (negative when the mean is
    outside the spec). Returns a JSON-ready dict.
    """
    if x is None:
        if mean is None or sigma is None:
            raise ValueError("x: None needs both mean and sigma; pass the data or the process mean and sigma")
        m, s = require_float("mean", mean), require_float("sigma", sigma)
        c = _core.process_capability(mean=m, sigma=s, lsl=lsl, usl=usl)
        head = {"n": None, "invalid": None, "mean": m, "sigma_within": s, "sigma_overall": None}
        return {**head, **c, "pp": None, "ppk": None}
    if mean is not None or sigma is not None:
        raise ValueError("mean: give either the data x or mean and sigma, not both")
    within = estimate(x, method="moving_range")
    overall = estimate(x, method="std")
    c = _core.process_capability(mean=within.mean, sigma=within.sigma, lsl=lsl, usl=usl)
    p = _core.process_capability(mean=overall.mean, sigma=overall.sigma, lsl=lsl, usl=usl)
    return {
        "n": within.n,
        "invalid": within.invalid,
        "mean": within.mean,
        "sigma_within": within.sigma,
        "sigma_overall": overall.sigma,
        **c,
        "pp": p["cp"],
        "ppk": p["cpk"],
    }


def _signal_mask(rules: Iterable[int], ewma: bool, cusum: bool) -> int:
    if isinstance(rules, (str, bytes)) or not isinstance(rules, Iterable):
        raise ValueError(f"rules: expected a collection of rule numbers 1-4, got {rules!r}")
    mask = 0
    for r in rules:
        if isinstance(r, bool) or not isinstance(r, numbers.Integral) or not 1 <= int(r) <= 4:
            raise ValueError(f"rules: {r!r} is not a Western Electric rule; allowed 1, 2, 3, 4")
        mask |= 1 << (int(r) - 1)
    for name, on in (("ewma", ewma), ("cusum", cusum)):
        if not isinstance(on, bool):
            raise ValueError(f"{name}: expected True or False, got {on!r}")
    mask |= (_EWMA_BIT if ewma else 0) | (_CUSUM_BIT if cusum else 0)
    if mask == 0:
        raise ValueError(
            "rules: () with ewma=False and cusum=False leaves nothing to monitor; enable one signal"
        )
    return mask


class ControlChart:
    """Phase II monitor of one stream: individuals chart + Western Electric rules, EWMA and CUSUM.

    ``rules`` selects the Western Electric rules evaluated, ``ewma`` and ``cusum``
    the two other charts; only enabled signals are reported and flag defects.
    ``ewma_lambda`` in (0, 1], ``ewma_width`` (L) > 0, ``cusum_k`` >= 0 and
    ``cusum_h`` > 0 (both in sigma units). Defaults: lambda 0.2, L 3, k 0.5, h 5.
    """

    def __init__(
        self,
        *,
        mean: float,
        sigma: float,
        ewma_lambda: float = 0.2,
        ewma_width: float = 3.0,
        cusum_k: float = 0.5,
        cusum_h: float = 5.0,
        rules: Iterable[int] = (1, 2, 3, 4),
        ewma: bool = True,
        cusum: bool = True,
    ) -> None:
        self._mean = require_float("mean", mean)
        self._sigma = require_float("sigma", sigma)
        self._impl = _core.ControlChart(
            mean=self._mean,
            sigma=self._sigma,
            ewma_lambda=ewma_lambda,
            ewma_width=ewma_width,
            cusum_k=cusum_k,
            cusum_h=cusum_h,
            signals=_signal_mask(rules, ewma, cusum),
        )

    @classmethod
    def calibrate(cls, x: npt.ArrayLike, *, method: str = "moving_range", **options: Any) -> ControlChart:
        """Phase I on the calibration window ``x`` (see :func:`estimate`), then a fresh Phase II chart."""
        ic = estimate(x, method=method)
        return cls(mean=ic.mean, sigma=ic.sigma, **options)

    @property
    def mean(self) -> float:
        """In-control mean: the center line."""
        return self._mean

    @property
    def sigma(self) -> float:
        """In-control sigma."""
        return self._sigma

    @property
    def limits(self) -> dict[str, float]:
        """Individuals chart: ``center``, ``lcl`` and ``ucl`` (``mean ± 3 sigma``)."""
        return {
            "center": self._mean,
            "lcl": self._mean - 3 * self._sigma,
            "ucl": self._mean + 3 * self._sigma,
        }

    def update(self, x: npt.ArrayLike) -> dict[str, np.ndarray]:
        """Monitors ``x`` (continuing the stream) and returns NumPy arrays.

        Keys: ``sample`` (position in the stream), ``value``, ``ewma``, ``ewma_lcl``,
        ``ewma_ucl``, ``cusum_upper``, ``cusum_lower`` (sigma units), ``signals``
        (uint8 bits, see :data:`SIGNALS`), ``defect`` (bool), ``confidence``.
        """
        a = _series(x)
        start = self._impl.stats["seen"]
        out = self._impl.update_batch(a)
        return {
            "sample": np.arange(start, start + len(a), dtype=np.int64),
            "value": a.astype(np.float64, copy=False),
            **out,
            "defect": out["signals"] != 0,
        }

    def monitor(self, x: npt.ArrayLike) -> pd.DataFrame:
        """:meth:`update` as a tidy DataFrame, one row per sample.

        Columns: sample, value, center, lcl, ucl, ewma, ewma_lcl, ewma_ucl,
        cusum_upper, cusum_lower, rule (Western Electric rules fired, e.g. ``"1,2"``,
        ``""`` for none), ewma_signal, cusum_signal, signals, defect, confidence.
        """
        r = self.update(x)
        n = len(r["sample"])
        signals = r.pop("signals")
        defect, confidence = r.pop("defect"), r.pop("confidence")
        lim = self.limits
        frame = pd.DataFrame(
            {
                "sample": r.pop("sample"),
                "value": r.pop("value"),
                "center": np.full(n, lim["center"]),
                "lcl": np.full(n, lim["lcl"]),
                "ucl": np.full(n, lim["ucl"]),
                **r,
                "rule": _RULE_TEXT[signals & 15],
                "ewma_signal": (signals & _EWMA_BIT) != 0,
                "cusum_signal": (signals & _CUSUM_BIT) != 0,
                "signals": signals,
                "defect": defect,
                "confidence": confidence,
            }
        )
        return frame

    def score(self, x: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Detector-style view for trackers: score 1.0 for a defect, 0.0 otherwise (NaN when skipped),
        and the defect confidence; 0.5 is the decision boundary, as for ``edgeswarm.ml``."""
        r = self.update(x)
        score = r["defect"].astype(np.float64)
        score[np.isnan(r["ewma"])] = np.nan
        return score, r["confidence"]

    @property
    def stats(self) -> dict[str, int]:
        """Counters: ``seen``, ``invalid``, ``defects``, and samples on which each signal fired."""
        return dict(self._impl.stats)

    @property
    def state(self) -> dict[str, float]:
        """The current EWMA and CUSUM statistics (CUSUM in sigma units)."""
        i = self._impl
        return {"ewma": i.ewma, "cusum_upper": i.cusum_upper, "cusum_lower": i.cusum_lower}

    def reset(self) -> None:
        """Back to a fresh Phase II chart; the in-control parameters and options stay."""
        self._impl.reset()

    def __repr__(self) -> str:
        return f"ControlChart(mean={self._mean!r}, sigma={self._sigma!r}, stats={self.stats})"


def violations(frame: pd.DataFrame) -> pd.DataFrame:
    """Long form of a :meth:`ControlChart.monitor` frame: one row (sample, signal) per signal fired."""
    if "signals" not in frame or "sample" not in frame:
        raise ValueError("frame: expected the DataFrame of ControlChart.monitor (columns sample, signals)")
    bits = frame["signals"].to_numpy(dtype=np.uint8)[:, None] >> np.arange(len(SIGNALS), dtype=np.uint8) & 1
    row, signal = np.nonzero(bits)  # row-major: by sample, then in SIGNALS order
    return pd.DataFrame(
        {
            "sample": frame["sample"].to_numpy(dtype=np.int64)[row],
            "signal": np.array(SIGNALS, dtype=object)[signal],
        }
    )
