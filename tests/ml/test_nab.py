"""NAB scorer: synthetic checks of the window/sigmoid rules and the reproduction of the published scores."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from edgeswarm.ml import nab

STANDARD = nab.Profile("standard", 1.0, 0.11, 1.0)


def _data_dir() -> Path:
    """``$EDGESWARM_DATA/nab``, else the first ``shared/data/nab`` beside the repo or an ancestor of it."""
    env = os.environ.get("EDGESWARM_DATA")
    if env:
        return Path(env) / "nab"
    repo = Path(__file__).resolve().parents[1]
    candidates = [parent / "shared" / "data" / "nab" for parent in repo.parents]
    return next((c for c in candidates if c.is_dir()), candidates[0])


# One file of 100 rows: probation is rows 0..14; one window on rows 40..49 (10 rows).
SYNTH = {"cat/a.csv": nab.CorpusFile("cat/a.csv", 100, ((40, 49),))}


def _raw(detect_rows: list[int], profile: str = "standard") -> nab.ThresholdScore:
    scores = np.zeros(100)
    scores[detect_rows] = 1.0
    return nab.score_at_threshold({"cat/a.csv": scores}, 0.5, corpus=SYNTH, profile=profile)


def test_probationary_length_is_fifteen_percent_capped_at_750():
    assert nab.probationary_length(100) == 15
    assert nab.probationary_length(4032) == 604
    assert nab.probationary_length(22695) == 750


def test_scaled_sigmoid_shape():
    assert nab.scaled_sigmoid(0.0) == pytest.approx(0.0)
    assert nab.scaled_sigmoid(-1.0) == pytest.approx(2 / (1 + np.exp(-5)) - 1)
    assert nab.scaled_sigmoid(3.5) == -1.0
    assert nab.scaled_sigmoid(1.0) < -0.98


def test_miss_costs_fn_weight():
    r = _raw([])
    assert r.raw == pytest.approx(-1.0)
    assert (r.tp, r.fn, r.fp) == (0, 1, 0)
    assert _raw([], "reward_low_FN_rate").raw == pytest.approx(-2.0)


def test_detection_at_left_edge_earns_tp_weight():
    r = _raw([40])
    assert r.raw == pytest.approx(1.0)
    assert (r.tp, r.fn) == (1, 0)


def test_late_detection_earns_less_and_only_the_earliest_counts():
    late = _raw([48]).raw
    assert 0.0 < late < 0.5
    assert _raw([40, 48]).raw == pytest.approx(1.0)
    assert _raw([45]).raw < _raw([42]).raw < 1.0


def test_false_positive_costs_fp_weight():
    assert _raw([20]).raw == pytest.approx(-1.0 - 0.11)
    assert _raw([20], "reward_low_FP_rate").raw == pytest.approx(-1.0 - 0.22)
    r = _raw([20, 30])
    assert r.fp == 2
    assert r.raw == pytest.approx(-1.0 - 0.22)


def test_false_positive_just_after_a_window_costs_less():
    just_after = _raw([40, 50]).raw - 1.0
    far_after = _raw([40, 95]).raw - 1.0
    assert -0.11 < just_after < 0.0
    assert far_after == pytest.approx(-0.11, abs=1e-3)


def test_probationary_rows_are_ignored():
    r = _raw([0, 5, 14])
    assert r.raw == pytest.approx(-1.0)
    assert r.fp == 0
    assert _raw([15]).fp == 1


def test_optimised_threshold_picks_the_best_and_matches_score_at_threshold():
    scores = np.zeros(100)
    scores[41] = 0.9  # an early detection
    scores[20] = 0.8  # a false positive below it
    best = nab.optimize_threshold({"cat/a.csv": scores}, corpus=SYNTH)
    assert best.threshold == 0.9
    at = nab.score_at_threshold({"cat/a.csv": scores}, 0.9, corpus=SYNTH)
    assert best.raw == pytest.approx(at.raw)
    out = nab.score_detector({"cat/a.csv": scores}, corpus=SYNTH)
    assert 0.0 < out["score"] < 100.0
    assert out["score"] == pytest.approx(nab.normalise(at.raw, n_windows=1, profile=STANDARD))


def test_never_firing_scores_zero_and_perfect_scores_hundred():
    assert nab.score_detector({"cat/a.csv": np.zeros(100)}, corpus=SYNTH)["score"] == pytest.approx(0.0)
    perfect = np.zeros(100)
    perfect[40] = 1.0
    assert nab.score_detector({"cat/a.csv": perfect}, corpus=SYNTH)["score"] == pytest.approx(100.0)


def test_sweep_agrees_with_direct_scoring_on_random_scores():
    corpus = {
        "c/x.csv": nab.CorpusFile("c/x.csv", 300, ((60, 80), (150, 151), (200, 240))),
        "c/y.csv": nab.CorpusFile("c/y.csv", 200, ()),
    }
    rng = np.random.default_rng(7)
    for profile in nab.PROFILES:
        scores = {"c/x.csv": rng.integers(0, 20, 300) / 20.0, "c/y.csv": rng.integers(0, 20, 200) / 20.0}
        best = nab.optimize_threshold(scores, corpus=corpus, profile=profile)
        direct = max(
            nab.score_at_threshold(scores, t, corpus=corpus, profile=profile).raw
            for t in np.unique(np.r_[scores["c/x.csv"], scores["c/y.csv"], 2.0])
        )
        assert best.raw == pytest.approx(direct)


def test_bad_input_names_the_parameter():
    with pytest.raises(ValueError, match=r"^scores_by_file"):
        nab.score_at_threshold({}, 0.5, corpus=SYNTH)
    with pytest.raises(ValueError, match=r"^scores_by_file\['cat/a.csv'\]: shape"):
        nab.score_at_threshold({"cat/a.csv": np.zeros(99)}, 0.5, corpus=SYNTH)
    with pytest.raises(ValueError, match=r"^scores_by_file\['cat/a.csv'\]: contains NaN"):
        nab.score_at_threshold({"cat/a.csv": np.full(100, np.nan)}, 0.5, corpus=SYNTH)
    with pytest.raises(ValueError, match=r"^profile"):
        nab.optimize_threshold({"cat/a.csv": np.zeros(100)}, corpus=SYNTH, profile="lenient")
    with pytest.raises(ValueError, match=r"^threshold"):
        nab.score_detector({"cat/a.csv": np.zeros(100)}, corpus=SYNTH, threshold=float("nan"))
    with pytest.raises(ValueError, match=r"^data_dir"):
        nab.load_corpus("/nonexistent/nab")


@pytest.fixture(scope="module")
def nab_dir() -> Path:
    path = _data_dir()
    if not (path / "reference_results" / "final_results.json").is_file():
        pytest.skip(f"NAB data not found at {path} (set EDGESWARM_DATA to the folder holding nab/)")
    return path


def _reference_scores(nab_dir: Path, detector: str) -> dict[str, np.ndarray]:
    scores = {}
    for name in nab.load_corpus(nab_dir):
        category, file = name.split("/")
        path = nab_dir / "reference_results" / detector / category / f"{detector}_{file}"
        scores[name] = pd.read_csv(path, usecols=["anomaly_score"])["anomaly_score"].to_numpy()
    return scores


@pytest.mark.parametrize("detector", ["windowedGaussian", "numenta"])
def test_reproduces_published_scores(nab_dir: Path, detector: str):
    corpus = nab.load_corpus(nab_dir)
    assert len(corpus) == 58
    assert sum(len(f.windows) for f in corpus.values()) == 116
    scores = _reference_scores(nab_dir, detector)
    published = json.loads((nab_dir / "reference_results" / "final_results.json").read_text())[detector]
    result = nab.evaluate(scores, data_dir=nab_dir)
    assert set(result) == set(nab.PROFILES)
    for profile, got in result.items():
        assert got["score"] == pytest.approx(published[profile], abs=0.1), profile
        assert got["tp"] + got["fn"] == 116


def test_frozen_threshold_reproduces_numenta_low_fp_exactly(nab_dir: Path):
    """The published numenta reward_low_FP_rate score sits at threshold 0.5753..., not at the corpus optimum.

    Our sweep finds a better threshold (0.5431, score 63.209 vs published 63.117); scored at the
    published threshold, the same rules give the published number to 1e-6, so the rules are right and
    only NAB's threshold choice differs.
    """
    scores = _reference_scores(nab_dir, "numenta")
    got = nab.score_detector(scores, data_dir=nab_dir, profile="reward_low_FP_rate", threshold=0.575335555563)
    assert got["score"] == pytest.approx(63.11684160219828, abs=1e-6)
    assert not got["optimised"]
    best = nab.score_detector(scores, data_dir=nab_dir, profile="reward_low_FP_rate")
    assert best["score"] >= got["score"]
