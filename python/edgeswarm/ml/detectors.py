"""Streaming anomaly detectors with a score and a confidence in [0, 1].

Every detector is causal: each sample is scored against what was learned from
the samples before it, then learned. ``score(x)`` takes a whole NumPy array
(1-D for univariate detectors, ``(n, dim)`` for multivariate ones), runs in C++
with the GIL released, and continues the stream: feeding chunks one after the
other gives exactly the scores of one call over their concatenation. One
detector object is one device's streaming state.

Score: 0.5 is the decision boundary; EWMA, MAD and Mahalanobis map a squared
standardised distance z^2 to z^2 / (z^2 + threshold^2), Half-Space Trees map
how many times sparser (s) the sample's region is than a typical one to
s^2 / (s^2 + threshold^2), and the Ensemble gives 1 - p with p a Bonferroni-corrected
tail probability of its members' calibrated scores.
NeighbourRarity gives 2^(-q / rare_fraction) for the fraction q of recent values
near the new one. AnomalyLikelihood post-processes any raw score stream into a
log-scale tail probability (0.5 = p of 1e-5), and LikelihoodAlarm chains a raw
detector, that likelihood, a range break and a hold-off after each alarm.
StuckSensor (a run of equal readings the sensor's own repeat rate calls improbable)
and DriftCusum (the quality-control CUSUM on the residual from one and two days
before) are NumPy over each chunk plus :mod:`edgeswarm.quality`'s C++ chart, with the
same score, confidence, chunking and NaN rules.

Confidence: ``n / (n + warmup) * |2 * score - 1|`` with n the valid samples
learned before the one scored: it grows with the data seen and with the
distance of the score from the decision boundary.

NaN and infinity (any coordinate of a row) are counted in ``stats["invalid"]``
and skipped: score NaN, confidence 0, nothing learned.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from edgeswarm import _core
from edgeswarm._validate import require_float, require_int

__all__ = [
    "AnomalyLikelihood",
    "DriftCusum",
    "Ensemble",
    "EwmaZScore",
    "HalfSpaceTrees",
    "LikelihoodAlarm",
    "Mahalanobis",
    "NeighbourRarity",
    "RobustMad",
    "StuckSensor",
]

Scores = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]


class _Detector:
    """Shared facade: a compiled detector behind ``score``, ``stats`` and ``reset``."""

    _impl: Any

    def score(self, x: npt.ArrayLike) -> Scores:
        """Scores the samples of ``x`` in order, then learns them; returns (scores, confidence)."""
        return self._impl.update_batch(np.asarray(x))

    @property
    def stats(self) -> dict[str, int]:
        """Counters: ``seen`` (all samples), ``invalid`` (skipped), ``learned``."""
        return dict(self._impl.stats)

    def reset(self) -> None:
        """Forgets everything learned; the options stay."""
        self._impl.reset()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(stats={self.stats})"


class EwmaZScore(_Detector):
    """Univariate z-score against an exponentially weighted mean and variance.

    The first ``1 / alpha`` samples get equal weights (the exact running mean
    and variance); after that, weight ``alpha`` for the newest.
    """

    def __init__(
        self, *, alpha: float = 0.02, threshold: float = 3.0, warmup: float = 30.0, min_std: float = 1e-9
    ) -> None:
        self._impl = _core.EwmaZScore(alpha=alpha, threshold=threshold, warmup=warmup, min_std=min_std)


class RobustMad(_Detector):
    """Univariate robust z-score: (x - median) / scale over the last ``window`` valid samples.

    The scale is 1.4826 * MAD, floored at ``range_floor`` times the range (max - min) of every
    valid sample learned (and at ``min_scale``): on a flat or quantised stretch the MAD is 0 and
    any change would otherwise score exactly 1. On noisy data the floor does not bind (the range
    of n normal samples is about 8 to 10 sigma for n up to 100,000, so 1.4826 * MAD is near
    range / 10); the 1 / 100 default follows from that, not from a benchmark.
    """

    def __init__(
        self,
        *,
        window: int = 101,
        threshold: float = 3.0,
        warmup: float = 30.0,
        min_scale: float = 1e-9,
        range_floor: float = 0.01,
    ) -> None:
        self._impl = _core.RobustMad(
            window=window, threshold=threshold, warmup=warmup, min_scale=min_scale, range_floor=range_floor
        )

    @property
    def scale(self) -> float:
        """Scale the next sample's robust z is measured in."""
        return float(self._impl.scale)


