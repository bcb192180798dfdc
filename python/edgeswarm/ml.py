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

__all__ = [
    "AnomalyLikelihood",
    "Ensemble",
    "EwmaZScore",
    "HalfSpaceTrees",
    "LikelihoodAlarm",
    "Mahalanobis",
    "NeighbourRarity",
    "RobustMad",
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
