"""Predictive maintenance: NASA score and feature checks on hand-made numbers, and the FD001 evaluation."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from edgeswarm.ml import maintenance as mt


def _data_dir() -> Path:
    """``$EDGESWARM_DATA/cmapss``, else the first ``shared/data/cmapss`` beside the repo or an ancestor of it."""
    env = os.environ.get("EDGESWARM_DATA")
    if env:
        return Path(env) / "cmapss"
    repo = Path(__file__).resolve().parents[1]
    candidates = [parent / "shared" / "data" / "cmapss" for parent in repo.parents]
    return next((c for c in candidates if c.is_dir()), candidates[0])


DATA = _data_dir()
FILES = ("train_FD001.txt", "test_FD001.txt", "RUL_FD001.txt")
needs_data = pytest.mark.skipif(
    not all((DATA / f).is_file() for f in FILES),
    reason=f"C-MAPSS FD001 not found: expected {', '.join(FILES)} in {DATA} (set EDGESWARM_DATA)",
)


def _synthetic(n_units: int = 3, length: int = 40) -> np.ndarray:
    """Run-to-failure rows where sensor 2 rises linearly with wear and the others are constant."""
    rows = []
    for u in range(1, n_units + 1):
        n = length + 5 * u
        for c in range(1, n + 1):
            r = np.zeros(mt.N_COLUMNS)
            r[0], r[1] = u, c
            r[mt.FIRST_SENSOR + 1] = 100.0 + c - n  # reaches 100 at failure
            r[mt.FIRST_SENSOR + 3] = 7.0 + 0.5 * math.sin(c)
            rows.append(r)
    return np.array(rows)


# --- NumPy reference: the pure-NumPy implementation this module had before the C++ port ---------
# Kept to show the C++ path computes the same model. Features use the same prefix sums in the same
# order, so they match bit for bit; the random projection and offsets are the same RNG streams (exact).
# Column mean/std (NumPy's reduction order), the Gram matrix and z @ P (BLAS vs Eigen summation
# order) and the solve (LAPACK LU vs Eigen LDLT) round differently, so fitted weights and
# predictions agree to a relative tolerance, not bit for bit.


def _reference_engine_features(x: np.ndarray, window: int) -> np.ndarray:
    n = len(x)
    t = np.arange(n, dtype=np.float64)
    zero = np.zeros((1, x.shape[1]))
    cx = np.vstack([zero, np.cumsum(x, axis=0)])
    ctx = np.vstack([zero, np.cumsum(t[:, None] * x, axis=0)])
    ct = np.concatenate([[0.0], np.cumsum(t)])
    ctt = np.concatenate([[0.0], np.cumsum(t * t)])
    hi = np.arange(1, n + 1)
    lo = np.maximum(hi - window, 0)
    length = (hi - lo).astype(np.float64)
    st = ct[hi] - ct[lo]
    mean = (cx[hi] - cx[lo]) / length[:, None]
    var_t = ctt[hi] - ctt[lo] - st * st / length
    denom = np.where(var_t > 0, var_t, 1.0)
    slope = (ctx[hi] - ctx[lo] - st[:, None] * mean) / denom[:, None]
    slope[var_t <= 0] = 0.0
    return np.hstack([x, mean, slope, (t + 1)[:, None] / mt.AGE_SCALE])


def _reference_design(ref: dict, raw: np.ndarray) -> np.ndarray:
    z = (raw - ref["mean"]) / ref["std"]
    if ref["projection"].size:
        z = np.hstack([np.maximum(z @ ref["projection"] + ref["offset"], 0.0), z])
    return np.hstack([z, np.ones((len(z), 1))])


def _reference_fit(
    train: np.ndarray, *, model: str, seed: int, window: int, n_features: int, alpha: float
) -> dict:
    columns = mt.informative_columns(train)
    raw = np.vstack([_reference_engine_features(u[:, columns], window) for u in mt._units(train)])
    y = mt.rul_targets(train)
    mean, std = raw.mean(axis=0), raw.std(axis=0)
    std[std == 0] = 1.0
    d = raw.shape[1]
    if model == "random_features":
        projection = mt._core.rng_normal(seed, 0, d * n_features).reshape(d, n_features) / np.sqrt(d)
        offset = 2.0 * mt._core.rng_uniform(seed, 1, n_features) - 1.0
    else:
        projection, offset = np.zeros((0, 0)), np.zeros(0)
    ref = {
        "columns": columns,
        "window": window,
        "mean": mean,
        "std": std,
        "projection": projection,
        "offset": offset,
    }
    a = _reference_design(ref, raw)
    penalty = alpha * np.eye(a.shape[1])
    penalty[-1, -1] = 0.0
    ref["weights"] = np.linalg.solve(a.T @ a + penalty, a.T @ y)
    return ref


def _reference_predict(ref: dict, rows: np.ndarray) -> np.ndarray:
    last = np.array(
        [_reference_engine_features(u[:, ref["columns"]], ref["window"])[-1] for u in mt._units(rows)]
    )
    return np.clip(_reference_design(ref, last) @ ref["weights"], 0.0, float(mt.RUL_CAP))


def _noisy(n_units: int = 5, seed: int = 0) -> np.ndarray:
    """Run-to-failure rows with noisy wear trends in four sensors, engines and cycles shuffled."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(1, n_units + 1):
        n = int(rng.integers(60, 140))
        for c in range(1, n + 1):
            r = np.zeros(mt.N_COLUMNS)
            r[0], r[1] = u, c
            wear = c / n
            r[mt.FIRST_SENSOR : mt.FIRST_SENSOR + 4] = [640 + 5 * wear, 1590 - 20 * wear, 9.0 * wear, 47.0]
            r[mt.FIRST_SENSOR : mt.FIRST_SENSOR + 3] += rng.normal(0.0, 0.5, 3)
            rows.append(r)
    return np.array(rows)[rng.permutation(len(rows))]


