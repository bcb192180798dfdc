"""Q16.16 conversions and arithmetic against a NumPy int64 reference of the one rounding rule."""

from __future__ import annotations

import numpy as np
import pytest
from edgeswarm import _core
from hypothesis import given
from hypothesis import strategies as st

INT32 = st.integers(min_value=-(2**31), max_value=2**31 - 1)


def _round_div(num: int, den: int) -> int:
    """Round to nearest, ties away from zero (the project's one rule), in exact integers."""
    q, r = divmod(abs(num), den)
    if 2 * r >= den:
        q += 1
    return q if num >= 0 else -q


def _saturate(v: int) -> int:
    return max(-(2**31), min(2**31 - 1, v))


def test_conversion_matches_the_reference() -> None:
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [rng.normal(0, 100, 10_000), [0.5 / 65536, -0.5 / 65536, 1.5 / 65536, 1e9, -1e9, np.inf]]
    )
    raw = _core.to_q16(x)
    expected = np.clip(np.sign(x) * np.floor(np.abs(x) * 65536 + 0.5), -(2**31), 2**31 - 1).astype(np.int32)
    np.testing.assert_array_equal(raw, expected)
    np.testing.assert_array_equal(_core.from_q16(raw[:10_000]), raw[:10_000] / 65536)


def test_nan_is_rejected_by_name() -> None:
    with pytest.raises(ValueError, match="x: NaN"):
        _core.to_q16(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="raw"):
        _core.from_q16(np.array([1.0]))


@given(INT32, INT32)
def test_arithmetic_matches_exact_integers(a: int, b: int) -> None:
    assert _core.q16_add(a, b) == _saturate(a + b)
    assert _core.q16_sub(a, b) == _saturate(a - b)
    assert _core.q16_mul(a, b) == _saturate(_round_div(a * b, 65536))
    if b != 0:
        sign = -1 if b < 0 else 1
        assert _core.q16_div(a, b) == _saturate(_round_div(sign * a * 65536, abs(b)))
    else:
        assert _core.q16_div(a, b) == (2**31 - 1 if a > 0 else -(2**31) if a < 0 else 0)


def test_rng_streams_are_reproducible_and_distinct() -> None:
    a = _core.rng_normal(1, 2, 1000)
    np.testing.assert_array_equal(a, _core.rng_normal(1, 2, 1000))
    assert not np.array_equal(a, _core.rng_normal(1, 3, 1000))
    u = _core.rng_uniform(5, 0, 100_000)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.01
    assert abs(a.std() - 1.0) < 0.1
