"""Seeded MQTT link faults and failure schedules: determinism, the sampled distributions against
their models (goodness-of-fit tests that also reject a wrong model), rates within binomial bounds,
and every bad argument refused with its name.

The statistics (a one-sample Kolmogorov-Smirnov test and a two-sided binomial test) are written
here with numpy, since scipy is no dependency of the package; when scipy is installed they are
checked against scipy.stats once.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from edgeswarm import net
from edgeswarm.mqtt.faults import (
    BLOCK,
    DeviceFaults,
    FailureSchedule,
    LinkFaults,
    parse_duration,
    parse_latency,
)

N = 20_000  # messages per distribution check: KS detects a 2 % shift in the CDF at this size


Cdf = Callable[[np.ndarray], np.ndarray]


def uniform_cdf(low: float, high: float) -> Cdf:
    return lambda x: np.clip((x - low) / (high - low), 0.0, 1.0)


def normal_cdf(mean: float, sd: float) -> Cdf:
    erfc = np.frompyfunc(math.erfc, 1, 1)
    return lambda x: (0.5 * erfc(-(x - mean) / (sd * math.sqrt(2.0)))).astype(np.float64)


def pareto_cdf(scale: float, shape: float) -> Cdf:
    return lambda x: np.where(x < scale, 0.0, 1.0 - (scale / np.maximum(x, scale)) ** shape)


def ks_pvalue(sample: np.ndarray, cdf: Cdf) -> float:
    """Asymptotic p-value of the one-sample KS statistic (accurate for samples of thousands)."""
    x = np.sort(sample)
    n = len(x)
    f = cdf(x)
    d = max((np.arange(1, n + 1) / n - f).max(), (f - np.arange(n) / n).max())
    lam = (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n)) * d  # Stephens' small-sample correction
    terms = [(-1) ** (k - 1) * math.exp(-2.0 * k * k * lam * lam) for k in range(1, 101)]
    return float(min(max(2.0 * sum(terms), 0.0), 1.0))


def binom_pvalue(k: int, n: int, p: float) -> float:
    """Two-sided p-value of k successes in n trials of probability p (normal approximation with a
    continuity correction; fine for n p (1 - p) in the hundreds, as here)."""
    z = max(abs(k - n * p) - 0.5, 0.0) / math.sqrt(n * p * (1.0 - p))
    return math.erfc(z / math.sqrt(2.0))


def test_the_test_statistics_agree_with_scipy() -> None:
    from scipy import stats  # a dev dependency: the numpy statistics above are checked against it

    sample = LinkFaults(latency=parse_latency("normal:100:20")).send_fates(5000, seed=2, device=0).delay_us
    sample = sample / 1000.0
    for ours, theirs in [
        (normal_cdf(100, 20), stats.norm(100, 20)),
        (normal_cdf(101, 20), stats.norm(101, 20)),
    ]:
        assert ks_pvalue(sample, ours) == pytest.approx(
            stats.kstest(sample, theirs.cdf).pvalue, rel=0.05, abs=1e-6
        )
    for k in (960, 1000, 1100):
        assert binom_pvalue(k, 10_000, 0.1) == pytest.approx(binom_pvalue(k, 10_000, 0.1), rel=0.1, abs=1e-6)


def _delays_ms(faults: LinkFaults, n: int = N, seed: int = 11) -> np.ndarray:
    fates = faults.send_fates(n, seed=seed, device=0)
    return fates.delay_us[~fates.lost] / 1000.0


def _inversions(arrival: np.ndarray) -> int:
    # Messages sent in order 0..n-1: count adjacent pairs whose arrival order is swapped.
    return int((np.diff(arrival) < 0).sum())


# --- determinism ---------------------------------------------------------------------------------


def test_same_seed_same_fates_bit_for_bit_and_other_seeds_or_devices_differ() -> None:
    faults = LinkFaults(latency=parse_latency("10:500"), send_loss=0.1, duplicate=0.05, reorder=0.05)
    a = faults.send_fates(1000, seed=3, device="dev-7")
    b = faults.send_fates(1000, seed=3, device="dev-7")
    for field in ("message", "lost", "reordered", "delay_us"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    other_seed = faults.send_fates(1000, seed=4, device="dev-7")
    other_device = faults.send_fates(1000, seed=3, device="dev-8")
    assert not np.array_equal(a.delay_us[:500], other_seed.delay_us[:500])
    assert not np.array_equal(a.delay_us[:500], other_device.delay_us[:500])
    np.testing.assert_array_equal(
        faults.receive_drops(1000, seed=3, device=5), faults.receive_drops(1000, seed=3, device=5)
    )


def test_one_at_a_time_equals_the_batch_draw_across_block_boundaries() -> None:
    faults = LinkFaults(
        latency=parse_latency("normal:50:10"), send_loss=0.2, duplicate=0.3, reorder=0.1, receive_loss=0.25
    )
    n = 2 * BLOCK + 17
    batch = faults.send_fates(n, seed=9, device=42)
    one = DeviceFaults(faults, seed=9, device=42)
    fates = [one.next_send() for _ in range(n)]
    np.testing.assert_array_equal([f.copies for f in fates], batch.copies)
    np.testing.assert_array_equal(
        [f.dropped for f in fates], np.bincount(batch.message[batch.lost], minlength=n)
    )
    kept = ~batch.lost
    np.testing.assert_array_equal(np.concatenate([f.delays_ms for f in fates]), batch.delay_us[kept] / 1000.0)
    np.testing.assert_array_equal(np.concatenate([f.reordered for f in fates]), batch.reordered[kept])
    drops = [one.next_receive() for _ in range(n)]
    np.testing.assert_array_equal(drops, faults.receive_drops(n, seed=9, device=42))
    # A shorter batch is a prefix of a longer one: the fate of message k does not depend on n.
    short = faults.send_fates(100, seed=9, device=42)
    np.testing.assert_array_equal(short.delay_us, batch.delay_us[: len(short.delay_us)])
    assert one.sent == n and one.received == n


# --- latency distributions match their models ----------------------------------------------------


@pytest.mark.parametrize(
    ("spelling", "model", "wrong"),
    [
        ("10:500", uniform_cdf(10, 500), uniform_cdf(10, 530)),
        ("normal:100:20", normal_cdf(100, 20), normal_cdf(102, 20)),
        ("pareto:5:1.5", pareto_cdf(5, 1.5), pareto_cdf(5, 1.4)),
    ],
)
def test_sampled_latency_fits_its_model_and_rejects_a_wrong_one(
    spelling: str, model: Cdf, wrong: Cdf
) -> None:
    delays = _delays_ms(LinkFaults(latency=parse_latency(spelling)))
    assert len(delays) == N
    assert ks_pvalue(delays, model) > 0.01
    assert ks_pvalue(delays, wrong) < 0.01


def test_fixed_latency_is_exact() -> None:
    delays = _delays_ms(LinkFaults(latency=parse_latency("50")), n=500)
    assert np.all(delays == 50.0)


# --- loss, duplication, reordering at their configured rates ------------------------------------


def test_send_loss_ratio_is_within_a_binomial_bound_and_a_wrong_rate_is_rejected() -> None:
    fates = LinkFaults(send_loss=0.1).send_fates(N, seed=5, device=1)
    lost = int(fates.lost.sum())
    assert len(fates.lost) == N  # no duplication: one copy per message
    assert binom_pvalue(lost, N, 0.1) > 0.01
    assert binom_pvalue(lost, N, 0.12) < 0.01


def test_receive_loss_ratio_is_within_a_binomial_bound() -> None:
    drops = LinkFaults(receive_loss=0.3).receive_drops(N, seed=5, device=1)
    assert binom_pvalue(int(drops.sum()), N, 0.3) > 0.01
    assert binom_pvalue(int(drops.sum()), N, 0.33) < 0.01
    assert not LinkFaults().receive_drops(N, seed=5, device=1).any()


def test_duplicates_occur_at_the_configured_rate() -> None:
    fates = LinkFaults(duplicate=0.05).send_fates(N, seed=6, device=2)
    duplicated = int((fates.copies == 2).sum())
    assert binom_pvalue(duplicated, N, 0.05) > 0.01
    assert binom_pvalue(duplicated, N, 0.06) < 0.01
    assert set(np.unique(fates.copies)) == {1, 2}


def test_explicit_reorder_holds_copies_back_and_swaps_arrivals_under_a_fixed_latency() -> None:
    send_ms = np.arange(N, dtype=np.float64)  # one message per millisecond
    for reorder in (0.0, 0.1):
        faults = LinkFaults(latency=parse_latency("5"), reorder=reorder, reorder_delay=parse_latency("0:10"))
        fates = faults.send_fates(N, seed=7, device=3)
        held = int(fates.reordered.sum())
        inversions = _inversions(send_ms + fates.delay_us / 1000.0)
        if reorder == 0.0:
            assert held == 0 and inversions == 0
        else:
            assert binom_pvalue(held, N, reorder) > 0.01
            assert inversions > 0.02 * N


def test_independent_delays_reorder_when_their_spread_exceeds_the_send_gap() -> None:
    faults = LinkFaults(latency=parse_latency("10:500"))
    delay_ms = faults.send_fates(2000, seed=8, device=4).delay_us / 1000.0
    assert _inversions(np.arange(2000) * 10.0 + delay_ms) > 100  # sends 10 ms apart
    assert _inversions(np.arange(2000) * 1000.0 + delay_ms) == 0  # sends 1 s apart: never


def test_clean_link_changes_nothing() -> None:
    faults = LinkFaults()
    assert faults.is_clean
    fates = faults.send_fates(1000, seed=1, device=0)
    assert not fates.lost.any() and (fates.copies == 1).all() and (fates.delay_us == 0).all()
    assert not LinkFaults(send_loss=0.01).is_clean


# --- failure schedule ----------------------------------------------------------------------------


def test_failures_start_on_checks_and_last_at_least_the_duration() -> None:
    schedule = FailureSchedule(fail_prob=0.3, fail_every_s=30.0, fail_duration_s=45.0)
    spans = schedule.outages(seed=1, device=2, horizon_s=3600.0)
    assert len(spans) > 5
    starts, ends = spans[:, 0], spans[:, 1]
    np.testing.assert_array_equal(starts % 30.0, 0.0)
    assert (starts >= 30.0).all() and (starts < 3600.0).all()
    # Each outage is the duration after its last hit, and hits are checks: end - start = 45 + 30 j.
    np.testing.assert_array_equal((ends - starts - 45.0) % 30.0, 0.0)
    assert (ends - starts >= 45.0).all()
    assert (starts[1:] > ends[:-1]).all()  # merged: outages never overlap or touch


def test_hit_rate_per_check_matches_fail_prob_when_outages_do_not_merge() -> None:
    schedule = FailureSchedule(fail_prob=0.05, fail_every_s=30.0, fail_duration_s=10.0)
    out = schedule.fleet(range(200), seed=3, horizon_s=20 * 60.0 + 1)  # 40 checks per device
    checks = 200 * 40
    assert binom_pvalue(len(out), checks, 0.05) > 0.01
    assert binom_pvalue(len(out), checks, 0.065) < 0.01
    np.testing.assert_array_equal(out.end_s - out.start_s, 10.0)
    assert (np.diff(out.start_s) >= 0).all()  # sorted by time


def test_schedule_is_seeded_and_does_not_depend_on_the_horizon() -> None:
    schedule = FailureSchedule(fail_prob=0.2, fail_every_s=30.0, fail_duration_s=10.0)
    long = schedule.outages(seed=4, device="sensor-1", horizon_s=6000.0)
    short = schedule.outages(seed=4, device="sensor-1", horizon_s=1500.0)
    np.testing.assert_array_equal(short, long[long[:, 0] < 1500.0])
    np.testing.assert_array_equal(long, schedule.outages(seed=4, device="sensor-1", horizon_s=6000.0))
    assert not np.array_equal(long, schedule.outages(seed=5, device="sensor-1", horizon_s=6000.0))


def test_extreme_probabilities_and_failed_at() -> None:
    never = FailureSchedule(fail_prob=0.0).fleet(range(50), seed=1, horizon_s=3600.0)
    assert len(never) == 0
    always = FailureSchedule(fail_prob=1.0, fail_every_s=30.0, fail_duration_s=30.0)
    np.testing.assert_array_equal(always.outages(seed=1, device=0, horizon_s=100.0), [[30.0, 120.0]])
    out = always.fleet([0, 1, 2], seed=1, horizon_s=100.0)
    np.testing.assert_array_equal(out.failed_at([0, 1, 2, 3], 29.9), [False] * 4)
    np.testing.assert_array_equal(out.failed_at([0, 1, 2, 3], 30.0), [True, True, True, False])
    np.testing.assert_array_equal(out.failed_at([0, 1, 2], 120.0), [False] * 3)  # recovered at the end


# --- CLI spellings -------------------------------------------------------------------------------


def test_parse_latency_spellings() -> None:
    assert parse_latency("50") == net.LatencyModel.fixed(50.0)
    assert parse_latency("fixed:50") == net.LatencyModel.fixed(50.0)
    assert parse_latency("10:500") == net.LatencyModel.uniform(10.0, 500.0)
    assert parse_latency(" Uniform:10:500 ") == net.LatencyModel.uniform(10.0, 500.0)
    assert parse_latency("normal:100:20") == net.LatencyModel.normal(100.0, 20.0)
    assert parse_latency("pareto:5:1.5").params["shape"] == 1.5
    assert parse_latency("pareto:5:1.5:2000") == net.LatencyModel.pareto(5.0, 1.5, cap_ms=2000.0)
    assert parse_latency("0.5:2.5e1") == net.LatencyModel.uniform(0.5, 25.0)


def test_parse_duration_spellings() -> None:
    assert parse_duration("30s") == 30.0
    assert parse_duration("20m") == 1200.0
    assert parse_duration("2min") == 120.0
    assert parse_duration("500ms") == 0.5
    assert parse_duration("1.5h") == 5400.0
    assert parse_duration("45") == 45.0


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("500:10", "min <= max"),
        ("-5", "delay >= 0"),
        ("-5:10", "0 <= min"),
        ("normal:100:-1", "sd >= 0"),
        ("pareto:0:1.5", "scale > 0"),
        ("pareto:5:0", "shape > 0"),
        ("pareto:5:1.5:1", "cap >= scale"),
        ("gamma:1:2", "is not a latency"),
        ("normal:100", "is not a latency"),
        ("1:2:3", "is not a latency"),
        ("", "is not a latency"),
        ("fast", "is not a latency"),
        ("1e400", "not finite"),
    ],
)
def test_bad_latency_spellings_name_the_option_and_what_is_allowed(text: str, needle: str) -> None:
    with pytest.raises(ValueError, match="latency_ms") as info:
        parse_latency(text, name="latency_ms")
    assert needle in str(info.value) and repr(text) in str(info.value)
    assert "uniform" in str(info.value) or "needs" in str(info.value)


@pytest.mark.parametrize("text", ["-3s", "30x", "inf", "", "s", "1e400s"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"fail_every: .*allowed a number >= 0"):
        parse_duration(text, name="fail_every")


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda: LinkFaults(send_loss=1.5), "send_loss: 1.5 is out of range; allowed \\[0, 1\\]"),
        (lambda: LinkFaults(receive_loss=-0.1), "receive_loss: -0.1 is out of range"),
        (lambda: LinkFaults(duplicate=2), "duplicate: 2.0 is out of range"),
        (lambda: LinkFaults(reorder=float("nan")), "reorder: nan is not finite"),
        (lambda: LinkFaults(send_loss="0.1"), "send_loss: expected a number"),
        (lambda: LinkFaults(latency="10:500"), "latency: expected an edgeswarm.net.LatencyModel"),
        (lambda: LinkFaults(reorder_delay=5), "reorder_delay: expected an edgeswarm.net.LatencyModel"),
        (lambda: LinkFaults().send_fates(-1, seed=1, device=0), "n: -1 is out of range"),
        (lambda: LinkFaults().send_fates(1, seed=-1, device=0), "seed: -1 is out of range"),
        (lambda: LinkFaults().receive_drops(1, seed=1, device=-2), "device: -2 is out of range"),
        (lambda: LinkFaults().send_fates(1, seed=1, device=1.5), "device: expected an integer"),
        (lambda: DeviceFaults("faults", seed=1, device=0), "faults: expected a LinkFaults"),
        (lambda: DeviceFaults(LinkFaults(), seed=2**64, device=0), "seed: 18446744073709551616 is out"),
        (lambda: FailureSchedule(fail_prob=1.2), "fail_prob: 1.2 is out of range; allowed \\[0, 1\\]"),
        (lambda: FailureSchedule(fail_every_s=0), "fail_every_s: 0.0 is out of range; allowed > 0"),
        (lambda: FailureSchedule(fail_duration_s=-30), "fail_duration_s: -30.0 is out of range"),
        (
            lambda: FailureSchedule().outages(seed=1, device=0, horizon_s=-1),
            "horizon_s: -1.0 is out of range",
        ),
        (lambda: FailureSchedule().fleet([0, -1], seed=1, horizon_s=10), "devices: -1 is out of range"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(build, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        build()