@pytest.fixture(scope="module")
def result():
    if not all((DATA / f).is_file() for f in FILES):
        pytest.skip(f"C-MAPSS FD001 not found: expected {', '.join(FILES)} in {DATA} (set EDGESWARM_DATA)")
    return mt.evaluate_cmapss(DATA)


def test_nasa_score_on_hand_made_numbers():
    pred = np.array([10.0, 30.0, 20.0])
    true = np.array([23.0, 20.0, 20.0])  # d = -13 (early), +10 (late), 0
    assert mt.nasa_score(pred, true) == pytest.approx((math.e - 1) + (math.e - 1) + 0.0)
    # Late is punished more than early by the same amount.
    assert mt.nasa_score([30.0], [20.0]) > mt.nasa_score([10.0], [20.0])
    assert mt.rmse(pred, true) == pytest.approx(math.sqrt((169 + 100) / 3))


def test_window_slope_and_mean_are_exact_on_a_line():
    rows = _synthetic(1, 40)
    cols = mt.informative_columns(rows)
    assert list(cols) == [mt.FIRST_SENSOR + 1, mt.FIRST_SENSOR + 3]
    f = mt.features(rows, cols, 10)[0]
    n_s = len(cols)
    # Sensor rises by 1 per cycle: slope 1 once two cycles are in the window, 0 on the first.
    assert f[0, 2 * n_s] == 0.0
    np.testing.assert_allclose(f[1:, 2 * n_s], 1.0, rtol=0, atol=1e-9)
    # Mean over the last 10 cycles of a line is its value 4.5 cycles back.
    np.testing.assert_allclose(f[20, n_s], f[20, 0] - 4.5, atol=1e-9)
    np.testing.assert_allclose(f[:, -1], np.arange(1, len(f) + 1) / mt.AGE_SCALE)


def test_features_never_look_ahead():
    rows = _synthetic(1, 40)
    cols = mt.informative_columns(rows)
    full = mt.features(rows, cols, 8)[0]
    cut = mt.features(rows[:25], cols, 8)[0]
    np.testing.assert_array_equal(full[:25], cut)


def test_ridge_learns_synthetic_rul_and_health_index():
    rows = _synthetic(6, 60)
    model = mt.fit_maintenance(rows, model="ridge", window=5, alpha=1e-6)
    # Cut each engine 30 cycles before failure: true RUL 30, well under the cap.
    cut = np.vstack([u[:-30] for u in mt._units(rows)])
    pred = mt.predict_rul(model, cut)
    np.testing.assert_allclose(pred, 30.0, atol=1.0)
    h = mt.health_index(np.array([0.0, 62.5, 125.0, 500.0]))
    np.testing.assert_allclose(h, [0.0, 0.5, 1.0, 1.0])


def test_recommendations_most_urgent_first_with_day_conversion():
    recs = mt.recommendations(["a", "b", "c"], np.array([40.0, 9.9, 125.0]), cycles_per_day=2.0)
    assert recs == [
        "service device b within 4 days",
        "service device a within 20 days",
        "service device c within 62 days",
    ]
    assert mt.recommendations(["a", "b"], [40.0, 9.9], horizon_days=10) == ["service device b within 9 days"]
    assert mt.recommendations([7], [1.5]) == ["service device 7 within 1 day"]


