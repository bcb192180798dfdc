"""TWT sleep scheduler and energy ledger (_core.SleepScheduler)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from edgeswarm import _core

CALM, PRESTORM, STORM = 0, 1, 2
SENTINEL, ON_DEMAND, SCHEDULED = 0, 1, 2
EPOCH_MS = 500
CALM_EPOCHS = 4 * 3600 * 1000 // EPOCH_MS  # 28800


def zeros_tx(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(n, dtype=np.uint64), np.zeros(n, dtype=np.uint32)


def reference_interval(base_s: float, epoch_ms: int, reputation: float) -> int:
    """The header's interval formula; llround is round half away from zero."""
    r = min(1.0, max(0.0, reputation))
    x = base_s * 1000.0 / epoch_ms / (0.5 + r)
    q = math.floor(x)
    return max(1, q + 1 if x - q >= 0.5 else q)


def test_role_names():
    assert _core.SLEEP_ROLES == ("sentinel", "on_demand", "scheduled")


def test_role_fractions():
    n = 20000
    roles = _core.SleepScheduler(n, seed=7, sentinel_fraction=0.2, on_demand_fraction=0.3).roles()
    assert roles.dtype == np.uint8
    counts = np.bincount(roles, minlength=3)
    # Binomial sd is at most 71 nodes; 300 is over 4 sd.
    np.testing.assert_allclose(counts, [4000, 6000, 10000], atol=300)
    assert (_core.SleepScheduler(50, seed=7).roles() == SENTINEL).all()  # default: all sentinels
    assert (_core.SleepScheduler(50, seed=7, sentinel_fraction=0).roles() == SCHEDULED).all()


def test_roles_are_deterministic_per_seed_and_node():
    kw = {"sentinel_fraction": 0.3, "on_demand_fraction": 0.3}
    a = _core.SleepScheduler(100, seed=11, **kw).roles()
    np.testing.assert_array_equal(a, _core.SleepScheduler(100, seed=11, **kw).roles())
    np.testing.assert_array_equal(a[:40], _core.SleepScheduler(40, seed=11, **kw).roles())
    assert (a != _core.SleepScheduler(100, seed=12, **kw).roles()).any()


@pytest.mark.parametrize("regime", [CALM, PRESTORM, STORM])
@pytest.mark.parametrize("reputation", [0.0, 0.3, 0.5, 0.9, 1.0, -2.0, 3.0])
def test_interval_matches_reference(regime, reputation):
    s = _core.SleepScheduler(1, seed=1, epoch_ms=EPOCH_MS)
    base = (14400.0, 600.0, 30.0)[regime]
    assert s.interval_epochs(regime, reputation) == reference_interval(base, EPOCH_MS, reputation)


def test_trusted_nodes_have_shorter_intervals():
    s = _core.SleepScheduler(1, seed=1)
    assert s.interval_epochs(STORM, 0.5) == 60
    assert s.interval_epochs(STORM, 1.0) == 40 < s.interval_epochs(STORM, 0.0) == 120
    assert s.interval_epochs(CALM, 1.0) < s.interval_epochs(CALM, 0.0)


def test_sentinels_are_always_awake_and_never_sleep():
    n = 32
    s = _core.SleepScheduler(n, seed=3)
    rep = np.full(n, 0.5)
    for e, regime in enumerate([CALM] * 50 + [STORM] * 50 + [CALM] * 50):
        awake = s.plan_epoch(e, regime, e == 50, rep)
        assert awake.dtype == np.uint8 and awake.shape == (n,)
        assert (awake == 1).all()
        s.charge(awake, *zeros_tx(n))
    np.testing.assert_array_equal(s.sleep_ratio(), np.zeros(n))


