"""Residual entropy and the regime detector: C++ against small NumPy / Python references."""

from __future__ import annotations

import math

import numpy as np
import pytest
from edgeswarm import _core
from edgeswarm.regime import REGIMES, RegimeDetector, residual_entropy

CALM, PRESTORM, STORM = 0, 1, 2


def reference_entropy(residuals: np.ndarray, residual_range: float, bins: int) -> float:
    """NumPy twin of residual_entropy: residuals at or beyond the range are saturated and
    their mass is spread evenly over the bins."""
    r = np.abs(np.asarray(residuals, dtype=np.float64).ravel())
    r = r[~np.isnan(r)]
    if r.size == 0:
        return 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        x = r / residual_range * bins
    in_range = x < bins
    counts = np.bincount(np.floor(x[in_range]).astype(np.int64), minlength=bins).astype(np.float64)
    saturated = r.size - int(in_range.sum())
    p = (counts + saturated / bins) / r.size
    p = p[p > 0]
    return float(-(p * np.log(p)).sum() / np.log(bins))


class ReferenceDetector:
    """Plain-Python twin of the C++ RegimeDetector, written from the header's rules."""

    def __init__(self, calm=0.45, storm=0.7, deriv=0.05, hysteresis=3, smoothing=0.3):
        self.calm, self.storm, self.deriv = calm, storm, deriv
        self.hysteresis, self.w = hysteresis, smoothing
        self.regime, self.candidate, self.count = CALM, CALM, 0
        self.smoothed, self.derivative, self.started = 0.0, 0.0, False

    def update(self, h: float) -> int:
        if not math.isfinite(h):
            return self.regime
        if not self.started:
            self.smoothed, self.derivative, self.started = h, 0.0, True
        else:
            nxt = self.w * h + (1.0 - self.w) * self.smoothed
            self.derivative, self.smoothed = nxt - self.smoothed, nxt
        if h >= self.storm:
            cand = STORM
        elif h >= self.calm or self.derivative >= self.deriv:
            cand = PRESTORM
        else:
            cand = CALM
        if cand == self.regime:
            self.candidate, self.count = cand, 0
        else:
            if cand == self.candidate:
                self.count += 1
            else:
                self.candidate, self.count = cand, 1
            if self.count >= self.hysteresis:
                self.regime, self.count = cand, 0
        return self.regime


def entropy_walk(seed: int, n: int) -> np.ndarray:
    """A bounded random walk of H in [0, 1] with some NaN, from the project's own RNG."""
    steps = (_core.rng_uniform(seed, 0, n) - 0.5) * 0.3
    h = np.empty(n)
    x = 0.2
    for t in range(n):
        x = min(1.0, max(0.0, x + steps[t]))
        h[t] = x
    h[_core.rng_uniform(seed, 1, n) < 0.03] = np.nan
    return h


def test_core_names():
    assert _core.REGIMES == ("Calm", "PreStorm", "Storm")
    assert REGIMES == _core.REGIMES


# --- residual entropy -------------------------------------------------------------------------------


def test_entropy_known_values():
    assert residual_entropy([0.01, 0.02, 0.0], residual_range=1.0) == 0.0
    assert residual_entropy(np.arange(8) + 0.5, residual_range=8.0, bins=8) == pytest.approx(1.0, abs=1e-12)
    # p = (1/2, 1/2) over 4 bins: log 2 / log 4.
    assert residual_entropy([0.1, -0.1, 0.6, 0.6], residual_range=1.0, bins=4) == pytest.approx(
        0.5, abs=1e-12
    )
    assert residual_entropy([], residual_range=1.0) == 0.0
    assert residual_entropy([np.nan, np.nan], residual_range=1.0) == 0.0
    # Saturated residuals (at or beyond the range) are maximal disorder, not one quiet last bin.
    assert residual_entropy([5.0, -7.0, np.inf], residual_range=1.0) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("bins", [2, 5, 16, 64])
@pytest.mark.parametrize("residual_range", [0.5, 1.0, 3.7])
def test_entropy_matches_numpy_reference(bins, residual_range):
    r = (_core.rng_uniform(bins, 7, 1000) - 0.3) * 2.0 * residual_range  # some negative, some beyond range
    r[::17] = np.nan
    r[5] = np.inf
    got = _core.residual_entropy(r, residual_range=residual_range, bins=bins)
    assert got == pytest.approx(reference_entropy(r, residual_range, bins), abs=1e-12)
    assert 0.0 <= got <= 1.0


def test_entropy_rises_with_spread():
    tight = _core.rng_normal(1, 0, 500) * 0.01
    wide = _core.rng_normal(1, 0, 500) * 0.5
    assert residual_entropy(tight, residual_range=2.0) < 0.3 < residual_entropy(wide, residual_range=2.0)


def test_entropy_accepts_any_shape():
    r = _core.rng_uniform(3, 0, 60)
    assert residual_entropy(r.reshape(6, 10), residual_range=1.0) == residual_entropy(r, residual_range=1.0)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"residual_range": 0.0}, "residual_range"),
        ({"residual_range": -1.0}, "residual_range"),
        ({"residual_range": float("nan")}, "residual_range"),
        ({"residual_range": float("inf")}, "residual_range"),
        ({"residual_range": 1.0, "bins": 1}, "bins"),
        ({"residual_range": 1.0, "bins": 2.5}, "bins"),
    ],
)
def test_entropy_validation_names_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name}:"):
        residual_entropy([0.1, 0.2], **kwargs)