def test_random_features_are_deterministic_per_seed():
    rows = _synthetic(4, 40)
    a = mt.fit_maintenance(rows, seed=3, n_features=20, window=5)
    b = mt.fit_maintenance(rows, seed=3, n_features=20, window=5)
    c = mt.fit_maintenance(rows, seed=4, n_features=20, window=5)
    assert a.digest() == b.digest()
    assert a.digest() != c.digest()
    np.testing.assert_array_equal(mt.predict_rul(a, rows), mt.predict_rul(b, rows))


def test_cpp_features_match_the_numpy_reference_bit_for_bit():
    rows = _noisy(5, seed=1)
    cols = mt.informative_columns(rows)
    for window in (2, 7, 30, 500):
        got = mt.features(rows, cols, window)
        want = [_reference_engine_features(u[:, cols], window) for u in mt._units(rows)]
        assert len(got) == len(want) == 5
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("model", mt.MODELS)
def test_cpp_fit_and_prediction_match_the_numpy_reference(model):
    train, test = _noisy(8, seed=2), _noisy(6, seed=3)
    options = {"seed": 5, "window": 12, "n_features": 40, "alpha": 2.0}
    got = mt.fit_maintenance(train, model=model, **options)
    want = _reference_fit(train, model=model, **options)
    np.testing.assert_array_equal(got.projection, want["projection"])  # same RNG streams, same arithmetic
    np.testing.assert_array_equal(got.offset, want["offset"])
    np.testing.assert_allclose(got.mean, want["mean"], rtol=1e-13, atol=0)  # reduction order only
    np.testing.assert_allclose(got.std, want["std"], rtol=1e-12, atol=0)
    np.testing.assert_allclose(
        got.weights, want["weights"], rtol=1e-7, atol=1e-9 * np.abs(want["weights"]).max()
    )
    np.testing.assert_allclose(
        mt.predict_rul(got, test), _reference_predict(want, test), rtol=1e-9, atol=1e-9
    )


def test_prediction_of_an_engine_does_not_depend_on_the_batch():
    train, test = _noisy(6, seed=4), _noisy(5, seed=5)
    model = mt.fit_maintenance(train, seed=1, window=10, n_features=300)
    full = mt.predict_rul(model, test)
    for unit in (1, 3, 5):
        alone = mt.predict_rul(model, test[test[:, 0] == unit])
        np.testing.assert_array_equal(alone, full[unit - 1 : unit])


def test_non_finite_cycles_are_counted_and_skipped_not_averaged():
    rows = _synthetic(3, 40)
    cols = mt.informative_columns(rows)
    clean = mt.features(rows, cols, 6)
    dirty = rows.copy()
    first = mt._units(rows)[0]
    bad = np.flatnonzero((rows[:, 0] == 1) & np.isin(rows[:, 1], [10, 11]))  # cycles 10 and 11 of engine 1
    dirty[bad[0], cols[0]] = np.nan
    dirty[bad[1], cols[1]] = np.inf
    dirty[:, mt.FIRST_SENSOR + 10] = np.nan  # a column the model does not read: nothing is skipped for it
    got = mt.features(dirty, cols, 6)
    assert [len(g) for g in got] == [len(first) - 2] + [len(c) for c in clean[1:]]
    assert np.all(np.isfinite(got[0]))
    np.testing.assert_array_equal(got[0][:9], clean[0][:9])  # before the gap: unchanged
    np.testing.assert_array_equal(got[1], clean[1])  # other engines: unchanged
    # Cycle 12's 6-cycle window is cycles 7..12 without 10 and 11: the mean of the 4 finite ones.
    x = first[:, cols[0]]
    np.testing.assert_allclose(got[0][9, len(cols)], x[[6, 7, 8, 11]].mean(), rtol=1e-15)
    assert got[0][9, -1] == 12 / mt.AGE_SCALE  # age counts the skipped cycles
    model = mt.fit_maintenance(dirty, model="ridge", window=6)
    assert model.skipped_cycles == 2 and mt.skipped_cycles(model, dirty) == 2
    assert np.all(np.isfinite(mt.predict_rul(model, dirty)))
    dead = dirty.copy()
    dead[dead[:, 0] == 2, cols[0]] = np.nan
    with pytest.raises(ValueError, match="^rows: engine 1 .* no cycle with finite readings"):
        mt.predict_rul(model, dead)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda r: mt.fit_maintenance(r, model="forest"), "model"),
        (lambda r: mt.fit_maintenance(r, window=1), "window"),
        (lambda r: mt.fit_maintenance(r, seed=-1), "seed"),
        (lambda r: mt.fit_maintenance(r, n_features=0), "n_features"),
        (lambda r: mt.fit_maintenance(r, alpha=-1.0), "alpha"),
        (lambda r: mt.fit_maintenance(r[:, :5]), "train"),
        (lambda r: mt.fit_maintenance(np.where(r == 7.0, np.nan, r) + np.nan), "train"),
        (lambda _r: mt.nasa_score([1.0, 2.0], [1.0]), "predicted"),
        (lambda _r: mt.health_index([1.0], cap=0), "cap"),
        (lambda _r: mt.recommendations(["a"], [1.0, 2.0]), "rul"),
        (lambda _r: mt.recommendations(["a"], [1.0], cycles_per_day=0.0), "cycles_per_day"),
        (lambda _r: mt.evaluate_cmapss("/nonexistent", seeds=()), "seeds"),
        (lambda r: mt.features(r, mt.informative_columns(r), 1), "window"),
        (lambda r: mt.predict_rul(mt.fit_maintenance(r, model="ridge"), r[:, :7]), "rows"),
        (lambda r: mt._core.rul_window_features(r[:, 5:], np.array([0, 3]), 5), "starts"),
        (lambda r: mt._core.rul_window_features(r[:, 5], np.array([0, len(r)]), 5), "x"),
    ],
)
def test_bad_input_names_the_parameter(call, name):
    with pytest.raises(ValueError, match=f"^{name}:"):
        call(_synthetic(2, 20))


