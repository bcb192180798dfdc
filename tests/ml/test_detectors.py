"""Streaming anomaly detectors: injected spikes and level shifts, chunking, NaN, determinism, bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from edgeswarm import ml

UNIVARIATE = {
    "ewma": lambda: ml.EwmaZScore(),
    "mad": lambda: ml.RobustMad(),
    "hst": lambda: ml.HalfSpaceTrees(seed=3),
    "ensemble": lambda: ml.Ensemble(seed=3),
    "rarity": lambda: ml.NeighbourRarity(),
}
MULTIVARIATE = {
    "hst": lambda: ml.HalfSpaceTrees(dim=3, seed=3),
    "mahalanobis": lambda: ml.Mahalanobis(dim=3),
    "ensemble": lambda: ml.Ensemble(dim=3, seed=3),
}
THRESHOLD = {"ewma": 0.5, "mad": 0.5, "hst": 0.5, "mahalanobis": 0.5, "ensemble": 0.99, "rarity": 0.5}
BURN_IN = 500


def spiky_series(seed: int = 1, n: int = 6000, dim: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Seeded noise with a daily-like cycle and 40 spikes of 8 to 12 sigma after the burn-in."""
    rng = np.random.default_rng(seed)
    shape = (n,) if dim == 0 else (n, dim)
    x = rng.normal(size=shape) + (np.sin(np.arange(n) * 2 * np.pi / 1000)[:, None] * 0.5 if dim else 0)
    if dim == 0:
        x = x + 0.5 * np.sin(np.arange(n) * 2 * np.pi / 1000)
    slots = np.arange(BURN_IN, n - 10, 50)
    k = min(40, len(slots))
    where = np.sort(rng.choice(slots, size=k, replace=False))
    magnitude = rng.uniform(8, 12, size=k) * rng.choice([-1.0, 1.0], size=k)
    if dim == 0:
        x[where] += magnitude
    else:
        x[where, rng.integers(0, dim, size=k)] += magnitude
    return x, where


@pytest.mark.parametrize(("name", "dim"), [(k, 0) for k in UNIVARIATE] + [(k, 3) for k in MULTIVARIATE])
def test_finds_injected_spikes_with_few_false_positives(name: str, dim: int) -> None:
    x, where = spiky_series(dim=dim)
    det = (UNIVARIATE if dim == 0 else MULTIVARIATE)[name]()
    scores, confidence = det.score(x)
    flagged = scores > THRESHOLD[name]
    recall = flagged[where].mean()
    normal = np.ones(len(scores), dtype=bool)
    normal[:BURN_IN] = False
    normal[where] = False
    # A spike inflates the next few scores of moving-statistics detectors; those are not false alarms.
    for w in where:
        normal[w + 1 : w + 4] = False
    false_rate = flagged[normal].mean()
    assert recall >= 0.9, (name, recall)
    assert false_rate <= 0.03, (name, false_rate)
    assert np.all((scores >= 0) & (scores <= 1))
    assert np.all((confidence >= 0) & (confidence <= 1))
    assert confidence[where].mean() > 0.5


@pytest.mark.parametrize("name", list(UNIVARIATE))
def test_finds_a_level_shift_soon_after_it_starts(name: str) -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=4000)
    x[3000:] += 6.0
    scores, _ = UNIVARIATE[name]().score(x)
    assert scores[3000:3010].max() > THRESHOLD[name]
    assert (scores[BURN_IN:3000] > THRESHOLD[name]).mean() < 0.03


def test_mahalanobis_finds_a_shift_of_the_mean() -> None:
    rng = np.random.default_rng(6)
    x = rng.normal(size=(3000, 2))
    x[2500:] += [4.0, -4.0]
    scores, _ = ml.Mahalanobis(dim=2).score(x)
    # The covariance soon stretches towards the shift, so only its onset must stand out.
    assert scores[2500] > 0.5
    assert (scores[BURN_IN:2500] > 0.5).mean() < 0.03


def test_ensemble_ranks_alone_miss_recurring_spikes_the_fitted_tail_finds() -> None:
    # 40 spikes in 6,000 samples are 0.7 % of the history: more than the 1 - 0.99 a rank can
    # express, so with ranks only (tail_fit=0) later spikes rank among earlier ones.
    x, where = spiky_series()
    ranks, _ = ml.Ensemble(seed=3, tail_fit=0.0).score(x)
    fitted, _ = ml.Ensemble(seed=3).score(x)
    assert (ranks[where] > 0.99).mean() < 0.9
    assert (fitted[where] > 0.99).mean() >= 0.9
    assert (fitted[:BURN_IN] > 0.99).mean() <= (ranks[:BURN_IN] > 0.99).mean() + 0.01