class HalfSpaceTrees(_Detector):
    """Half-Space Trees (Tan, Ting & Liu 2011) over rows of ``dim`` features.

    The first ``window`` valid samples fix the feature ranges and score 0 with
    confidence 0; trees are drawn from the project RNG with ``seed``. Masses are
    counted per window of ``window`` samples; each sample is scored against the
    previous window: a region ``threshold`` times sparser than that window's
    typical sample scores 0.5 (geometric mean over trees of the mass density).
    """

    def __init__(
        self,
        *,
        dim: int = 1,
        n_trees: int = 25,
        depth: int = 8,
        window: int = 250,
        size_limit: float = 0.02,
        seed: int = 0,
        warmup: float = 250.0,
        threshold: float = 24.0,
    ) -> None:
        self._impl = _core.HalfSpaceTrees(
            dim=dim,
            n_trees=n_trees,
            depth=depth,
            window=window,
            size_limit=size_limit,
            seed=seed,
            warmup=warmup,
            threshold=threshold,
        )


class Mahalanobis(_Detector):
    """Mahalanobis distance from an online exponentially weighted mean and covariance over rows of ``dim``.

    Bounded influence: after the first ``1 / alpha`` rows, an isolated row beyond ``clip`` times
    the decision boundary is learned as if it lay on that radius (its deviation shrunk), so a
    spike does not widen the covariance that judges the next one. A row beyond it right after
    another is a lasting change and is learned in full (a level shift is followed one row later
    than without the cap). ``clip=math.inf`` learns every row at full weight.
    """

    def __init__(
        self,
        *,
        dim: int = 2,
        alpha: float = 0.01,
        threshold: float = 3.0,
        ridge: float = 1e-3,
        refresh: int = 256,
        warmup: float = 50.0,
        clip: float = 1.0,
    ) -> None:
        self._impl = _core.Mahalanobis(
            dim=dim, alpha=alpha, threshold=threshold, ridge=ridge, refresh=refresh, warmup=warmup, clip=clip
        )


class Ensemble(_Detector):
    """Calibrated ensemble: EWMA, MAD and Half-Space Trees for ``dim == 1``; Mahalanobis and HST otherwise.

    Each member's score gets a tail probability among that member's past scores (empirical in
    the bulk; above the ``1 - tail_fit`` quantile an exponential tail on the log-odds scale,
    fitted to the ``1 - tail_fit`` and ``1 - tail_fit / 2`` quantiles, so recurring anomalies
    do not cap how small it gets); the result is ``1 - min(1, members * smallest tail probability)``.
    """

    def __init__(
        self,
        *,
        dim: int = 1,
        seed: int = 0,
        bins: int = 1024,
        warmup: float = 100.0,
        ewma_alpha: float = 0.02,
        mad_window: int = 101,
        hst_trees: int = 25,
        hst_depth: int = 8,
        hst_window: int = 250,
        mahalanobis_alpha: float = 0.01,
        tail_fit: float = 0.05,
    ) -> None:
        self._impl = _core.Ensemble(
            dim=dim,
            seed=seed,
            bins=bins,
            warmup=warmup,
            ewma_alpha=ewma_alpha,
            mad_window=mad_window,
            hst_trees=hst_trees,
            hst_depth=hst_depth,
            hst_window=hst_window,
            mahalanobis_alpha=mahalanobis_alpha,
            tail_fit=tail_fit,
        )