def test_missing_data_dir_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="data_dir: missing .*train_FD001.txt"):
        mt.evaluate_cmapss(tmp_path)


@needs_data
def test_fd001_reaches_target(result):
    # Measured: random features 14.0 ± 0.5 RMSE over seeds 0-4; ridge baseline about 19.6.
    assert result["rmse"] <= 15.0
    assert result["rmse_std"] < 1.5
    assert result["nasa"] < 450.0
    assert len(result["per_seed"]) == 5
    assert result["n_test_engines"] == 100
    assert result["baseline_ridge"]["rmse"] <= 21.0
    assert result["rmse"] < result["baseline_ridge"]["rmse"]
    h = np.array(result["health_index"])
    assert h.shape == (100,) and h.min() >= 0.0 and h.max() <= 1.0
    np.testing.assert_allclose(h * mt.RUL_CAP, result["predicted_rul"])
    # Healthier engines (by prediction) truly have more life left.
    assert np.corrcoef(h, result["true_rul"])[0, 1] > 0.8


@needs_data
@pytest.mark.parametrize("model", mt.MODELS)
def test_fd001_cpp_matches_the_numpy_reference(model):
    data = mt.load_fd001(DATA)
    got = mt.fit_maintenance(data.train, model=model, seed=0)
    want = _reference_fit(data.train, model=model, seed=0, window=30, n_features=500, alpha=10.0)
    np.testing.assert_array_equal(got.projection, want["projection"])
    np.testing.assert_allclose(mt.predict_rul(got, data.test), _reference_predict(want, data.test), rtol=1e-9)


@needs_data
def test_fd001_fit_is_bit_identical_for_any_thread_count():
    code = (
        "import sys; from edgeswarm.ml import maintenance as mt; "
        "d = mt.load_fd001(sys.argv[1]); print(mt.fit_maintenance(d.train, seed=2).digest())"
    )
    digests = set()
    for threads in ("1", "2"):
        env = {**os.environ, "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads}
        out = subprocess.run(
            [sys.executable, "-c", code, str(DATA)], check=False, env=env, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        digests.add(out.stdout.strip())
    assert len(digests) == 1


@needs_data
def test_ridge_model_is_deterministic_with_zero_std():
    r = mt.evaluate_cmapss(DATA, model="ridge")
    assert r["rmse_std"] == 0.0
    assert r["rmse"] == r["baseline_ridge"]["rmse"]
    assert r == mt.evaluate_cmapss(DATA, model="ridge")


@needs_data
def test_training_never_reads_test_data(tmp_path, result):
    shutil.copy(DATA / "train_FD001.txt", tmp_path)
    shutil.copy(DATA / "RUL_FD001.txt", tmp_path)
    test = np.loadtxt(DATA / "test_FD001.txt")
    test[:, mt.FIRST_SENSOR :] *= 1.05  # a different test set, same engines
    np.savetxt(tmp_path / "test_FD001.txt", test, fmt="%.6g")
    altered = mt.evaluate_cmapss(tmp_path)
    assert altered["fit_digests"] == result["fit_digests"]
    assert altered["rmse"] != result["rmse"]


@needs_data
def test_bench_cmapss_command_prints_the_table_and_writes_json(tmp_path, capsys) -> None:
    from edgeswarm.cli import main

    out = tmp_path / "cmapss.json"
    assert main(["bench", "cmapss", "--data", str(DATA), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| model | RMSE | NASA score |" in printed and "ridge only" in printed
    result = json.loads(out.read_text())
    assert result["rmse"] <= 15.0 and len(result["per_seed"]) == 5