def test_mahalanobis_spike_does_not_widen_the_covariance_that_judges_the_next() -> None:
    rng = np.random.default_rng(12)
    x = rng.normal(size=(2000, 3))
    x[1500, 0] += 10.0
    x[1520, 0] -= 8.0
    capped, _ = ml.Mahalanobis(dim=3).score(x)
    full, _ = ml.Mahalanobis(dim=3, clip=np.inf).score(x)
    assert capped[1500] == full[1500]  # the first spike meets the same state
    assert capped[1520] > full[1520] + 0.05  # the second, 20 rows later, is judged by an unwidened covariance
    # A lasting shift is still followed: the alarms stop within a few rows, one row later at most.
    x = rng.normal(size=(3000, 3))
    x[2000:] += 6.0
    capped, _ = ml.Mahalanobis(dim=3).score(x)
    full, _ = ml.Mahalanobis(dim=3, clip=np.inf).score(x)
    assert capped[2000] > 0.5
    assert (capped[2000:2200] > 0.5).sum() <= (full[2000:2200] > 0.5).sum() + 1 <= 10


def test_mad_scale_floor_breaks_ties_on_flat_stretches_and_does_not_bind_on_noise() -> None:
    rng = np.random.default_rng(13)
    # Noise (range about 6), then 300 equal values: the MAD of the window is 0.
    x = np.concatenate([rng.normal(size=500), np.zeros(300), [0.1, 0.0, 0.5, 0.0, 2.0]])
    det = ml.RobustMad()
    scores, _ = det.score(x)
    floored = scores[[800, 802, 804]]
    assert np.all(np.diff(floored) > 0) and floored[-1] < 1.0  # bigger moves score higher, none ties at 1
    assert scores[800] < 0.5 < scores[804]  # 0.1 is < 3 % of the range, 2.0 is more
    assert det.scale == pytest.approx(0.01 * (x.max() - x.min()))
    unfloored, _ = ml.RobustMad(range_floor=0.0).score(x)
    assert np.all(unfloored[[800, 802, 804]] > 1 - 1e-12)  # the ties the floor removes (0.1 / 1e-9 MADs)
    # On noisy data 1.4826 * MAD is near range / 8, far above range / 100: identical scores.
    y, _ = spiky_series()
    a, _ = ml.RobustMad().score(y)
    b, _ = ml.RobustMad(range_floor=0.0).score(y)
    np.testing.assert_array_equal(a[100:], b[100:])


@pytest.mark.parametrize(("name", "dim"), [(k, 0) for k in UNIVARIATE] + [(k, 3) for k in MULTIVARIATE])
def test_chunks_give_the_scores_of_one_batch(name: str, dim: int) -> None:
    x, _ = spiky_series(seed=2, n=1500, dim=dim)
    x[100] = np.nan
    make = (UNIVARIATE if dim == 0 else MULTIVARIATE)[name]
    s_all, c_all = make().score(x)
    det = make()
    parts = [det.score(chunk) for chunk in np.array_split(x, [1, 7, 300, 301, 999])]
    np.testing.assert_array_equal(np.concatenate([p[0] for p in parts]), s_all)
    np.testing.assert_array_equal(np.concatenate([p[1] for p in parts]), c_all)
    assert det.stats == {"seen": 1500, "invalid": 1, "learned": 1499}


@pytest.mark.parametrize("name", list(UNIVARIATE))
def test_nan_and_infinity_are_counted_skipped_and_not_learned(name: str) -> None:
    rng = np.random.default_rng(7)
    clean = rng.normal(size=1000)
    dirty = np.insert(clean, [10, 500, 800], [np.nan, np.inf, -np.inf])
    s_clean, _ = UNIVARIATE[name]().score(clean)
    det = UNIVARIATE[name]()
    s_dirty, c_dirty = det.score(dirty)
    bad = ~np.isfinite(dirty)
    assert np.isnan(s_dirty[bad]).all() and (c_dirty[bad] == 0).all()
    np.testing.assert_array_equal(s_dirty[~bad], s_clean)
    assert det.stats["invalid"] == 3 and det.stats["seen"] == 1003


