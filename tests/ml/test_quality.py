"""Quality control: false-alarm rates, run lengths, Western Electric rules, capability, streaming, bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from edgeswarm.ml import quality

WE_ONLY = {"ewma": False, "cusum": False}


def fired_rules(z: list[float]) -> list[str]:
    """The ``rule`` column of a fresh chart (mean 0, sigma 1, Western Electric rules only) over z."""
    return quality.ControlChart(mean=0.0, sigma=1.0, **WE_ONLY).monitor(np.array(z))["rule"].tolist()


def test_in_control_rule1_rate_is_the_theoretical_0_27_percent() -> None:
    n = 1_000_000
    x = np.random.default_rng(1).normal(10.0, 2.0, size=n)
    chart = quality.ControlChart(mean=10.0, sigma=2.0, rules=(1,), ewma=False, cusum=False)
    frame = chart.monitor(x)
    p = math.erfc(3 / math.sqrt(2))  # P(|Z| > 3) = 0.0027
    rate = frame["defect"].mean()
    assert abs(rate - p) < 4 * math.sqrt(p * (1 - p) / n), rate
    # Beyond the limits columns and the rule agree.
    beyond = (frame["value"] > frame["ucl"]) | (frame["value"] < frame["lcl"])
    np.testing.assert_array_equal(beyond, frame["rule"] == "1")


def test_phase_one_estimate_then_few_violations_on_in_control_data() -> None:
    rng = np.random.default_rng(2)
    calibration = rng.normal(5.0, 0.3, size=500)
    chart = quality.ControlChart.calibrate(calibration, rules=(1,), ewma=False, cusum=False)
    assert abs(chart.mean - 5.0) < 0.05 and abs(chart.sigma - 0.3) < 0.03
    frame = chart.monitor(rng.normal(5.0, 0.3, size=20_000))
    # 0.27 % in theory; estimated limits from 500 samples move it a little.
    assert frame["defect"].mean() < 0.006


def _average_run_length(shift: float, runs: int, **options: object) -> float:
    """Zero-state ARL of a chart on N(shift, 1) data: samples until the first signal, averaged."""
    rng = np.random.default_rng(3)
    chart = quality.ControlChart(mean=0.0, sigma=1.0, **options)
    lengths = []
    for _ in range(runs):
        chart.reset()
        signalled = np.flatnonzero(chart.update(rng.normal(shift, 1.0, size=2000))["defect"])
        assert len(signalled), "no signal in 2000 samples"
        lengths.append(signalled[0] + 1)
    return float(np.mean(lengths))


def test_cusum_and_ewma_catch_a_one_sigma_shift_sooner_than_shewhart() -> None:
    runs = 400
    shewhart = _average_run_length(1.0, runs, rules=(1,), ewma=False, cusum=False)
    cusum = _average_run_length(1.0, runs, rules=(), ewma=False, cusum=True)
    ewma = _average_run_length(1.0, runs, rules=(), ewma=True, cusum=False)
    # Theory: Shewhart 1 / (P(Z > 2) + P(Z < -4)) = 43.9; CUSUM (k 0.5, h 5) 10.4; EWMA (0.2, 3) ~ 10.
    assert abs(shewhart - 43.9) < 9.0, shewhart  # standard error ~2.2
    assert abs(cusum - 10.4) < 1.5, cusum
    assert cusum < shewhart / 3 and ewma < shewhart / 3, (shewhart, cusum, ewma)


def test_rule1_one_point_beyond_three_sigma() -> None:
    assert fired_rules([0.0, 3.5, -3.2]) == ["", "1", "1"]
    # At the limit is not beyond (zeros in between keep rule 2 out of it).
    assert fired_rules([3.0, 0.0, 0.0, -3.0, 0.0, 0.0, 2.99]) == [""] * 7


def test_rule2_two_of_three_beyond_two_sigma_same_side() -> None:
    assert fired_rules([2.5, 0.0, 2.5]) == ["", "", "2"]
    assert fired_rules([2.5, 0.0, 0.0, 2.5]) == ["", "", "", ""]  # four apart
    assert fired_rules([2.5, -2.5, 0.0]) == ["", "", ""]  # opposite sides


def test_rule3_four_of_five_beyond_one_sigma_same_side() -> None:
    assert fired_rules([1.5, 1.5, 0.0, 1.5, 1.5]) == ["", "", "", "", "3"]
    assert fired_rules([1.5, 1.5, 0.0, 0.0, 1.5, 1.5]) == [""] * 6  # four of six
    assert fired_rules([1.5, 1.5, 0.9, 1.5]) == [""] * 4  # three of four


def test_rule4_eight_in_a_row_on_one_side() -> None:
    assert fired_rules([-0.4] * 8) == [""] * 7 + ["4"]
    assert fired_rules([0.4] * 7 + [-0.4]) == [""] * 8  # seven, then the other side
    assert fired_rules([0.4] * 4 + [0.0] + [0.4] * 4) == [""] * 9  # a point on the center line


def test_several_rules_and_the_violations_table() -> None:
    chart = quality.ControlChart(mean=0.0, sigma=1.0, **WE_ONLY)
    frame = chart.monitor(np.array([2.5, 2.5, 2.5, 3.5]))
    assert frame["rule"].tolist() == ["", "2", "2", "1,2,3"]
    table = quality.violations(frame)
    assert table.to_dict("list") == {
        "sample": [1, 2, 3, 3, 3],
        "signal": ["rule2", "rule2", "rule1", "rule2", "rule3"],
    }
    assert chart.stats == {
        "seen": 4,
        "invalid": 0,
        "defects": 3,
        "rule1": 1,
        "rule2": 3,
        "rule3": 1,
        "rule4": 0,
        "ewma": 0,
        "cusum": 0,
    }


def _reference(x: np.ndarray, mean: float, sigma: float, lam: float, width: float, k: float) -> dict:
    """NumPy/Python twin of the EWMA and CUSUM recurrences (same operations, same order)."""
    e, decay2, up, lo = mean, 1.0, 0.0, 0.0
    out = {name: [] for name in ("ewma", "ewma_ucl", "cusum_upper", "cusum_lower")}
    for v in x:
        z = (v - mean) / sigma
        e = lam * v + (1.0 - lam) * e
        decay2 *= (1.0 - lam) * (1.0 - lam)
        out["ewma"].append(e)
        out["ewma_ucl"].append(mean + width * sigma * math.sqrt(lam / (2.0 - lam) * (1.0 - decay2)))
        up = max(0.0, up + z - k)
        lo = max(0.0, lo - z - k)
        out["cusum_upper"].append(up)
        out["cusum_lower"].append(lo)
    return {name: np.array(v) for name, v in out.items()}


def test_ewma_and_cusum_match_a_python_reference_exactly() -> None:
    x = np.random.default_rng(4).normal(1.0, 0.5, size=3000)
    x[2000:] += 0.4
    chart = quality.ControlChart(
        mean=1.0, sigma=0.5, ewma_lambda=0.1, ewma_width=2.7, cusum_k=0.25, cusum_h=4.0
    )
    got = chart.update(x)
    want = _reference(x, 1.0, 0.5, 0.1, 2.7, 0.25)
    for name, values in want.items():
        np.testing.assert_array_equal(got[name], values, err_msg=name)
    ewma_out = (got["ewma"] > got["ewma_ucl"]) | (got["ewma"] < got["ewma_lcl"])
    np.testing.assert_array_equal((got["signals"] & 16) != 0, ewma_out)
    cusum_out = (want["cusum_upper"] > 4.0) | (want["cusum_lower"] > 4.0)
    np.testing.assert_array_equal((got["signals"] & 32) != 0, cusum_out)
    # The exact limits widen with t towards the asymptotic mean ± L sigma sqrt(lambda / (2 - lambda)).
    assert np.all(np.diff(got["ewma_ucl"]) >= 0)
    assert got["ewma_ucl"][-1] == pytest.approx(1.0 + 2.7 * 0.5 * math.sqrt(0.1 / 1.9), rel=1e-12)


def test_confidence_definition() -> None:
    chart = quality.ControlChart(mean=0.0, sigma=1.0, **WE_ONLY)
    frame = chart.monitor(np.array([0.0, 6.0, 0.0, 0.0, 0.0, 2.5, 2.5]))
    # Rule 1 at 6 sigma: r = 2, q = 4 / 5; a pattern rule alone (rule 2) counts 0.5; no signal: 0.
    assert frame["rule"].tolist() == ["", "1", "", "", "", "", "2"]
    np.testing.assert_allclose(frame["confidence"], [0.0, 0.8, 0.0, 0.0, 0.0, 0.0, 0.5], rtol=1e-15)
    # Two charts just past their limits agree: more confidence than either alone.
    both = quality.ControlChart(
        mean=0.0, sigma=1.0, rules=(1,), ewma=False, cusum=True, cusum_k=0.0, cusum_h=3.0
    )
    row = both.monitor(np.array([3.0 + 1e-9]))
    assert row["rule"][0] == "1" and bool(row["cusum_signal"][0])
    assert row["confidence"][0] == pytest.approx(0.75, abs=1e-8)


def test_defect_confidence_is_zero_without_a_signal_and_in_range() -> None:
    x = np.random.default_rng(5).normal(size=5000)
    x[3000:] += 1.5
    frame = quality.ControlChart(mean=0.0, sigma=1.0).monitor(x)
    assert ((frame["confidence"] > 0) == frame["defect"]).all()
    assert frame.loc[frame["defect"], "confidence"].min() >= 0.5
    assert frame["confidence"].max() < 1.0
    assert frame["defect"][3000:].mean() > 0.9
    assert frame["defect"][:3000].mean() < 0.1


def test_chunks_give_the_result_of_one_batch_bit_for_bit() -> None:
    x = np.random.default_rng(6).normal(size=4000)
    x[2500:] += 1.0
    x[[10, 1234, 3999]] = [np.nan, np.inf, -np.inf]
    whole = quality.ControlChart(mean=0.0, sigma=1.0)
    all_at_once = whole.monitor(x)
    chunked = quality.ControlChart(mean=0.0, sigma=1.0)
    parts = pd.concat(
        [chunked.monitor(c) for c in np.array_split(x, [1, 2, 9, 500, 501, 2600])], ignore_index=True
    )
    pd.testing.assert_frame_equal(parts, all_at_once, check_exact=True)
    assert parts["sample"].tolist() == list(range(4000))
    assert whole.stats == chunked.stats
    assert whole.state == chunked.state
    assert all(whole.stats[name] > 0 for name in quality.SIGNALS)


def test_nan_and_infinity_are_counted_and_skipped() -> None:
    clean = np.random.default_rng(7).normal(size=1000) + 0.3
    dirty = np.insert(clean, [5, 400, 401], [np.nan, np.inf, -np.inf])
    a = quality.ControlChart(mean=0.0, sigma=1.0).monitor(clean)
    chart = quality.ControlChart(mean=0.0, sigma=1.0)
    b = chart.monitor(dirty)
    bad = ~np.isfinite(dirty)
    assert b.loc[bad, ["ewma", "cusum_upper"]].isna().all().all()
    assert not b.loc[bad, "defect"].any() and (b.loc[bad, "confidence"] == 0).all()
    kept = b[~bad].reset_index(drop=True)
    for column in ("ewma", "ewma_ucl", "cusum_upper", "cusum_lower", "signals", "confidence"):
        np.testing.assert_array_equal(kept[column], a[column], err_msg=column)
    assert chart.stats["invalid"] == 3 and chart.stats["seen"] == 1003
    est = quality.estimate(dirty)
    assert est.invalid == 3 and est.n == 1000
    assert est == quality.InControl(
        quality.estimate(clean).mean, quality.estimate(clean).sigma, 1000, 3, "moving_range"
    )


def test_estimate_by_hand() -> None:
    x = [1.0, 3.0, 2.0, np.nan, 6.0]
    mr = quality.estimate(x)
    assert mr.mean == 3.0
    assert mr.sigma == pytest.approx((2 + 1 + 4) / 3 / (2 / math.sqrt(math.pi)), rel=1e-15)
    sd = quality.estimate(x, method="std")
    assert sd.sigma == pytest.approx(math.sqrt(14 / 3), rel=1e-15)


def test_capability_against_hand_computed_values() -> None:
    # Given mean 10 and sigma 0.5, spec [8, 13]: Cp = 5/3, Cpu = 2, Cpl = 4/3, Cpk = 4/3.
    c = quality.capability(lsl=8.0, usl=13.0, mean=10.0, sigma=0.5)
    assert c["cp"] == pytest.approx(5 / 3) and c["cpk"] == pytest.approx(4 / 3)
    assert c["cpu"] == pytest.approx(2.0) and c["cpl"] == pytest.approx(4 / 3)
    assert c["pp"] is None and c["ppk"] is None
    # From data: within sigma from moving ranges, overall from the sample standard deviation.
    x = np.array([9.8, 10.4, 10.1, 9.6, 10.2, 10.0, 9.9])
    c = quality.capability(x, lsl=9.0, usl=11.5)
    mean = x.mean()
    within = np.abs(np.diff(x)).mean() / (2 / math.sqrt(math.pi))
    overall = x.std(ddof=1)
    assert c["cp"] == pytest.approx(2.5 / (6 * within), rel=1e-12)
    assert c["cpk"] == pytest.approx(min(11.5 - mean, mean - 9.0) / (3 * within), rel=1e-12)
    assert c["pp"] == pytest.approx(2.5 / (6 * overall), rel=1e-12)
    assert c["ppk"] == pytest.approx(min(11.5 - mean, mean - 9.0) / (3 * overall), rel=1e-12)
    assert c["n"] == 7 and c["invalid"] == 0


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"lsl": 2.0, "usl": 1.0}, "usl"),
        ({"lsl": 1.0, "usl": 1.0}, "usl"),
        ({"lsl": float("nan"), "usl": 1.0}, "lsl"),
        ({"lsl": 0.0, "usl": float("inf")}, "usl"),
    ],
)
def test_capability_bad_limits_name_the_parameter(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=f"^{name}:"):
        quality.capability(np.arange(10.0), **kwargs)
    with pytest.raises(ValueError, match=f"^{name}:"):
        quality.capability(mean=0.5, sigma=1.0, **kwargs)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: quality.ControlChart(mean=0.0, sigma=0.0), "sigma"),
        (lambda: quality.ControlChart(mean=float("nan"), sigma=1.0), "mean"),
        (lambda: quality.ControlChart(mean=0.0, sigma=1.0, ewma_lambda=0.0), "ewma_lambda"),
        (lambda: quality.ControlChart(mean=0.0, sigma=1.0, ewma_width=-1.0), "ewma_width"),
        (lambda: quality.ControlChart(mean=0.0, sigma=1.0, cusum_k=-1.0), "cusum_k"),
        (lambda: quality.ControlChart(mean=0.0, sigma=1.0, cusum_h=0.0), "cusum_h"),
        (lambda: quality.ControlChart(mean=0.0, sigma=1.0, rules=(5,)), "rules"),
        (lambda: quality.ControlChart(mean=0.0, sigma=1.0, rules=(), ewma=False, cusum=False), "rules"),
        (lambda: quality.ControlChart(mean=0.0, sigma=1.0, ewma=1), "ewma"),
        (lambda: quality.ControlChart(mean=0.0, sigma=1.0).monitor(np.zeros((3, 2))), "x"),
        (lambda: quality.ControlChart(mean=0.0, sigma=1.0).monitor(np.array(["a"])), "x"),
        (lambda: quality.estimate([1.0, np.nan]), "x"),
        (lambda: quality.estimate([2.0, 2.0, 2.0]), "x"),
        (lambda: quality.estimate([1.0, 2.0], method="range"), "method"),
        (lambda: quality.capability(lsl=0.0, usl=1.0), "x"),
        (lambda: quality.capability([1.0, 2.0], lsl=0.0, usl=3.0, mean=1.0), "mean"),
        (lambda: quality.capability(lsl=0.0, usl=1.0, mean=0.5, sigma=0.0), "sigma"),
        (lambda: quality.violations(pd.DataFrame({"x": [1]})), "frame"),
    ],
)
def test_bad_input_raises_a_value_error_naming_the_parameter(call, name: str) -> None:
    with pytest.raises(ValueError, match=f"^{name}:"):
        call()


def test_score_view_for_trackers() -> None:
    chart = quality.ControlChart(mean=0.0, sigma=1.0, **WE_ONLY)
    score, confidence = chart.score(np.array([0.0, np.nan, 4.0]))
    np.testing.assert_array_equal(score, [0.0, np.nan, 1.0])
    assert confidence[2] == pytest.approx(16 / 25)
