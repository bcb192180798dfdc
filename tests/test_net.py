"""edgeswarm.net: the simulator's latency models and link rules, against statistics and NumPy references."""

from __future__ import annotations

import math

import edgeswarm as es
import numpy as np
import pytest
from edgeswarm import _core, net

# The C++ network's stream layout (cpp/src/net/link_sampler.cpp), pinned here so that the
# NumPy references below re-derive the engine's streams: purpose p of batch s under seed is
# Rng(seed, stream_id(NET_DOMAIN, p, s)).
NET_DOMAIN = int.from_bytes(b"NETWORK\0", "big")
LATENCY, LOSS, DUPLICATE, REORDER = 1, 2, 3, 4


def purpose_uniform(seed: int, purpose: int, stream: int, n: int) -> np.ndarray:
    return _core.rng_uniform(seed, _core.stream_id(NET_DOMAIN, purpose, stream), n)


def within_binomial(k: int, trials: int, p: float, sds: float = 5.0) -> bool:
    return abs(k - trials * p) <= sds * math.sqrt(trials * p * (1 - p))


def test_fixed_is_exact_and_in_whole_microseconds() -> None:
    assert np.array_equal(net.LatencyModel.fixed(2.5).sample_us(10, seed=1), np.full(10, 2500))
    assert np.array_equal(net.LatencyModel.fixed(1.0004).sample(3, seed=1), np.full(3, 1.0))


def test_uniform_covers_its_bounds_with_the_right_mean() -> None:
    x = net.LatencyModel.uniform(10.0, 20.0).sample(100_000, seed=3, stream=1)
    assert x.min() == 10.0 and x.max() == 20.0
    sd_of_mean = 10.0 / math.sqrt(12) / math.sqrt(len(x))
    assert abs(x.mean() - 15.0) < 5 * sd_of_mean


def test_normal_has_its_mean_and_sd() -> None:
    x = net.LatencyModel.normal(50.0, 5.0).sample(100_000, seed=4)
    assert abs(x.mean() - 50.0) < 5 * 5.0 / math.sqrt(len(x))
    assert abs(x.std() - 5.0) < 0.05


def test_pareto_tail_follows_the_power_law() -> None:
    scale, shape = 5.0, 1.5
    x = net.LatencyModel.pareto(scale, shape).sample(200_000, seed=5, stream=2)
    assert x.min() >= scale
    for at in (7.5, 10.0, 20.0, 50.0, 200.0):
        p = (scale / at) ** shape
        assert within_binomial(int((x > at).sum()), len(x), p), at
    capped = net.LatencyModel.pareto(scale, 0.5, cap_ms=100.0).sample(10_000, seed=5)
    assert capped.max() == 100.0  # shape 0.5 puts (5/100)^0.5 = 22 % of the draws above the cap


def test_pareto_matches_its_numpy_reference() -> None:
    # Inversion of the engine's own uniform draws: scale * (1 - u)^(-1/shape), rounded to us, capped.
    seed, stream, n = 9, 4, 20_000
    u = _core.rng_uniform(seed, stream, n)
    ref = np.minimum(np.round(5000 * (1.0 - u) ** (-1 / 1.2)), 2_000_000).astype(np.int64)
    got = net.LatencyModel.pareto(5.0, 1.2, cap_ms=2000.0).sample_us(n, seed=seed, stream=stream)
    assert np.abs(got - ref).max() <= 1  # libm's pow may differ from NumPy's in the last bit
    assert (got == ref).mean() > 0.999


def test_draw_decides_loss_duplication_and_reordering_like_its_numpy_reference() -> None:
    seed, stream, n = 21, 5, 5000
    rules = net.LinkRules(
        latency=net.LatencyModel.fixed(3.0),
        loss=0.2,
        duplicate=0.1,
        reorder=0.3,
        reorder_delay=net.LatencyModel.fixed(7.0),
    )
    f = rules.draw(n, seed=seed, stream=stream)
    duplicated = purpose_uniform(seed, DUPLICATE, stream, n) < 0.1
    assert np.array_equal(f.copies, np.where(duplicated, 2, 1))
    assert np.array_equal(f.message, np.repeat(np.arange(n), f.copies))
    lost = purpose_uniform(seed, LOSS, stream, len(f.message)) < 0.2
    assert np.array_equal(f.lost, lost)
    reordered = purpose_uniform(seed, REORDER, stream, int((~lost).sum())) < 0.3
    assert np.array_equal(f.reordered[~lost], reordered)
    assert not f.reordered[lost].any()
    assert np.array_equal(f.delay_us[~lost], np.where(reordered, 10_000, 3000))
    assert (f.delay_us[lost] == -1).all() and np.isnan(f.delay_ms[lost]).all()