def test_scheduled_nodes_in_calm_wake_once_per_four_hours():
    # 12 simulated hours at 500 ms per epoch: three 4-hour intervals.
    n, epochs = 40, 3 * CALM_EPOCHS
    s = _core.SleepScheduler(n, seed=5, epoch_ms=EPOCH_MS, sentinel_fraction=0.0)
    rep = np.full(n, 0.5)
    awake = np.zeros((epochs, n), dtype=np.uint8)
    tx = zeros_tx(n)
    for e in range(epochs):
        awake[e] = s.plan_epoch(e, CALM, False, rep)
        s.charge(awake[e], *tx)
    starts = np.diff(np.vstack([np.zeros((1, n), np.uint8), awake]).astype(np.int8), axis=0) == 1
    for i in range(n):
        t = np.flatnonzero(starts[:, i])
        assert len(t) == 3
        assert t[0] < CALM_EPOCHS
        np.testing.assert_array_equal(np.diff(t), [CALM_EPOCHS, CALM_EPOCHS])
    per_node = awake.sum(axis=0)
    assert ((per_node >= 5) & (per_node <= 6)).all()  # bursts of 2; the last may run past the end
    ratio = s.sleep_ratio()
    np.testing.assert_allclose(ratio, 1.0 - per_node / epochs, rtol=0, atol=1e-15)
    assert (ratio > 0.9999).all()


def test_escalation_wakes_every_non_sentinel_and_shortens_intervals():
    n = 600
    s = _core.SleepScheduler(n, seed=9, sentinel_fraction=0.2, on_demand_fraction=0.3)
    roles = s.roles()
    rep = np.full(n, 0.5)
    for e in range(300):
        awake = s.plan_epoch(e, CALM, False, rep)
        assert (awake[roles == ON_DEMAND] == 0).all()
    t0 = 300
    assert (s.plan_epoch(t0, STORM, True, rep) == 1).all()
    for e in range(t0 + 1, t0 + 250):
        awake = s.plan_epoch(e, STORM, False, rep)
        assert (awake[roles == SENTINEL] == 1).all()
        assert (awake[roles == ON_DEMAND] == (1 if e == t0 + 1 else 0)).all()
        expected = 1 if (e - t0) % 60 < 2 else 0  # storm interval 30 s = 60 epochs, bursts of 2
        assert (awake[roles == SCHEDULED] == expected).all(), e


def test_reputation_scales_the_wake_cadence():
    s = _core.SleepScheduler(2, seed=4, sentinel_fraction=0.0)
    rep = np.array([1.0, 0.0])
    awake = np.array([s.plan_epoch(e, STORM, e == 0, rep) for e in range(480)])
    starts = np.diff(np.vstack([[0, 0], awake]).astype(np.int8), axis=0) == 1
    np.testing.assert_array_equal(np.flatnonzero(starts[:, 0]), np.arange(0, 480, 40))
    np.testing.assert_array_equal(np.flatnonzero(starts[:, 1]), np.arange(0, 480, 120))


def test_always_awake_energy_over_a_day():
    # One simulated day at one-minute epochs keeps the Python loop short.
    n, epoch_ms = 4, 60_000
    s = _core.SleepScheduler(n, seed=1, epoch_ms=epoch_ms, awake_mw=60.0)
    rep = np.full(n, 0.5)
    tx = zeros_tx(n)
    for e in range(86400 * 1000 // epoch_ms):
        s.charge(s.plan_epoch(e, CALM, False, rep), *tx)
    assert s.epochs_charged == 1440
    np.testing.assert_allclose(s.energy_mj(), 60.0 * 86400.0, rtol=1e-12)


def test_transmit_energy_adds_the_formula_amount():
    s = _core.SleepScheduler(
        2, seed=1, tx_uj_per_byte=0.5, tx_uj_per_message=20.0, awake_mw=60.0, asleep_mw=0.01
    )
    s.charge(np.array([0, 1], np.uint8), np.array([1000, 0], np.uint64), np.array([3, 7], np.uint32))
    # 0.01 mW * 0.5 s + (1000 * 0.5 + 3 * 20) uJ; 60 mW * 0.5 s + 7 * 20 uJ.
    np.testing.assert_allclose(s.energy_mj(), [0.005 + 0.56, 30.0 + 0.14], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(s.sleep_ratio(), [1.0, 0.0])


def test_sleep_ratio_is_zero_before_any_charge():
    s = _core.SleepScheduler(3, seed=1, sentinel_fraction=0.0)
    np.testing.assert_array_equal(s.sleep_ratio(), np.zeros(3))
    np.testing.assert_array_equal(s.energy_mj(), np.zeros(3))


def test_same_seed_same_schedule_and_energy():
    n = 200
    kw = {"seed": 21, "sentinel_fraction": 0.1, "on_demand_fraction": 0.2}
    a, b = _core.SleepScheduler(n, **kw), _core.SleepScheduler(n, **kw)
    rep = np.linspace(0.0, 1.0, n)
    bytes_sent = np.arange(n, dtype=np.uint64) * 10
    messages = np.full(n, 2, np.uint32)
    prev = CALM
    for e in range(900):
        regime = (CALM, PRESTORM, STORM)[e // 300]
        wa = a.plan_epoch(e, regime, regime > prev, rep)
        wb = b.plan_epoch(e, regime, regime > prev, rep)
        np.testing.assert_array_equal(wa, wb)
        a.charge(wa, bytes_sent, messages)
        b.charge(wb, bytes_sent, messages)
        prev = regime
    np.testing.assert_array_equal(a.energy_mj(), b.energy_mj())


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"calm_interval_s": 0.0}, "calm_interval_s"),
        ({"prestorm_interval_s": -1.0}, "prestorm_interval_s"),
        ({"storm_interval_s": float("nan")}, "storm_interval_s"),
        ({"wake_burst_epochs": 0}, "wake_burst_epochs"),
        ({"sentinel_fraction": 1.5}, "sentinel_fraction"),
        ({"on_demand_fraction": -0.1}, "on_demand_fraction"),
        ({"sentinel_fraction": 0.6, "on_demand_fraction": 0.5}, "on_demand_fraction"),
        ({"awake_mw": -1.0}, "awake_mw"),
        ({"asleep_mw": -1.0}, "asleep_mw"),
        ({"tx_uj_per_byte": -1.0}, "tx_uj_per_byte"),
        ({"tx_uj_per_message": float("inf")}, "tx_uj_per_message"),
        ({"epoch_ms": 0}, "epoch_ms"),
        ({"seed": -1}, "seed"),
    ],
)
def test_constructor_validation_names_the_option(kwargs, name):
    kwargs = {"seed": 1, **kwargs}
    with pytest.raises(ValueError, match=f"^{name}:"):
        _core.SleepScheduler(4, **kwargs)


