"""Byzantine attacks: every attack against a NumPy computation of its definition."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pytest
from edgeswarm import _core

MASK = (1 << 64) - 1
ATTACK_PURPOSE = 2  # core::Purpose::Attack


def splitmix64(state: int) -> tuple[int, int]:
    """One SplitMix64 step: (new state, output)."""
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


def stream_id(a: int, b: int, c: int) -> int:
    """Python twin of core::stream_id, so the per-node attack streams can be replayed."""
    _, h = splitmix64(a)
    _, h = splitmix64(h ^ b)
    _, h = splitmix64(h ^ c)
    return h


def to_q16(x: np.ndarray) -> np.ndarray:
    """Reference Q16.16 conversion: round half away from zero, saturate."""
    y = np.asarray(x, dtype=np.float64) * 65536.0
    t = np.trunc(y)
    rounded = t + np.sign(y) * (np.abs(y - t) >= 0.5)
    return np.clip(rounded, -(2**31), 2**31 - 1).astype(np.int32)


def attack_stream_normals(seed: int, node: int, epoch: int, d: int) -> np.ndarray:
    return _core.rng_normal(seed, stream_id(node, epoch, ATTACK_PURPOSE), d)


def run(attack: str, reports: np.ndarray, **kwargs) -> np.ndarray:
    k, d = reports.shape
    args = {
        "node_ids": np.arange(10, 10 + k, dtype=np.uint32),
        "honest_mean": np.linspace(-1.0, 2.0, d),
        "honest_sd": np.linspace(0.1, 0.6, d),
        "n_total": 50,
        "n_byzantine": 12,
        "epoch": 3,
        "seed": 42,
    }
    args.update(kwargs)
    return _core.apply_attack(reports, attack=attack, **args)


@pytest.fixture
def reports() -> np.ndarray:
    rng = np.random.default_rng(0)
    return to_q16(rng.uniform(-3.0, 3.0, size=(6, 4)))


def test_reference_conversion_agrees_with_the_engine() -> None:
    x = np.array([0.5 / 65536, -0.5 / 65536, 1.5 / 65536, 1e6, -1e6, 0.3, -2.75])
    assert np.array_equal(to_q16(x), _core.to_q16(x))


def test_names() -> None:
    assert _core.ATTACKS == ("bias", "sign_flip", "gaussian", "alie", "ipm", "mimic", "intermittent")


def test_bias_replays_each_nodes_stream(reports: np.ndarray) -> None:
    k, d = reports.shape
    ids = np.array([7, 3, 99, 1000, 5, 12], dtype=np.uint32)
    out = run("bias", reports, node_ids=ids, bias=0.9, jitter=0.05, seed=8, epoch=2)
    expected = np.stack([to_q16(0.9 + 0.05 * attack_stream_normals(8, int(i), 2, d)) for i in ids])
    assert out.dtype == np.int32 and out.shape == (k, d)
    assert np.array_equal(out, expected)


def test_bias_statistics() -> None:
    k, d = 5000, 2
    out = run(
        "bias", np.zeros((k, d), np.int32), node_ids=np.arange(k, dtype=np.uint32), bias=-0.4, jitter=0.03
    )
    values = _core.from_q16(out)
    assert abs(values.mean() - (-0.4)) < 0.002
    assert abs(values.std() - 0.03) < 0.0015


def test_sign_flip_is_minus_scaled_own_reading(reports: np.ndarray) -> None:
    out = run("sign_flip", reports, scale=1.7)
    assert np.array_equal(out, to_q16(-(1.7 * (reports / 65536.0))))
    extremes = np.array([[-(2**31), 2**31 - 1, 1, -1]], dtype=np.int32)
    flipped = run("sign_flip", extremes, scale=0.5, node_ids=np.array([0], np.uint32))
    # -(0.5 * (2**31 - 1)) raw is a tie, rounded away from zero.
    assert flipped.tolist() == [[2**30, -(2**30), -1, 1]]


def test_gaussian_replays_streams_and_centres_on_the_mean(reports: np.ndarray) -> None:
    k, d = reports.shape
    mean = np.array([0.2, -1.0, 3.0, 0.0])
    out = run("gaussian", reports, honest_mean=mean, sigma=0.25)
    ids = np.arange(10, 10 + k)
    expected = np.stack([to_q16(mean + 0.25 * attack_stream_normals(42, int(i), 3, d)) for i in ids])
    assert np.array_equal(out, expected)

    big = run(
        "gaussian",
        np.zeros((4000, 2), np.int32),
        node_ids=np.arange(4000, dtype=np.uint32),
        honest_mean=np.array([1.5, -0.5]),
        honest_sd=np.zeros(2),
        sigma=0.5,
    )
    values = _core.from_q16(big)
    assert np.allclose(values.mean(axis=0), [1.5, -0.5], atol=0.03)
    assert np.allclose(values.std(axis=0), [0.5, 0.5], atol=0.02)


@pytest.mark.parametrize(("n", "m"), [(50, 12), (100, 20), (10, 3), (7, 0), (1000, 250), (3, 1), (20, 9)])
def test_alie_z_matches_an_independent_quantile(n: int, m: int) -> None:
    s = n // 2 + 1 - m
    assert _core.alie_z(n, m) == pytest.approx(NormalDist().inv_cdf((n - s) / n), abs=1e-12)


def test_alie_z_known_value_and_edge_cases() -> None:
    assert _core.alie_z(50, 12) == pytest.approx(0.5828, abs=1e-4)  # s = 14, Phi^-1(36/50)
    # A Byzantine majority (s <= 0) clamps p to 1 - 1/(2n) instead of giving infinity.
    assert _core.alie_z(50, 30) == pytest.approx(NormalDist().inv_cdf(0.99), abs=1e-12)
    assert _core.alie_z(50, 50) == _core.alie_z(50, 30)
    assert _core.alie_z(1, 0) == 0.0  # p = 0 clamped to 1/2
    with pytest.raises(ValueError, match="^n: 0"):
        _core.alie_z(0, 0)
    with pytest.raises(ValueError, match="^m: 6"):
        _core.alie_z(5, 6)
    with pytest.raises(ValueError, match="^m: -1"):
        _core.alie_z(5, -1)


def test_alie_is_mean_minus_z_sd(reports: np.ndarray) -> None:
    mean, sd = np.array([1.0, -0.5, 0.0, 2.0]), np.array([0.2, 0.0, 1.5, 0.05])
    out = run("alie", reports, honest_mean=mean, honest_sd=sd, n_total=50, n_byzantine=12)
    row = to_q16(mean - _core.alie_z(50, 12) * sd)
    assert np.array_equal(out, np.tile(row, (reports.shape[0], 1)))
    assert np.allclose(_core.from_q16(out[0]), mean - 0.5828415072712162 * sd, atol=1 / 65536)
    explicit = run("alie", reports, honest_mean=mean, honest_sd=sd, alie_z=1.25)
    assert np.array_equal(explicit[2], to_q16(mean - 1.25 * sd))


def test_ipm_is_minus_epsilon_mean(reports: np.ndarray) -> None:
    mean = np.array([0.4, -2.0, 0.0, 10.0])
    out = run("ipm", reports, honest_mean=mean, ipm_epsilon=0.3)
    assert np.array_equal(out, np.tile(to_q16(-0.3 * mean), (reports.shape[0], 1)))


def test_mimic_copies_the_honest_report(reports: np.ndarray) -> None:
    target = np.array([5, -6, 7, 2**20], dtype=np.int32)
    out = run("mimic", reports, mimic=target)
    assert np.array_equal(out, np.tile(target, (reports.shape[0], 1)))


def test_intermittent_schedule(reports: np.ndarray) -> None:
    on, off = 3, 2
    active = [_core.attack_active(e, attack="intermittent", on_epochs=on, off_epochs=off) for e in range(12)]
    assert active == [e % (on + off) < on for e in range(12)]
    assert all(_core.attack_active(e, attack="alie") for e in range(5))
    for epoch in range(7):
        out = run("intermittent", reports, epoch=epoch, on_epochs=on, off_epochs=off)
        if active[epoch]:
            assert np.array_equal(out, run("bias", reports, epoch=epoch))
        else:
            assert np.array_equal(out, reports)


@pytest.mark.parametrize("attack", ["bias", "gaussian", "intermittent", "alie", "sign_flip"])
def test_rows_do_not_depend_on_their_order(attack: str, reports: np.ndarray) -> None:
    ids = np.array([4, 8, 15, 16, 23, 42], dtype=np.uint32)
    perm = np.array([3, 0, 5, 1, 4, 2])
    out = run(attack, reports, node_ids=ids)
    shuffled = run(attack, reports[perm], node_ids=ids[perm])
    assert np.array_equal(shuffled, out[perm])


def test_deterministic_and_seeded(reports: np.ndarray) -> None:
    a = run("gaussian", reports)
    assert np.array_equal(a, run("gaussian", reports))
    assert not np.array_equal(a, run("gaussian", reports, seed=43))
    assert not np.array_equal(a, run("gaussian", reports, epoch=4))


def test_input_is_not_modified(reports: np.ndarray) -> None:
    before = reports.copy()
    run("sign_flip", reports)
    assert np.array_equal(reports, before)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"attack": "flood"}, "^attack: 'flood' is unknown; allowed bias, sign_flip"),
        ({"jitter": -0.1}, "^jitter: -0.1"),
        ({"scale": 0.0}, "^scale: 0"),
        ({"sigma": -1.0}, "^sigma: -1"),
        ({"ipm_epsilon": 0.0}, "^ipm_epsilon: 0"),
        ({"on_epochs": 0}, "^on_epochs: 0"),
        ({"off_epochs": -2}, "^off_epochs: -2"),
        ({"bias": float("nan")}, "^bias: nan"),
        ({"node_ids": np.arange(5, dtype=np.uint32)}, "^node_ids: expected shape"),
        ({"node_ids": np.arange(6, dtype=np.int64)}, "^node_ids: expected dtype uint32"),
        ({"attack": "gaussian", "honest_mean": None}, "^honest_mean: missing"),
        ({"attack": "gaussian", "honest_mean": np.zeros(3)}, "^honest_mean: expected shape"),
        ({"attack": "alie", "honest_sd": np.array([0.1, -0.1, 0.1, 0.1])}, "^honest_sd: -0.1"),
        ({"attack": "alie", "honest_mean": np.array([0.0, np.nan, 0.0, 0.0])}, "^honest_mean: NaN"),
        ({"attack": "alie", "n_total": 0}, "^n_total: 0"),
        ({"attack": "alie", "n_byzantine": 51}, "^n_byzantine: 51"),
        ({"attack": "mimic"}, "^mimic: missing"),
        ({"attack": "mimic", "mimic": np.zeros(4, np.int64)}, "^mimic: expected dtype int32"),
        ({"n_total": -1}, "^n_total: -1"),
    ],
)
def test_bad_input_names_the_parameter(kwargs: dict, pattern: str, reports: np.ndarray) -> None:
    attack = kwargs.pop("attack", "bias")
    with pytest.raises(ValueError, match=pattern):
        run(attack, reports, **kwargs)


def test_reports_must_be_int32_2d() -> None:
    with pytest.raises(ValueError, match="^reports: expected dtype int32"):
        run("bias", np.zeros((2, 2)))
    with pytest.raises(ValueError, match="^reports: expected a 2-D array"):
        _core.apply_attack(
            np.zeros(4, np.int32),
            attack="bias",
            node_ids=np.zeros(4, np.uint32),
            honest_mean=None,
            honest_sd=None,
            n_total=4,
            n_byzantine=1,
            epoch=0,
            seed=0,
        )