def test_per_message_loss_and_extra_delay() -> None:
    n = 40_000
    p = np.where(np.arange(n) % 2 == 0, 0.05, 0.5)
    extra = np.arange(n) % 7 * 1.5
    rules = net.LinkRules(latency=net.LatencyModel.uniform(1.0, 2.0))
    f = rules.draw(n, seed=2, stream=8, loss=p, extra_delay_ms=extra)
    assert within_binomial(int(f.lost[::2].sum()), n // 2, 0.05)
    assert within_binomial(int(f.lost[1::2].sum()), n // 2, 0.5)
    assert np.array_equal(f.lost, purpose_uniform(2, LOSS, 8, n) < p)
    alive = ~f.lost
    base = f.delay_ms[alive] - extra[alive]
    assert np.all((base >= 1.0 - 1e-9) & (base <= 2.0 + 1e-9))


def test_same_seed_same_arrays_other_stream_or_seed_others() -> None:
    rules = net.LinkRules(latency=net.LatencyModel.normal(20, 4), loss=0.1, duplicate=0.05, reorder=0.1)
    a, b = rules.draw(3000, seed=1, stream=2), rules.draw(3000, seed=1, stream=2)
    for field in ("message", "lost", "reordered", "delay_us"):
        assert np.array_equal(getattr(a, field), getattr(b, field))
    for other in (rules.draw(3000, seed=1, stream=3), rules.draw(3000, seed=2, stream=2)):
        assert not np.array_equal(a.delay_us, other.delay_us)


def test_zero_messages() -> None:
    f = net.LinkRules().draw(0, seed=1)
    assert f.message.shape == (0,) and f.copies.shape == (0,)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: net.LinkRules(loss=1.5), "loss: 1.5 is out of range; allowed [0, 1]"),
        (lambda: net.LinkRules(duplicate=-0.1), "duplicate: -0.1 is out of range; allowed [0, 1]"),
        (lambda: net.LinkRules(reorder=2), "reorder: 2 is out of range; allowed [0, 1]"),
        (lambda: net.LinkRules().draw(3, seed=1, loss=[0.1, 2.0, 0.1]), "loss[1]: 2 is out of range"),
        (lambda: net.LinkRules().draw(3, seed=1, loss=[0.1]), "loss: expected a 1-D array of 3 values"),
        (lambda: net.LinkRules().draw(2, seed=1, extra_delay_ms=[0, -1]), "extra_delay_us[1]: -1000 is out"),
        (
            lambda: net.LinkRules().draw(2, seed=1, extra_delay_ms=[0, math.inf]),
            "extra_delay_ms: expected finite",
        ),
        (lambda: net.LinkRules().draw(2, seed=-1), "seed: -1 is out of range"),
        (lambda: net.LatencyModel.uniform(5, 1), "max_us: 1000 is out of range; allowed >= min_us (5000)"),
        (lambda: net.LatencyModel.fixed(-1), "delay_us: -1000 is out of range"),
        (lambda: net.LatencyModel.fixed(math.nan), "delay_ms: nan is not finite"),
        (lambda: net.LatencyModel.fixed(1e30), "delay_ms: 1e+30 is out of range"),
        (
            lambda: net.LinkRules().draw(1, seed=1, extra_delay_ms=[1e30]),
            "extra_delay_us[0]: 4611686018427387904",
        ),
        (lambda: net.LatencyModel.pareto(0, 1.5), "scale_us: 0 is out of range"),
        (lambda: net.LatencyModel.pareto(1, 0), "shape: 0 is out of range; allowed finite values > 0"),
        (lambda: net.LatencyModel.pareto(5, 1, cap_ms=4), "cap_us: 4000 is out of range"),
        (lambda: net.LatencyModel.normal(-1, 1), "mean_us: -1000 is out of range"),
    ],
)
def test_bad_parameters_are_value_errors_naming_the_field(make, message: str) -> None:
    with pytest.raises(ValueError) as err:
        make()
    assert message in str(err.value)


def test_facade_reports_its_parameters_and_limits() -> None:
    rules = net.LinkRules(latency=net.LatencyModel.uniform(1, 3), loss=0.25)
    assert (rules.loss, rules.duplicate, rules.reorder) == (0.25, 0.0, 0.0)
    assert rules.latency == net.LatencyModel.uniform(1, 3) and rules.latency.kind == "uniform"
    assert repr(rules.latency) == "LatencyModel.uniform(min_ms=1, max_ms=3)"
    assert net.MAX_DELAY_MS == _core.NET_MAX_DELAY_US / 1000


def test_node_limits_are_the_network_simulators() -> None:
    # RaftCluster and the EmergencyCoordinator's Raft groups run on net/, so its limit is theirs.
    assert es.raft.MAX_NODES == net.MAX_NODES == _core.NET_MAX_NODES
    with pytest.raises(ValueError, match=f"n: {net.MAX_NODES + 1} is out of range"):
        es.RaftCluster(n=net.MAX_NODES + 1)
    with pytest.raises(ValueError, match=f"group_size: {net.MAX_NODES + 1} is out of range"):
        es.EmergencyCoordinator(clusters={0: 0}, group_size=net.MAX_NODES + 1)