class NeighbourRarity(_Detector):
    """Univariate density score: how few of the last ``window`` values lie near the new one.

    With q the fraction of the window within ``radius`` times the learned range (max - min)
    of x, the score is ``2 ** (-q / rare_fraction)``: 1 for a value with no neighbours, 0.5
    when ``rare_fraction`` of the window is near it.
    """

    def __init__(
        self,
        *,
        window: int = 4000,
        radius: float = 1 / 32,
        rare_fraction: float = 0.004,
        warmup: float = 30.0,
    ) -> None:
        self._impl = _core.NeighbourRarity(
            window=window, radius=radius, rare_fraction=rare_fraction, warmup=warmup
        )

    def neighbours(self, x: float) -> int:
        """Values of the window within x's neighbourhood; nothing is learned."""
        return int(self._impl.neighbours(float(x)))


class AnomalyLikelihood(_Detector):
    """Post-processor of raw anomaly scores (any detector's): how unusual their recent level is.

    The mean of the last ``average`` raw scores is compared with a normal distribution fitted
    to past means (the last ``history``, refitted every ``estimate_every`` samples after the
    first ``learning``; mean and variance floored). The score is the two-sided tail
    probability p on a log scale, ``log(p + 1e-10) / log(1e-10)``: 0.5 means p = 1e-5. Only
    the first of consecutive samples with p <= 1e-5 keeps its score; the rest get 0.3.
    ``score(raw_scores)`` takes the raw scores in stream order.
    """

    def __init__(
        self,
        *,
        average: int = 10,
        learning: int = 288,
        estimate_every: int = 100,
        history: int = 8640,
        mean_floor: float = 0.03,
        variance_floor: float = 3e-4,
        warmup: float = 388.0,
    ) -> None:
        self._impl = _core.AnomalyLikelihood(
            average=average,
            learning=learning,
            estimate_every=estimate_every,
            history=history,
            mean_floor=mean_floor,
            variance_floor=variance_floor,
            warmup=warmup,
        )

    @property
    def fitted(self) -> bool:
        """Whether a distribution has been fitted yet."""
        return bool(self._impl.fitted)


class LikelihoodAlarm(_Detector):
    """Univariate alarm: a base detector, its anomaly likelihood, a range break and a hold-off.

    ``base`` is ``"rarity"`` (NeighbourRarity) or ``"ewma"`` (EwmaZScore). Its raw score goes
    through AnomalyLikelihood; a value beyond the learned [min, max] by more than
    ``range_tolerance`` of the range scores 1 (when ``range_break``); after a score >= 0.5 the
    next ``holdoff`` valid samples score 0, so one anomaly rings once. The defaults were chosen
    on the even-numbered NAB files (see benchmarks/README.md).
    """

    def __init__(
        self,
        *,
        base: str = "rarity",
        rarity_window: int = 4000,
        rarity_radius: float = 1 / 32,
        rarity_fraction: float = 0.004,
        ewma_alpha: float = 0.02,
        average: int = 10,
        learning: int = 288,
        estimate_every: int = 100,
        history: int = 8640,
        range_break: bool = True,
        range_tolerance: float = 0.05,
        holdoff: int = 100,
        warmup: float = 388.0,
    ) -> None:
        self._impl = _core.LikelihoodAlarm(
            base=base,
            rarity_window=rarity_window,
            rarity_radius=rarity_radius,
            rarity_fraction=rarity_fraction,
            ewma_alpha=ewma_alpha,
            average=average,
            learning=learning,
            estimate_every=estimate_every,
            history=history,
            range_break=range_break,
            range_tolerance=range_tolerance,
            holdoff=holdoff,
            warmup=warmup,
        )


def _require_positive(name: str, value: object) -> float:
    value = require_float(name, value)
    if value <= 0:
        raise ValueError(f"{name}: {value} is out of range; allowed > 0")
    return value


def _series(x: npt.ArrayLike) -> np.ndarray:
    """``x`` as a 1-D float64 array, or ValueError naming ``x``."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"x: expected a 1-D array, got shape {a.shape}")
    return a


def _confidence(learned: np.ndarray, warmup: float, score: np.ndarray) -> np.ndarray:
    """The module's confidence, ``n / (n + warmup) * |2 score - 1|``, 0 where the score is NaN."""
    conf = learned / (learned + warmup) * np.abs(2.0 * score - 1.0)
    return np.where(np.isnan(score), 0.0, conf)