def test_same_seed_same_scores_and_seed_matters() -> None:
    x, _ = spiky_series(seed=3, n=2000, dim=3)
    a, _ = ml.HalfSpaceTrees(dim=3, seed=11).score(x)
    b, _ = ml.HalfSpaceTrees(dim=3, seed=11).score(x)
    c, _ = ml.HalfSpaceTrees(dim=3, seed=12).score(x)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    e1, _ = ml.Ensemble(seed=4).score(x[:, 0])
    e2, _ = ml.Ensemble(seed=4).score(x[:, 0])
    np.testing.assert_array_equal(e1, e2)


def test_score_comes_before_learning() -> None:
    # Scoring the same value twice: the first time it is new, so it cannot score lower than the second.
    det = ml.EwmaZScore()
    det.score(np.random.default_rng(8).normal(size=500))
    first, _ = det.score(np.array([20.0]))
    det2 = ml.EwmaZScore()
    det2.score(np.random.default_rng(8).normal(size=500))
    both, _ = det2.score(np.array([20.0, 20.0]))
    assert both[0] == first[0]
    assert both[1] < both[0]


def test_reset_starts_over() -> None:
    x = np.random.default_rng(9).normal(size=800)
    det = ml.RobustMad(window=31)
    s1, _ = det.score(x)
    det.reset()
    s2, _ = det.score(x)
    np.testing.assert_array_equal(s1, s2)
    assert det.stats["seen"] == 800


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: ml.EwmaZScore(alpha=0), "alpha"),
        (lambda: ml.EwmaZScore(threshold=-1), "threshold"),
        (lambda: ml.RobustMad(window=2), "window"),
        (lambda: ml.RobustMad(range_floor=1.5), "range_floor"),
        (lambda: ml.HalfSpaceTrees(depth=0), "depth"),
        (lambda: ml.HalfSpaceTrees(n_trees=0), "n_trees"),
        (lambda: ml.HalfSpaceTrees(threshold=1.0), "threshold"),
        (lambda: ml.Mahalanobis(dim=0), "dim"),
        (lambda: ml.Mahalanobis(ridge=-1), "ridge"),
        (lambda: ml.Mahalanobis(clip=0), "clip"),
        (lambda: ml.Ensemble(bins=2), "bins"),
        (lambda: ml.Ensemble(tail_fit=0.6), "tail_fit"),
    ],
)
def test_bad_options_name_the_parameter(make, name: str) -> None:
    with pytest.raises(ValueError, match=f"^{name}:"):
        make()


def test_bad_shapes_and_dtypes_are_refused() -> None:
    with pytest.raises(ValueError, match="^x:"):
        ml.Mahalanobis(dim=3).score(np.zeros((10, 2)))
    with pytest.raises(ValueError, match="^x:"):
        ml.HalfSpaceTrees(dim=2).score(np.zeros(10))
    with pytest.raises(ValueError, match="^x:"):
        ml.EwmaZScore().score(np.array(["a", "b"]))
    with pytest.raises(TypeError):
        ml.EwmaZScore(0.1)  # options are keyword-only


# Stream post-processing and the likelihood alarm (NAB's best configuration in this project).
ALARMS = {
    "alarm_rarity": lambda: ml.LikelihoodAlarm(),
    "alarm_ewma": lambda: ml.LikelihoodAlarm(base="ewma"),
    "likelihood": lambda: ml.AnomalyLikelihood(learning=50, estimate_every=20),
}


@pytest.mark.parametrize("name", list(ALARMS))
def test_alarm_chunks_give_the_scores_of_one_batch_and_skip_nan(name: str) -> None:
    x, _ = spiky_series(seed=4, n=3000)
    x[[100, 2000]] = [np.nan, np.inf]
    s_all, c_all = ALARMS[name]().score(x)
    det = ALARMS[name]()
    parts = [det.score(chunk) for chunk in np.array_split(x, [1, 7, 300, 301, 1999, 2500])]
    np.testing.assert_array_equal(np.concatenate([p[0] for p in parts]), s_all)
    np.testing.assert_array_equal(np.concatenate([p[1] for p in parts]), c_all)
    assert det.stats == {"seen": 3000, "invalid": 2, "learned": 2998}
    ok = np.isfinite(x)
    assert np.isnan(s_all[~ok]).all() and (c_all[~ok] == 0).all()
    assert np.all((s_all[ok] >= 0) & (s_all[ok] <= 1)) and np.all((c_all >= 0) & (c_all <= 1))
    clean, _ = ALARMS[name]().score(x[ok])
    np.testing.assert_array_equal(s_all[ok], clean)


