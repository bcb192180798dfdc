"""edgeswarm._json.json_safe: the one cleaner behind every JSON the package writes."""

from __future__ import annotations

import json
import math

import numpy as np
from edgeswarm._json import json_safe


def test_non_finite_numbers_become_null_and_numpy_values_plain_python() -> None:
    value = {
        "nan": math.nan,
        "inf": np.float64(np.inf),
        "f32": np.float32(0.5),
        "i64": np.int64(7),
        "flag": np.bool_(True),
        "text": np.str_("Calm"),
        "array": np.array([1.0, np.nan]),
        "nested": ({"x": -math.inf}, [np.int8(3)]),
        1: None,
    }
    out = json_safe(value)
    assert out == {
        "nan": None,
        "inf": None,
        "f32": 0.5,
        "i64": 7,
        "flag": True,
        "text": "Calm",
        "array": [1.0, None],
        "nested": [{"x": None}, [3]],
        "1": None,
    }
    assert type(out["i64"]) is int and type(out["flag"]) is bool and type(out["text"]) is str
    json.dumps(out, allow_nan=False)  # strict JSON: raises if anything non-finite were left


def test_plain_values_pass_through_unchanged() -> None:
    for value in (0.25, 3, True, None, "drift"):
        assert json_safe(value) == value and type(json_safe(value)) is type(value)