class StuckSensor:
    """Univariate stuck-sensor detector: a run of equal readings its own history calls improbable.

    Learns p, the share of consecutive valid readings that are equal (within ``tolerance``
    relative), with a Jeffreys prior ``(equal + 0.5) / (pairs + 1)``. The run of ``L`` equal
    pairs ending at a reading has chance ``p^L`` if equal pairs came independently; the score
    is ``r^2 / (1 + r^2)`` with ``r = -L log10(p) / decades``, so 0.5 when that chance is
    ``10^-decades``. A continuous noisy sensor almost never repeats a value (p near 1 / pairs),
    so a few repeats flag; a quantised one learns a large p and needs a long run. Readings at
    the learned minimum or maximum (a sensor clamped at its range end) score 0 and teach
    nothing: sitting at the floor is normal for motion or light sensors. NumPy over each
    chunk, no per-sample Python; integer counters, so chunked scores equal batch scores.
    NaN and infinity are counted in ``stats["invalid"]`` and skipped (score NaN, confidence 0);
    they neither break nor extend a run.
    """

    def __init__(self, *, decades: float = 8.0, tolerance: float = 1e-12, warmup: float = 360.0) -> None:
        self._decades = _require_positive("decades", decades)
        self._tol = require_float("tolerance", tolerance, minimum=0.0)
        self._warmup = _require_positive("warmup", warmup)
        self.reset()

    def reset(self) -> None:
        """Forgets everything learned; the options stay."""
        self._prev = np.nan  # last valid reading
        self._run = 0  # equal pairs ending at it
        self._pairs = 0  # pairs learned (neither end at a range end)
        self._equal = 0  # of which equal
        self._lo, self._hi = np.inf, -np.inf
        self._seen = self._invalid = self._learned = 0

    def score(self, x: npt.ArrayLike) -> Scores:
        """Scores the samples of ``x`` in order, then learns them; returns (scores, confidence)."""
        a = _series(x)
        valid = np.isfinite(a)
        v = a[valid]
        m = v.size
        scores = np.full(a.shape, np.nan)
        confidence = np.zeros(a.shape)
        self._seen += a.size
        self._invalid += a.size - m
        if m == 0:
            return scores, confidence
        prev = np.concatenate(([self._prev], v[:-1]))
        has_prev = np.isfinite(prev)
        equal = has_prev & (np.abs(v - prev) <= self._tol * np.maximum(np.abs(v), np.abs(prev)))
        lo = np.minimum.accumulate(np.concatenate(([self._lo], v)))[1:]
        hi = np.maximum.accumulate(np.concatenate(([self._hi], v)))[1:]
        at_end = (v <= lo) | (v >= hi)
        # Run of equal pairs ending at each reading: pairs counted since the last unequal one.
        count = np.cumsum(equal, dtype=np.int64)
        reset_at = np.maximum.accumulate(np.where(equal, np.int64(-self._run), count))
        run = count - np.maximum(reset_at, -self._run)
        learn = has_prev & ~at_end
        pairs_before = self._pairs + np.cumsum(learn, dtype=np.int64) - learn
        equal_before = self._equal + np.cumsum(learn & equal, dtype=np.int64) - (learn & equal)
        p = (equal_before + 0.5) / (pairs_before + 1.0)
        r = np.where(at_end, 0.0, run * -np.log10(p) / self._decades)
        s = r * r / (1.0 + r * r)
        scores[valid] = s
        confidence[valid] = _confidence(self._learned + np.arange(m, dtype=np.float64), self._warmup, s)
        self._prev, self._run = float(v[-1]), int(run[-1])
        self._pairs, self._equal = (
            int(pairs_before[-1] + learn[-1]),
            int(equal_before[-1] + (learn & equal)[-1]),
        )
        self._lo, self._hi = float(lo[-1]), float(hi[-1])
        self._learned += m
        return scores, confidence

    @property
    def stats(self) -> dict[str, int]:
        """Counters: ``seen``, ``invalid``, ``learned``, and the equal ``pairs`` learned of ``pairs``."""
        return {
            "seen": self._seen,
            "invalid": self._invalid,
            "learned": self._learned,
            "pairs": self._pairs,
            "equal_pairs": self._equal,
        }

    def __repr__(self) -> str:
        return f"StuckSensor(stats={self.stats})"