def test_likelihood_alarm_rings_once_per_spike_and_holds_off() -> None:
    # Calm noise, then one spike beyond the learned range followed by more spikes within the hold-off.
    x = np.random.default_rng(10).normal(size=3000)
    x[2500] = 15.0
    x[2510] = -15.0
    x[2700] = 40.0
    scores, _ = ml.LikelihoodAlarm(holdoff=100).score(x)
    assert scores[2500] == 1.0
    assert np.all(scores[2501:2601] == 0.0)  # the hold-off silences the -15 ten samples later
    assert scores[2700] == 1.0  # after it, a new break rings again
    assert (scores[500:2500] >= 0.5).mean() < 0.01


def test_anomaly_likelihood_post_processes_another_detectors_scores() -> None:
    rng = np.random.default_rng(11)
    x = rng.normal(size=4000)
    x[3500:] += 3.0  # a lasting shift: the EWMA scores rise, then the EWMA adapts
    raw, _ = ml.EwmaZScore().score(x)
    lik = ml.AnomalyLikelihood()
    scores, _ = lik.score(raw)
    assert lik.fitted
    assert (scores[1000:3500] >= 0.5).mean() < 0.005
    assert scores[3500:3520].max() >= 0.5


def test_neighbour_rarity_counts_the_window() -> None:
    det = ml.NeighbourRarity(window=4, radius=0.25, rare_fraction=0.5)
    det.score(np.array([0.0, 4.0, 0.5, 0.25]))
    assert det.neighbours(0.0) == 3  # 0, 0.5 and 0.25 lie within 0.25 * range 4 of 0
    scores, _ = det.score(np.array([2.0]))
    assert scores[0] == 1.0  # nothing within 1 of 2


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: ml.NeighbourRarity(window=0), "window"),
        (lambda: ml.NeighbourRarity(radius=0), "radius"),
        (lambda: ml.AnomalyLikelihood(history=1), "history"),
        (lambda: ml.AnomalyLikelihood(variance_floor=0), "variance_floor"),
        (lambda: ml.LikelihoodAlarm(base="nope"), "base"),
        (lambda: ml.LikelihoodAlarm(holdoff=-1), "holdoff"),
        (lambda: ml.LikelihoodAlarm(range_tolerance=-1), "range_tolerance"),
    ],
)
def test_bad_alarm_options_name_the_parameter(make, name: str) -> None:
    with pytest.raises(ValueError, match=f"^{name}:"):
        make()


# --- StuckSensor and DriftCusum: the fleet's stuck and drift faults -------------------------

PERIOD = 288  # a short "day" keeps these tests fast; the runtime uses 8640


def seasonal(n: int, seed: int, *, amplitude: float = 10.0, floor: float | None = None) -> np.ndarray:
    """A daily cycle of ``amplitude`` noise sds plus unit white noise, optionally clamped below."""
    t = np.arange(n)
    x = 50.0 + amplitude * np.cos(2 * np.pi * t / PERIOD) + np.random.default_rng(seed).normal(size=n)
    return x if floor is None else np.maximum(x, floor)


def test_stuck_sensor_finds_a_repeated_value_within_a_few_samples_and_nothing_else() -> None:
    x = seasonal(6 * PERIOD, seed=1)
    x[1000:1040] = x[1000]  # stuck for 40 samples at a normal value
    scores, confidence = ml.StuckSensor().score(x)
    flagged = np.flatnonzero(scores > 0.5)
    assert flagged.size > 0 and flagged.min() <= 1004 and flagged.max() == 1039  # every repeat after the 4th
    assert set(flagged) == set(range(flagged.min(), 1040))
    assert np.all(np.diff(confidence[flagged]) > 0) and confidence[1039] > 0.7  # grows along the run


def test_stuck_sensor_does_not_flag_a_sensor_sitting_at_its_range_end() -> None:
    # Clamped at 45 for hours each "night": runs of equal readings that are normal for it.
    x = seasonal(8 * PERIOD, seed=2, floor=45.0)
    assert np.sum(x == 45.0) > PERIOD
    scores, _ = ml.StuckSensor().score(x)
    assert not np.any(scores > 0.5)


