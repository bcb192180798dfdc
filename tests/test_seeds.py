"""One seed derivation: _core.stream_id against a Python reference, and the _seeds helpers on it."""

from __future__ import annotations

import pytest
from edgeswarm import _core, _seeds

M = 2**64


def splitmix64(state: int) -> tuple[int, int]:
    state = (state + 0x9E3779B97F4A7C15) % M
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % M
    return state, z ^ (z >> 31)


def stream_id_reference(a: int, b: int = 0, c: int = 0) -> int:
    # core::stream_id (cpp/include/edgeswarm/core/rng.hpp), step by step.
    _, h = splitmix64(a)
    _, h = splitmix64(h ^ b)
    _, h = splitmix64(h ^ c)
    return h


@pytest.mark.parametrize("ids", [(0,), (1, 2), (1, 2, 3), (M - 1, M - 1, M - 1), (12345, 0, 99)])
def test_stream_id_is_the_engines_derivation(ids: tuple[int, ...]) -> None:
    assert _core.stream_id(*ids) == stream_id_reference(*ids)


def test_derive_and_stream_are_stream_id() -> None:
    assert _seeds.derive(7, _seeds.DETECTOR, 3) == _core.stream_id(7, _seeds.DETECTOR, 3)
    assert _seeds.stream(_seeds.UPLINK, 5) == _core.stream_id(_seeds.UPLINK, 5)


def test_purposes_are_distinct_and_spell_their_names() -> None:
    purposes = [_seeds.ADMIN_DEVICE, _seeds.DETECTOR, _seeds.EMERGENCY_RAFT, _seeds.UPLINK]
    assert len(set(purposes)) == len(purposes)
    assert _seeds.UPLINK.to_bytes(8, "big") == b"UPLINK\0\0"


def test_parts_get_distinct_seeds() -> None:
    seeds = {_seeds.derive(1, p, k) for p in (_seeds.DETECTOR, _seeds.EMERGENCY_RAFT) for k in range(1000)}
    assert len(seeds) == 2000
    assert _seeds.derive(1, _seeds.DETECTOR, 0) != _seeds.derive(2, _seeds.DETECTOR, 0)


def test_text_id_tells_texts_apart() -> None:
    ids = ["a", "a\0", "b", "sensor-1", "sensor-10", "x" * 8, "x" * 9, "x" * 64]
    assert len({_seeds.text_id(t) for t in ids}) == len(ids)
    assert _seeds.text_id("sensor-1") == _seeds.text_id("sensor-1")


def test_out_of_range_identifiers_are_value_errors() -> None:
    with pytest.raises(ValueError, match=r"seed: -1 is out of range; allowed 0..2\^64-1"):
        _seeds.derive(-1, _seeds.DETECTOR)
    with pytest.raises(ValueError, match="index: 18446744073709551616 is out of range"):
        _seeds.stream(_seeds.UPLINK, M)
