"""Predictive maintenance: NASA score and feature checks on hand-made numbers, and the FD001 evaluation."""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from edgeswarm import maintenance as mt


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
        (lambda r: mt.nasa_score([1.0, 2.0], [1.0]), "predicted"),
        (lambda r: mt.health_index([1.0], cap=0), "cap"),
        (lambda r: mt.recommendations(["a"], [1.0, 2.0]), "rul"),
        (lambda r: mt.recommendations(["a"], [1.0], cycles_per_day=0.0), "cycles_per_day"),
        (lambda r: mt.evaluate_cmapss("/nonexistent", seeds=()), "seeds"),
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