def test_stuck_sensor_asks_a_quantised_sensor_for_a_longer_run() -> None:
    x = np.round(seasonal(8 * PERIOD, seed=3) * 2.0) / 2.0  # 0.5 steps: ~20 % of pairs repeat
    clean, _ = ml.StuckSensor().score(x)
    x[2000:2060] = x[2000]
    stuck, _ = ml.StuckSensor().score(x)
    assert np.sum(clean > 0.5) == 0  # bound: no flag on the clean quantised series
    first = int(np.flatnonzero(stuck > 0.5)[0])
    assert 2005 < first < 2030  # needs more repeats than a continuous sensor, then finds it


def test_drift_cusum_finds_a_drift_and_stops_after_it_recovers() -> None:
    x = seasonal(8 * PERIOD, seed=4)
    start, length = 6 * PERIOD + 50, 120
    x[start : start + length] += np.linspace(0.0, 8.0, length)  # 0 -> 8 sd, as the fleet's drift
    scores, confidence = ml.DriftCusum(period=PERIOD).score(x)
    flagged = np.flatnonzero(scores > 0.5)
    assert flagged.size > 0 and start < flagged.min() < start + length // 2
    assert np.sum(scores[start : start + length] > 0.5) > length // 3
    assert flagged.max() < start + length + 3  # the chart restarts at recovery
    assert np.all(np.isnan(scores[: 2 * PERIOD + 15])) and np.all(confidence[: 2 * PERIOD + 15] == 0)


@pytest.mark.parametrize("seed", range(5))
def test_drift_cusum_stays_quiet_on_the_daily_cycle_and_on_earlier_days_faults(seed: int) -> None:
    x = seasonal(10 * PERIOD, seed=10 + seed, amplitude=20.0)  # cycle slope up to 0.4 sd a sample
    x[3 * PERIOD + 100 : 3 * PERIOD + 220] += np.linspace(0.0, 10.0, 120)  # day 3's drift ...
    x[4 * PERIOD + 10 : 4 * PERIOD + 16] += 12.0  # ... and day 4's spike come back 1 and 2 days on
    scores, _ = ml.DriftCusum(period=PERIOD).score(x)
    later = scores[5 * PERIOD :]
    assert np.isfinite(later).all() and np.sum(later > 0.5) == 0  # bound: no flag in 5 clean "days"


@pytest.mark.parametrize("make", [ml.StuckSensor, lambda: ml.DriftCusum(period=PERIOD)])
def test_stuck_and_drift_chunks_give_the_batch_scores_and_skip_nan(make) -> None:
    x = seasonal(5 * PERIOD, seed=5)
    x[700:760] = x[700]
    x[1100:1200] += np.linspace(0.0, 9.0, 100)
    x[[5, 300, 301, 900, 1150]] = [np.nan, np.inf, -np.inf, np.nan, np.nan]
    whole = make()
    s_all, c_all = whole.score(x)
    parts = make()
    pieces = [
        parts.score(x[a:b]) for a, b in itertools.pairwise([0, 1, 17, 300, 333, 900, 1111, 1200, x.size])
    ]
    np.testing.assert_array_equal(np.concatenate([p[0] for p in pieces]), s_all)
    np.testing.assert_array_equal(np.concatenate([p[1] for p in pieces]), c_all)
    assert whole.stats == parts.stats and whole.stats["invalid"] == 5 and whole.stats["seen"] == x.size
    bad = ~np.isfinite(x)
    assert np.all(np.isnan(s_all[bad])) and np.all(c_all[bad] == 0)
    assert np.any(s_all > 0.5)
    whole.reset()
    again, _ = whole.score(x)
    np.testing.assert_array_equal(again, s_all)


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: ml.StuckSensor(decades=0), "decades"),
        (lambda: ml.StuckSensor(tolerance=-1e-3), "tolerance"),
        (lambda: ml.DriftCusum(period=0), "period"),
        (lambda: ml.DriftCusum(period=10, half_window=10), "half_window"),
        (lambda: ml.DriftCusum(h=0.0), "h"),
        (lambda: ml.DriftCusum(k=float("nan")), "k"),
    ],
)
def test_bad_stuck_and_drift_options_name_the_parameter(make, name: str) -> None:
    with pytest.raises(ValueError, match=f"^{name}: "):
        make()
