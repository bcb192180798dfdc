"""Reconnect backoff: capped, growing, jitter in range and spread, reset, seeded, bad arguments."""

from __future__ import annotations

import math

import numpy as np
import pytest
from edgeswarm.mqtt.backoff import JITTERS, Backoff


def _delays(backoff: Backoff, n: int) -> np.ndarray:
    return np.array([backoff.next_delay() for _ in range(n)])


def test_ceiling_doubles_from_base_until_the_cap() -> None:
    backoff = Backoff(seed=1, base_s=0.5, cap_s=30.0)
    ceilings = [backoff.ceiling(k) for k in range(10)]
    assert ceilings == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 30.0]
    assert backoff.ceiling(10**6) == 30.0  # no overflow however long the outage
    assert Backoff(seed=1, base_s=1.0, cap_s=100.0, factor=3.0).ceiling(3) == 27.0


def test_no_jitter_gives_the_ceilings_and_counts_attempts() -> None:
    backoff = Backoff(seed=1, base_s=1.0, cap_s=10.0, jitter="none")
    np.testing.assert_array_equal(_delays(backoff, 6), [1.0, 2.0, 4.0, 8.0, 10.0, 10.0])
    assert backoff.attempt == 6


@pytest.mark.parametrize("jitter", JITTERS)
def test_delays_never_exceed_the_cap_and_stay_in_their_jitter_range(jitter: str) -> None:
    for device in range(50):
        backoff = Backoff(seed=7, device=device, base_s=0.1, cap_s=5.0, jitter=jitter)
        for attempt in range(40):
            ceiling = backoff.ceiling(attempt)
            delay = backoff.next_delay()
            assert delay <= backoff.cap_s
            low = {"full": 0.0, "equal": ceiling / 2.0, "none": ceiling}[jitter]
            assert low <= delay <= ceiling


def test_full_jitter_is_uniform_under_the_ceiling_and_grows_with_attempts() -> None:
    # Attempt k's delay over 2,000 devices: mean ceiling / 2, sd ceiling / sqrt(12), spread over the range.
    per_attempt = np.array(
        [_delays(Backoff(seed=3, device=d, base_s=1.0, cap_s=64.0), 8) for d in range(2000)]
    )
    ceilings = np.array([2.0**k for k in range(7)] + [64.0])
    means = per_attempt.mean(axis=0)
    tolerance = 4 * ceilings / math.sqrt(12 * 2000)  # 4 standard errors
    np.testing.assert_array_less(np.abs(means - ceilings / 2), tolerance)
    assert (np.diff(means[:7]) > 0).all()  # grows until the cap
    for k in (0, 7):
        counts = np.histogram(per_attempt[:, k] / ceilings[k], bins=10, range=(0, 1))[0]
        assert counts.min() > 150  # every tenth of [0, ceiling) is used (200 expected)


def test_reset_starts_again_from_base_without_replaying_jitter() -> None:
    backoff = Backoff(seed=5, base_s=1.0, cap_s=60.0)
    first = _delays(backoff, 6)
    assert backoff.attempt == 6
    backoff.reset()
    assert backoff.attempt == 0
    after = backoff.next_delay()
    assert after < 1.0  # back under the base ceiling (the sixth delay was under 32 s)
    assert after != first[0]  # a fresh draw, not the first one again
    assert backoff.draws == 7


def test_same_seed_and_device_same_delays_bit_for_bit() -> None:
    a = _delays(Backoff(seed=11, device="dev-1"), 20)
    b = _delays(Backoff(seed=11, device="dev-1"), 20)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, _delays(Backoff(seed=11, device="dev-2"), 20))
    assert not np.array_equal(a, _delays(Backoff(seed=12, device="dev-1"), 20))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Backoff(seed=1, base_s=0), "base_s: 0.0 is out of range; allowed > 0"),
        (lambda: Backoff(seed=1, base_s=-1), "base_s: -1.0 is out of range"),
        (lambda: Backoff(seed=1, base_s=float("inf")), "base_s: inf is not finite"),
        (
            lambda: Backoff(seed=1, base_s=2, cap_s=1),
            r"cap_s: 1.0 is out of range; allowed >= base_s \(2.0\)",
        ),
        (lambda: Backoff(seed=1, factor=0.5), "factor: 0.5 is out of range; allowed >= 1"),
        (
            lambda: Backoff(seed=1, jitter="decorrelated"),
            "jitter: 'decorrelated' is not one of full, equal, none",
        ),
        (lambda: Backoff(seed=-1), "seed: -1 is out of range"),
        (lambda: Backoff(seed=1, device=-3), "device: -3 is out of range"),
        (lambda: Backoff(seed=1).ceiling(-1), "attempt: -1 is out of range; allowed >= 0"),
        (lambda: Backoff(seed=1, cap_s="60"), "cap_s: expected a number"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(build, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()
