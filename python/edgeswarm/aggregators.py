"""Byzantine-tolerant aggregation of sensor reports.

Every rule runs in the C++ engine on Q16.16 fixed point with exact integer
arithmetic and one rounding rule (nearest, ties away from zero), so results are
bit-reproducible and do not depend on the order of the reports.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from edgeswarm import _core

__all__ = ["AGGREGATORS", "aggregate"]

#: Names accepted by ``aggregate(..., aggregator=...)``.
AGGREGATORS: tuple[str, ...] = (
    "mean",
    "trimmed_mean",
    "median",
    "reputation_trimmed_mean",
    "krum",
    "multi_krum",
    "centered_clipping",
)


def _as_raw(x: ArrayLike | None, name: str, raw: bool) -> np.ndarray | None:
    """The int32 raw Q16.16 form of ``x``: as given in raw mode, converted from reals otherwise."""
    if x is None:
        return None
    a = np.asarray(x)
    if raw:
        return a  # the engine checks dtype and shape, naming `name`
    if a.dtype.kind not in "fiu":
        raise ValueError(f"{name}: expected real numbers, got dtype {a.dtype}")
    return _core.to_q16(a.astype(np.float64, copy=False))


def aggregate(
    values: ArrayLike,
    *,
    aggregator: str = "trimmed_mean",
    trim: float = 0.2,
    trim_count: int = -1,
    weights: ArrayLike | None = None,
    center: ArrayLike | None = None,
    krum_f: int = -1,
    multi_krum_m: int = -1,
    clip_tau: float = 0.1,
    clip_iters: int = 3,
) -> np.ndarray:
    """Aggregates n reports of d values into one vector of d values.

    ``values`` is an (n, d) array (1-D input is taken as (n, 1)). An int32 array
    is raw Q16.16 and the result is int32; any other real array is converted to
    Q16.16 (saturating, NaN rejected) and the result is float64. ``weights``
    (reputations in [0, 1], raw int32 in raw mode) and ``center`` (d values)
    follow the same convention. See ``AGGREGATORS`` for the rule names; the
    options are those of ``edgeswarm._core.aggregate``. Bad input raises
    ValueError naming the parameter.
    """
    arr = np.asarray(values)
    raw = arr.dtype == np.int32
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if not raw and arr.dtype.kind != "f":
        raise ValueError(
            f"values: expected int32 raw Q16.16 or a float array, got dtype {arr.dtype}"
            " (use .astype(float) for real numbers)"
        )
    q = arr if raw else _as_raw(arr, "values", raw=False)
    out = _core.aggregate(
        q,
        aggregator=aggregator,
        trim=trim,
        trim_count=trim_count,
        weights=_as_raw(weights, "weights", raw),
        center=_as_raw(center, "center", raw),
        krum_f=krum_f,
        multi_krum_m=multi_krum_m,
        clip_tau=clip_tau,
        clip_iters=clip_iters,
    )
    return out if raw else _core.from_q16(out)