class DriftCusum:
    """Univariate drift detector: the quality-control CUSUM on the residual from the day before.

    The residual of reading ``t`` is ``x_t`` minus the median of the valid readings
    ``t - period ± half_window`` (the same time the day before: the daily cycle cancels, and
    the median ignores a short spike then), and the same two periods back; the smaller of the
    two in magnitude is kept, so a fault on one of those days (which moves only its own
    residual) does not come back as a mirrored drift today, while a fault today moves both. Its sigma is fixed once ``period`` samples were
    seen: the mean moving range over d2 of that first period's consecutive valid pairs that
    are not at its minimum or maximum (a clamped stretch has no noise to learn), times
    ``sqrt(1 + pi / (2 (2 half_window + 1)))`` for the median's own noise. The residuals go
    through :class:`edgeswarm.quality.ControlChart`'s tabular CUSUM (``k``, ``h`` in sigma
    units, C++); the score is ``r^2 / (1 + r^2)`` with ``r`` the larger CUSUM over ``h``
    while the residual still pushes it (beyond ``k`` on its side), else ``r`` capped at 1
    (score at most 0.5: not an alarm). Once a CUSUM past ``h`` sees its residual cross back
    through 0 (the sensor recovered) the chart restarts, so an alarm does not linger.
    Scores are NaN (confidence 0) for the first ``2 period + half_window`` samples and for NaN or
    infinite readings, which are counted in ``stats["invalid"]``. ``period`` counts samples
    (8640: one day at one reading per 10 s). Chunked scores equal batch scores.
    """

    def __init__(
        self,
        *,
        period: int = 8640,
        half_window: int = 15,
        k: float = 1.0,
        h: float = 10.0,
        warmup: float = 360.0,
        min_sigma: float = 1e-9,
    ) -> None:
        self._period = require_int("period", period, minimum=2)
        self._half = require_int("half_window", half_window, minimum=1, maximum=self._period - 1)
        self._k = require_float("k", k, minimum=0.0)
        self._h = _require_positive("h", h)
        self._warmup = require_float("warmup", warmup, minimum=0.0)
        self._min_sigma = require_float("min_sigma", min_sigma, minimum=0.0)
        self.reset()

    def reset(self) -> None:
        """Forgets everything learned; the options stay."""
        self._tail = np.full(2 * self._period + self._half, np.nan)  # the last readings, NaN at first
        self._sigma: float | None = None
        self._chart: Any = None
        self._seen = self._invalid = self._scored = self._restarts = 0

    @property
    def sigma(self) -> float | None:
        """The residual's sigma (None before ``period`` samples were seen)."""
        return self._sigma

    def _learn_sigma(self, first: np.ndarray) -> None:
        from edgeswarm.ml.quality import ControlChart  # quality imports pandas; only needed here

        v = first[np.isfinite(first)]
        inside = (v > v.min()) & (v < v.max()) if v.size else v.astype(bool)
        pair = inside[1:] & inside[:-1]
        ranges = np.abs(np.diff(v))[pair]
        sd = float(ranges.mean()) * np.sqrt(np.pi) / 2.0 if ranges.size else 0.0
        self._sigma = max(sd * np.sqrt(1.0 + np.pi / (2.0 * (2 * self._half + 1))), self._min_sigma)
        self._chart = ControlChart(
            mean=0.0, sigma=self._sigma, cusum_k=self._k, cusum_h=self._h, rules=(), ewma=False
        )

    def _cusum(self, residual: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Upper and lower CUSUM of ``residual``, restarting the chart after each recovery."""
        up, low = np.empty_like(residual), np.empty_like(residual)
        pos = 0
        while pos < residual.size:
            r = self._chart.update(residual[pos:])
            z = residual[pos:] / self._sigma
            done = np.flatnonzero(
                ((r["cusum_upper"] > self._h) & (z <= 0)) | ((r["cusum_lower"] > self._h) & (z >= 0))
            )
            end = residual.size - pos if done.size == 0 else int(done[0]) + 1
            up[pos : pos + end], low[pos : pos + end] = r["cusum_upper"][:end], r["cusum_lower"][:end]
            if done.size == 0:
                break
            # The chart went on past the recovery; restart it there and rescore the rest.
            self._chart.reset()
            self._restarts += 1
            pos += end
        return up, low

    def _baseline(self, full: np.ndarray, first: int, n: int, lag: int) -> np.ndarray:
        """Median of the valid readings ``lag ± half_window`` samples before samples first..n-1."""
        width = 2 * self._half + 1
        # Sample j sits at full[tail + j]; its window starts lag + half before that.
        lo = self._tail.size + first - lag - self._half
        windows = np.lib.stride_tricks.sliding_window_view(full[lo : lo + n - first + width - 1], width)
        enough = np.isfinite(windows).sum(axis=1) > self._half
        baseline = np.full(n - first, np.nan)
        baseline[enough] = np.nanmedian(windows[enough], axis=1)
        return baseline

    def _residual(self, full: np.ndarray, clean: np.ndarray, first: int) -> np.ndarray:
        """The smaller of the residuals from one and two periods back: a fault on one of those
        days moves only its own residual, a fault today moves both."""
        n = clean.size
        r1 = clean[first:] - self._baseline(full, first, n, self._period)
        r2 = clean[first:] - self._baseline(full, first, n, 2 * self._period)
        smaller = np.where(np.abs(r1) <= np.abs(r2), r1, r2)
        return np.where(np.isnan(r1) | np.isnan(r2), np.nan, smaller)

    def score(self, x: npt.ArrayLike) -> Scores:
        """Scores the samples of ``x`` in order, then learns them; returns (scores, confidence)."""
        a = _series(x)
        n, start = a.size, self._seen
        clean = np.where(np.isfinite(a), a, np.nan)
        full = np.concatenate((self._tail, clean))
        self._seen += n
        self._invalid += int(n - np.isfinite(a).sum())
        if self._sigma is None and self._seen >= self._period:
            # full holds every sample seen so far behind the tail's NaN padding.
            seen_so_far = full[full.size - self._seen :]
            self._learn_sigma(seen_so_far[: self._period])
        scores = np.full(n, np.nan)
        confidence = np.zeros(n)
        first = max(
            2 * self._period + self._half - start, 0
        )  # first sample with whole windows 2 periods back
        if self._sigma is not None and first < n:
            residual = self._residual(full, clean, first)
            up, low = self._cusum(residual)
            z = residual / self._sigma
            r_up = np.where(z > self._k, up / self._h, np.minimum(up / self._h, 1.0))
            r_low = np.where(z < -self._k, low / self._h, np.minimum(low / self._h, 1.0))
            r = np.maximum(r_up, r_low)  # NaN where the residual is NaN
            s = r * r / (1.0 + r * r)
            ok = np.isfinite(s)
            learned = self._scored + np.cumsum(ok) - ok
            scores[first:] = s
            confidence[first:] = _confidence(learned.astype(np.float64), self._warmup, s)
            self._scored += int(ok.sum())
        self._tail = full[full.size - self._tail.size :].copy()
        return scores, confidence

    @property
    def stats(self) -> dict[str, int]:
        """Counters: ``seen``, ``invalid``, ``learned`` (residuals scored), ``restarts`` of the CUSUM."""
        return {
            "seen": self._seen,
            "invalid": self._invalid,
            "learned": self._scored,
            "restarts": self._restarts,
        }

    def __repr__(self) -> str:
        return f"DriftCusum(sigma={self._sigma!r}, stats={self.stats})"
