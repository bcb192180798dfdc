"""Aggregators: C++ results against a pure NumPy / Python-int reference, bit for bit."""

from __future__ import annotations

import math

import numpy as np
import pytest
from edgeswarm import _core
from edgeswarm.aggregators import AGGREGATORS, aggregate
from hypothesis import given, settings
from hypothesis import strategies as st

I32_MIN = -(2**31)
I32_MAX = 2**31 - 1


# ---------------------------------------------------------------- reference


def div_round(num, den):
    """Project rounding rule (nearest, ties away from zero) for int64 arrays or Python ints; den > 0."""
    if isinstance(num, (int, np.integer)) and isinstance(den, (int, np.integer)):
        num, den = int(num), int(den)
        q, r = divmod(abs(num), den)
        if 2 * r >= den:
            q += 1
        return q if num >= 0 else -q
    num = np.asarray(num, dtype=np.int64)
    mag = np.abs(num)
    q, r = mag // den, mag % den
    q = q + (2 * r >= den)
    return np.where(num < 0, -q, q).astype(np.int64)


def ref_mean(v: np.ndarray) -> np.ndarray:
    return div_round(v.astype(np.int64).sum(axis=0), v.shape[0]).astype(np.int32)


def ref_trimmed_mean(v: np.ndarray, f: int) -> np.ndarray:
    n = v.shape[0]
    kept = np.sort(v, axis=0)[f : n - f].astype(np.int64)
    return div_round(kept.sum(axis=0), n - 2 * f).astype(np.int32)


