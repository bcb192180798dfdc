"""The one JSON cleaner: for everything the package sends or stores as JSON (API, WebSocket, SQLite)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def json_safe(value: Any) -> Any:
    """`value` with NaN and infinities as None (JSON has neither), NumPy scalars and arrays as plain Python.

    Dict keys become strings, tuples and arrays become lists; anything else is returned as it is.
    """
    kind = type(value)
    if kind is float:  # the common cases first: this runs on every status poll and epoch message
        return value if math.isfinite(value) else None
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, np.generic):  # another NumPy scalar (str_, datetime64, ...)
        return json_safe(value.item())
    return value
