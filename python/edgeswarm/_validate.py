"""Small argument checks shared by the facades: clear ValueErrors that name the parameter."""

from __future__ import annotations

import math
import numbers


def require_int(name: str, value: object, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Returns `value` as int, or raises ValueError naming `name` and what is allowed."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name}: expected an integer, got {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name}: {value} is out of range; allowed >= {minimum}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name}: {value} is out of range; allowed <= {maximum}")
    return value


def require_float(name: str, value: object, *, minimum: float | None = None) -> float:
    """Returns `value` as a finite float, or raises ValueError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name}: expected a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name}: {value} is not finite")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name}: {value} is out of range; allowed >= {minimum}")
    return value


def require_choice(name: str, value: object, allowed: tuple[str, ...]) -> str:
    """Returns `value` if it is one of `allowed`, or raises ValueError listing them."""
    if value not in allowed:
        raise ValueError(f"{name}: {value!r} is not one of {', '.join(allowed)}")
    return str(value)