def ref_median(v: np.ndarray) -> np.ndarray:
    n = v.shape[0]
    s = np.sort(v, axis=0).astype(np.int64)
    if n % 2:
        return s[n // 2].astype(np.int32)
    return div_round(s[n // 2 - 1] + s[n // 2], 2).astype(np.int32)


def trim_count_of(n: int, trim: float, trim_count: int) -> int:
    return trim_count if trim_count >= 0 else math.floor(trim * n)


def ref_reputation(v: np.ndarray, w: np.ndarray, f: int) -> np.ndarray:
    n, d = v.shape
    out = np.empty(d, dtype=np.int32)
    for c in range(d):
        order = np.lexsort((w, v[:, c]))  # by value, then weight
        kept = order[f : n - f]
        wsum = int(w[kept].astype(np.int64).sum())
        if wsum == 0:
            out[c] = div_round(int(v[kept, c].astype(np.int64).sum()), n - 2 * f)
        else:
            num = sum(int(w[i]) * int(v[i, c]) for i in kept)
            out[c] = div_round(num, wsum)
    return out


def ref_krum_scores(v: np.ndarray, f: int) -> list[int]:
    n = v.shape[0]
    diff = v[:, None, :].astype(np.int64) - v[None, :, :].astype(np.int64)
    d2 = (diff.astype(object) ** 2).sum(axis=2)
    k = n - f - 2
    return [sum(sorted(d2[i, j] for j in range(n) if j != i)[:k]) for i in range(n)]


def ref_multi_krum(v: np.ndarray, f: int, m: int) -> np.ndarray:
    scores = ref_krum_scores(v, f)
    order = sorted(range(v.shape[0]), key=lambda i: (scores[i], tuple(int(x) for x in v[i])))
    chosen = v[order[:m]].astype(np.int64)
    return div_round(chosen.sum(axis=0), m).astype(np.int32)


def ref_tau(clip_tau: float) -> int:
    t = clip_tau * 65536.0
    fl = math.floor(t)
    return fl + 1 if t - fl >= 0.5 else fl


def ref_centered_clipping(v: np.ndarray, center, tau: int, iters: int) -> np.ndarray:
    n = v.shape[0]
    x = v.astype(np.int64)
    c = (ref_median(v) if center is None else np.asarray(center)).astype(np.int64)
    one = 1 << 30
    for _ in range(iters):
        acc = np.zeros_like(c)
        for i in range(n):
            diff = x[i] - c
            norm = math.isqrt(int((diff.astype(object) ** 2).sum()))
            scale = one if norm <= tau else div_round(tau << 30, norm)
            acc += div_round(diff * scale, one)
        c = np.clip(c + div_round(acc, n), I32_MIN, I32_MAX)
    return c.astype(np.int32)


def reference(
    v,
    aggregator,
    *,
    trim=0.2,
    trim_count=-1,
    weights=None,
    center=None,
    krum_f=-1,
    multi_krum_m=-1,
    clip_tau=0.1,
    clip_iters=3,
):
    n = v.shape[0]
    f = trim_count_of(n, trim, trim_count)
    if aggregator == "mean":
        return ref_mean(v)
    if aggregator == "trimmed_mean":
        return ref_trimmed_mean(v, f)
    if aggregator == "median":
        return ref_median(v)
    if aggregator == "reputation_trimmed_mean":
        return ref_reputation(v, weights, f)
    kf = krum_f if krum_f >= 0 else f
    if aggregator == "krum":
        return ref_multi_krum(v, kf, 1)
    if aggregator == "multi_krum":
        return ref_multi_krum(v, kf, multi_krum_m if multi_krum_m >= 0 else n - kf)
    if aggregator == "centered_clipping":
        return ref_centered_clipping(v, center, ref_tau(clip_tau), clip_iters)
    raise AssertionError(aggregator)


# ---------------------------------------------------------------- data


def make_values(rng: np.random.Generator, n: int, d: int, kind: str) -> np.ndarray:
    if kind == "full":
        return rng.integers(I32_MIN, I32_MAX, size=(n, d), endpoint=True, dtype=np.int64).astype(np.int32)
    if kind == "ties":
        return rng.integers(-3, 4, size=(n, d)).astype(np.int32) * 65536
    if kind == "extreme":
        pool = np.array([I32_MIN, I32_MIN + 1, -1, 0, 1, I32_MAX - 1, I32_MAX], dtype=np.int32)
        return rng.choice(pool, size=(n, d))
    if kind == "sensor":
        x = rng.normal(20.0, 0.5, size=(n, d))
        x[: (3 * n) // 10] += 500.0  # Byzantine rows
        return _core.to_q16(x)
    raise AssertionError(kind)


KINDS = ("full", "ties", "extreme", "sensor")


# ---------------------------------------------------------------- tests


def test_aggregators_tuple_lists_every_rule():
    assert AGGREGATORS == (
        "mean",
        "trimmed_mean",
        "median",
        "reputation_trimmed_mean",
        "krum",
        "multi_krum",
        "centered_clipping",
    )


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n,d", [(1, 1), (2, 3), (3, 1), (5, 2), (33, 17), (257, 9), (1000, 40), (3000, 3)])
@pytest.mark.parametrize("trim", [0.0, 0.1, 0.3, 0.49])
def test_trimmed_mean_matches_reference(kind, n, d, trim):
    v = make_values(np.random.default_rng(n * 31 + d), n, d, kind)
    f = math.floor(trim * n)
    expected = ref_trimmed_mean(v, f)
    np.testing.assert_array_equal(_core.trimmed_mean(v, f), expected)
    np.testing.assert_array_equal(_core.trimmed_mean_portable(v, f), expected)
    np.testing.assert_array_equal(_core.aggregate(v, aggregator="trimmed_mean", trim=trim), expected)


@pytest.mark.parametrize("n,d", [(300, 16), (1000, 16), (1000, 40), (2100, 3), (2100, 17)])
@pytest.mark.parametrize("trim", [0.1, 0.3, 0.49])
def test_trimmed_mean_exact_when_sample_rows_mislead(n, d, trim):
    # The SIMD kernel samples rows (2i + 1) n / 2s (s = 32, 64, 128 for n < 512, 2048, 4096);
    # put values near the top of the range exactly there: its splitters then miss both cuts,
    # it must take its wide-bucket paths and still match the reference.
    rng = np.random.default_rng(n + d)
    v = np.sort(rng.normal(0.0, 65536.0, size=(n, d)), axis=0).astype(np.int32)
    s = 32 if n < 512 else 64 if n < 2048 else 128
    rows = (2 * np.arange(s) + 1) * n // (2 * s)
    v[rows] = I32_MAX - rng.integers(0, 64, size=(s, d)).astype(np.int32)
    f = math.floor(trim * n)
    np.testing.assert_array_equal(_core.trimmed_mean(v, f), ref_trimmed_mean(v, f))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n,d", [(1, 2), (2, 2), (4, 3), (7, 5), (64, 16), (301, 20)])
@pytest.mark.parametrize("aggregator", ["mean", "median", "reputation_trimmed_mean", "trimmed_mean"])
def test_coordinate_rules_match_reference(kind, n, d, aggregator):
    rng = np.random.default_rng(n * 7 + d)
    v = make_values(rng, n, d, kind)
    w = rng.choice(np.array([0, 1, 32768, 65535, 65536], dtype=np.int32), size=n)
    kwargs = {"trim": 0.3, "weights": w}
    expected = reference(v, aggregator, **kwargs)
    np.testing.assert_array_equal(_core.aggregate(v, aggregator=aggregator, **kwargs), expected)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n,d", [(3, 1), (5, 2), (9, 4), (24, 6)])
@pytest.mark.parametrize("aggregator", ["krum", "multi_krum", "centered_clipping"])
def test_vector_rules_match_reference(kind, n, d, aggregator):
    rng = np.random.default_rng(n * 13 + d)
    v = make_values(rng, n, d, kind)
    kwargs = {"trim": 0.2, "clip_tau": 0.75, "clip_iters": 3}
    if aggregator != "centered_clipping" and n <= 2 * math.floor(0.2 * n) + 2:
        kwargs["krum_f"] = max(0, (n - 3) // 2)
    expected = reference(v, aggregator, **kwargs)
    np.testing.assert_array_equal(_core.aggregate(v, aggregator=aggregator, **kwargs), expected)


def test_krum_options_and_centered_clipping_center():
    rng = np.random.default_rng(4)
    v = make_values(rng, 15, 3, "sensor")
    for m in (1, 2, 7, 15):
        np.testing.assert_array_equal(
            _core.aggregate(v, aggregator="multi_krum", krum_f=3, multi_krum_m=m), ref_multi_krum(v, 3, m)
        )
    center = rng.integers(-(2**20), 2**20, size=3).astype(np.int32)
    for tau in (1e-5, 0.3, 2.0, 1e6):
        np.testing.assert_array_equal(
            _core.aggregate(v, aggregator="centered_clipping", center=center, clip_tau=tau, clip_iters=4),
            ref_centered_clipping(v, center, ref_tau(tau), 4),
        )


@pytest.mark.parametrize("aggregator", AGGREGATORS)
@pytest.mark.parametrize("kind", KINDS)
def test_shuffled_rows_give_identical_output(aggregator, kind):
    rng = np.random.default_rng(99)
    n, d = 23, 4
    v = make_values(rng, n, d, kind)
    w = rng.choice(np.array([0, 16384, 65536], dtype=np.int32), size=n)
    base = _core.aggregate(v, aggregator=aggregator, trim=0.2, weights=w)
    for _ in range(3):
        perm = rng.permutation(n)
        np.testing.assert_array_equal(
            _core.aggregate(v[perm], aggregator=aggregator, trim=0.2, weights=w[perm]), base
        )


small_matrices = st.integers(1, 12).flatmap(
    lambda n: st.integers(1, 4).flatmap(
        lambda d: st.lists(
            st.one_of(st.integers(-3, 3), st.sampled_from([I32_MIN, I32_MAX]), st.integers(I32_MIN, I32_MAX)),
            min_size=n * d,
            max_size=n * d,
        ).map(lambda xs: np.array(xs, dtype=np.int64).astype(np.int32).reshape(n, d))
    )
)


@settings(max_examples=60, deadline=None)
@given(v=small_matrices, trim=st.floats(0.0, 0.499), seed=st.integers(0, 2**32 - 1))
def test_property_coordinate_rules(v, trim, seed):
    n = v.shape[0]
    f = math.floor(trim * n)
    rng = np.random.default_rng(seed)
    w = rng.integers(0, 65537, size=n).astype(np.int32)
    np.testing.assert_array_equal(_core.trimmed_mean(v, f), ref_trimmed_mean(v, f))
    for aggregator in ("mean", "median", "trimmed_mean", "reputation_trimmed_mean"):
        got = _core.aggregate(v, aggregator=aggregator, trim=trim, weights=w)
        np.testing.assert_array_equal(got, reference(v, aggregator, trim=trim, weights=w))
        perm = rng.permutation(n)
        np.testing.assert_array_equal(
            _core.aggregate(v[perm], aggregator=aggregator, trim=trim, weights=w[perm]), got
        )


@settings(max_examples=40, deadline=None)
@given(v=small_matrices, tau=st.floats(1e-4, 1e5), iters=st.integers(1, 4))
def test_property_vector_rules(v, tau, iters):
    n = v.shape[0]
    np.testing.assert_array_equal(
        _core.aggregate(v, aggregator="centered_clipping", clip_tau=tau, clip_iters=iters),
        ref_centered_clipping(v, None, ref_tau(tau), iters),
    )
    if n >= 3:
        f = (n - 3) // 2
        np.testing.assert_array_equal(
            _core.aggregate(v, aggregator="krum", krum_f=f), ref_multi_krum(v, f, 1)
        )


def test_robust_rules_resist_30_percent_bias_while_mean_does_not():
    rng = np.random.default_rng(7)
    honest = rng.normal(1.0, 0.01, size=(70, 5))
    byzantine = np.full((30, 5), 50.0)
    values = np.vstack([byzantine, honest])
    for aggregator in ("trimmed_mean", "median", "krum", "multi_krum"):
        out = aggregate(values, aggregator=aggregator, trim=0.3)
        assert out.dtype == np.float64
        np.testing.assert_allclose(out, 1.0, atol=0.02, err_msg=aggregator)
    assert np.all(aggregate(values, aggregator="mean") > 10.0)


def test_facade_modes():
    x = np.array([1.0, 2.0, 4.0, 100.0])
    np.testing.assert_array_equal(aggregate(x, aggregator="median"), [3.0])  # 1-D: one column
    raw = _core.to_q16(np.array([[1.0, 2.0], [3.0, 5.0]]))
    out = aggregate(raw, aggregator="mean")
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, _core.to_q16(np.array([2.0, 3.5])))
    w = np.array([1.0, 0.0])
    np.testing.assert_array_equal(
        aggregate([[1.0], [3.0]], aggregator="reputation_trimmed_mean", trim=0.0, weights=w), [1.0]
    )
    with pytest.raises(ValueError, match=r"^values: expected int32 raw Q16\.16 or a float array"):
        aggregate(np.array([[1, 2]], dtype=np.int64))


@pytest.mark.parametrize(
    "kwargs,param",
    [
        ({"aggregator": "average"}, "aggregator"),
        ({"aggregator": "trimmed_mean", "trim": 0.5}, "trim"),
        ({"aggregator": "trimmed_mean", "trim": -0.1}, "trim"),
        ({"aggregator": "trimmed_mean", "trim": float("nan")}, "trim"),
        ({"aggregator": "trimmed_mean", "trim_count": 5}, "trim_count"),
        ({"aggregator": "trimmed_mean", "trim_count": -2}, "trim_count"),
        ({"aggregator": "krum", "krum_f": 4}, "krum_f"),
        ({"aggregator": "multi_krum", "krum_f": 1, "multi_krum_m": 11}, "multi_krum_m"),
        ({"aggregator": "multi_krum", "multi_krum_m": 0}, "multi_krum_m"),
        ({"aggregator": "centered_clipping", "clip_tau": 0.0}, "clip_tau"),
        ({"aggregator": "centered_clipping", "clip_tau": float("inf")}, "clip_tau"),
        ({"aggregator": "centered_clipping", "clip_iters": 0}, "clip_iters"),
        ({"aggregator": "reputation_trimmed_mean"}, "weights"),
        ({"aggregator": "reputation_trimmed_mean", "weights": np.zeros(9, np.int32)}, "weights"),
        ({"aggregator": "reputation_trimmed_mean", "weights": np.zeros(10, np.float64)}, "weights"),
        ({"aggregator": "reputation_trimmed_mean", "weights": np.full(10, 65537, np.int32)}, "weights"),
        ({"aggregator": "centered_clipping", "center": np.zeros(4, np.int32)}, "center"),
        ({"aggregator": "centered_clipping", "center": np.zeros((3, 1), np.int32)}, "center"),
    ],
)
def test_bad_parameters_raise_value_error_naming_them(kwargs, param):
    v = np.zeros((10, 3), dtype=np.int32)
    with pytest.raises(ValueError, match=rf"^{param}: "):
        _core.aggregate(v, **kwargs)


def test_bad_values_raise_value_error_naming_them():
    with pytest.raises(ValueError, match=r"^values: "):
        _core.aggregate(np.zeros((4, 2)), aggregator="mean")  # float64
    with pytest.raises(ValueError, match=r"^values: "):
        _core.aggregate(np.zeros(4, np.int32), aggregator="mean")  # 1-D
    with pytest.raises(ValueError, match=r"^values: "):
        _core.aggregate(np.zeros((0, 3), np.int32), aggregator="mean")
    with pytest.raises(ValueError, match=r"^values: "):
        _core.trimmed_mean(np.zeros((4, 2), np.int64), 1)
    with pytest.raises(ValueError, match=r"^f: "):
        _core.trimmed_mean(np.zeros((4, 2), np.int32), 2)
    with pytest.raises(ValueError, match=r"^f: "):
        _core.trimmed_mean(np.zeros((4, 2), np.int32), -1)


def test_non_contiguous_input_is_accepted():
    v = make_values(np.random.default_rng(1), 50, 8, "full")
    view = v[::2, ::3]
    np.testing.assert_array_equal(
        _core.trimmed_mean(view, 5), ref_trimmed_mean(np.ascontiguousarray(view), 5)
    )