def test_entropy_rejects_non_float_arrays_in_core():
    with pytest.raises(ValueError, match="^residuals:"):
        _core.residual_entropy(np.array([1, 2]), residual_range=1.0)
    with pytest.raises(ValueError, match="^residuals:"):
        residual_entropy(["a", "b"], residual_range=1.0)


# --- detector ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("hysteresis", [1, 3])
def test_detector_matches_python_reference(seed, hysteresis):
    h = entropy_walk(seed, 3000)
    det = _core.RegimeDetector(hysteresis=hysteresis)
    codes = det.run(h)
    ref = ReferenceDetector(hysteresis=hysteresis)
    expected = np.array([ref.update(float(x)) for x in h], dtype=np.uint8)
    assert codes.dtype == np.uint8
    np.testing.assert_array_equal(codes, expected)
    assert det.smoothed == ref.smoothed
    assert det.derivative == ref.derivative
    assert set(np.unique(codes)) == {CALM, PRESTORM, STORM}  # the walk exercises every regime


def test_run_equals_repeated_update():
    h = entropy_walk(9, 500)
    a, b = _core.RegimeDetector(), _core.RegimeDetector()
    codes = a.run(h)
    np.testing.assert_array_equal(codes, [b.update(float(x)) for x in h])
    assert a.regime == b.regime == codes[-1]


def test_slow_ramp_visits_calm_prestorm_storm():
    det = _core.RegimeDetector()
    codes = det.run(np.arange(101) * 0.01)
    changes = codes[np.r_[True, np.diff(codes) != 0]]
    np.testing.assert_array_equal(changes, [CALM, PRESTORM, STORM])
    # H reaches 0.45 at t = 45 and 0.7 at t = 70; hysteresis 3 confirms two epochs later.
    assert int(np.argmax(codes == PRESTORM)) == 47
    assert int(np.argmax(codes == STORM)) == 72


def test_rising_derivative_below_calm_threshold_gives_prestorm():
    det = _core.RegimeDetector()
    codes = det.run(np.r_[np.zeros(10), np.full(3, 0.4)])
    assert codes[-1] == PRESTORM
    assert det.smoothed < 0.45
    assert (codes[:-1] == CALM).all()


def test_spike_shorter_than_hysteresis_is_ignored():
    det = _core.RegimeDetector(hysteresis=3)
    codes = det.run(np.r_[np.full(5, 0.1), [0.95, 0.95], np.full(10, 0.1)])
    assert (codes == CALM).all()


def test_deescalates_to_calm_with_hysteresis():
    det = _core.RegimeDetector(hysteresis=3)
    codes = det.run(np.r_[np.full(5, 0.9), np.full(3, 0.1)])
    np.testing.assert_array_equal(codes[-4:], [STORM, STORM, STORM, CALM])


def test_nan_is_ignored():
    det = _core.RegimeDetector()
    assert det.update(float("nan")) == CALM
    det.update(0.3)
    assert det.smoothed == 0.3
    for h in (0.9, float("nan"), 0.9, float("inf"), 0.9):
        det.update(h)
    assert det.regime == STORM  # three 0.9 in a row, NaN/inf in between did not reset the count


def test_reset():
    det = _core.RegimeDetector()
    det.run(np.full(5, 0.9))
    det.reset()
    assert (det.regime, det.smoothed, det.derivative) == (CALM, 0.0, 0.0)


def test_core_run_rejects_bad_arrays():
    det = _core.RegimeDetector()
    with pytest.raises(ValueError, match="^h:"):
        det.run(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="^h:"):
        det.run(np.zeros(3, dtype=np.int64))


# --- facade -----------------------------------------------------------------------------------------


def test_facade_returns_names():
    det = RegimeDetector(hysteresis=1)
    assert det.update(0.1) == "Calm"
    assert det.update(0.5) == "PreStorm"
    assert det.update(0.8) == "Storm"
    assert det.regime == "Storm"
    assert det.regime_code == STORM


def test_facade_run_gives_names_and_codes():
    h = entropy_walk(4, 400)
    names = RegimeDetector().run(h)
    codes = RegimeDetector().run_codes(h)
    assert names.dtype == np.dtype("<U8")
    assert codes.dtype == np.uint8
    np.testing.assert_array_equal(names, np.array(REGIMES)[codes])
    assert set(names) == {"Calm", "PreStorm", "Storm"}


def test_facade_accepts_lists_and_options():
    det = RegimeDetector(calm_threshold=0.2, storm_threshold=0.5, derivative_threshold=0.5, hysteresis=2)
    assert list(det.run([0.3, 0.3])) == ["Calm", "PreStorm"]
    assert det.params["hysteresis"] == 2
    det.reset()
    assert det.regime == "Calm"
    assert "Calm" in repr(det)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"calm_threshold": -0.1}, "calm_threshold"),
        ({"calm_threshold": 0.8}, "calm_threshold"),
        ({"storm_threshold": 1.5}, "storm_threshold"),
        ({"derivative_threshold": 0.0}, "derivative_threshold"),
        ({"hysteresis": 0}, "hysteresis"),
        ({"hysteresis": 2.5}, "hysteresis"),
        ({"smoothing": 0.0}, "smoothing"),
        ({"smoothing": 1.5}, "smoothing"),
        ({"smoothing": "x"}, "smoothing"),
    ],
)
def test_facade_validation_names_the_option(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name}:"):
        RegimeDetector(**kwargs)


def test_facade_options_are_keyword_only():
    with pytest.raises(TypeError):
        RegimeDetector(0.4)  # type: ignore[misc]