def test_negative_n_is_a_value_error():
    with pytest.raises(ValueError, match="^n:"):
        _core.SleepScheduler(-1, seed=1)


def test_array_validation_names_the_parameter():
    n = 4
    s = _core.SleepScheduler(n, seed=1)
    rep = np.full(n, 0.5)
    awake = np.ones(n, np.uint8)
    bytes_sent, messages = zeros_tx(n)
    cases = [
        (lambda: s.plan_epoch(0, CALM, False, np.full(n - 1, 0.5)), "reputation"),
        (lambda: s.plan_epoch(0, CALM, False, np.full(n, 1, np.int64)), "reputation"),
        (lambda: s.plan_epoch(0, CALM, False, np.full((n, 1), 0.5)), "reputation"),
        (lambda: s.plan_epoch(0, CALM, False, np.full(n, np.nan)), "reputation"),
        (lambda: s.plan_epoch(0, 3, False, rep), "regime"),
        (lambda: s.plan_epoch(-1, CALM, False, rep), "epoch"),
        (lambda: s.charge(awake.astype(np.float64), bytes_sent, messages), "awake"),
        (lambda: s.charge(awake[:2], bytes_sent, messages), "awake"),
        (lambda: s.charge(awake, bytes_sent.astype(np.float64), messages), "bytes_sent"),
        (lambda: s.charge(awake, np.full(n, -5, np.int64), messages), "bytes_sent"),
        (lambda: s.charge(awake, bytes_sent, np.full(n, 2**33, np.int64)), "messages_sent"),
        (lambda: s.charge(awake, bytes_sent, messages[:3]), "messages_sent"),
        (lambda: s.interval_epochs(7, 0.5), "regime"),
        (lambda: s.interval_epochs(CALM, float("nan")), "reputation"),
    ]
    for call, name in cases:
        with pytest.raises(ValueError, match=f"^{name}:"):
            call()
    assert s.epochs_charged == 0  # rejected charges left the ledger alone


def test_lossless_dtypes_are_accepted():
    n = 3
    s = _core.SleepScheduler(n, seed=1, tx_uj_per_byte=1.0, tx_uj_per_message=0.0, awake_mw=0.0)
    s.charge(np.array([True, False, True]), np.array([1000, 2000, 3000], np.int64), np.zeros(n, np.uint8))
    np.testing.assert_allclose(s.energy_mj(), [1.0, 2.0 + 0.005, 3.0], atol=1e-12)
    s.plan_epoch(0, CALM, False, np.full(n, 0.5, np.float32))
