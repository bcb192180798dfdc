"""The offline buffer: bounded, drop-oldest with counts, flush in order, utilisation."""

from __future__ import annotations

import pytest
from edgeswarm.mqtt.offline_buffer import DEFAULT_CAPACITY, OfflineBuffer


def _invariant(buffer: OfflineBuffer) -> None:
    assert buffer.pushed == len(buffer) + buffer.dropped + buffer.flushed


def test_default_capacity_is_the_issue_s_1000() -> None:
    assert DEFAULT_CAPACITY == 1000
    assert OfflineBuffer().capacity == 1000


def test_below_capacity_nothing_is_dropped_and_flush_keeps_order() -> None:
    buffer = OfflineBuffer(capacity=5)
    assert [buffer.push(i) for i in range(4)] == [False] * 4
    assert len(buffer) == 4 and buffer.utilisation == 0.8 and buffer.dropped == 0
    assert buffer.flush() == [0, 1, 2, 3]
    assert len(buffer) == 0 and not buffer and buffer.utilisation == 0.0 and buffer.flushed == 4
    _invariant(buffer)


def test_full_buffer_drops_the_oldest_and_counts_each_drop() -> None:
    buffer = OfflineBuffer(capacity=1000)
    dropped = [buffer.push({"seq": seq}) for seq in range(2500)]
    assert dropped == [False] * 1000 + [True] * 1500
    assert buffer.dropped == 1500 and len(buffer) == 1000 and buffer.utilisation == 1.0
    _invariant(buffer)
    # The newest 1,000 survive, oldest first.
    assert [m["seq"] for m in buffer.flush()] == list(range(1500, 2500))
    _invariant(buffer)


def test_partial_flush_hands_out_the_oldest_first_and_the_rest_stays() -> None:
    buffer = OfflineBuffer(capacity=3)
    for i in range(5):  # 0 and 1 dropped
        buffer.push(i)
    assert buffer.flush(limit=2) == [2, 3]
    buffer.push(5)
    assert buffer.flush(limit=10) == [4, 5]
    assert buffer.flush() == [] and buffer.flush(limit=0) == []
    assert buffer.stats() == {
        "buffered": 0,
        "capacity": 3,
        "utilisation": 0.0,
        "pushed": 6,
        "dropped": 2,
        "flushed": 4,
    }
    _invariant(buffer)


def test_zero_capacity_keeps_nothing_and_counts_every_message() -> None:
    buffer = OfflineBuffer(capacity=0)
    assert [buffer.push(i) for i in range(3)] == [True] * 3
    assert len(buffer) == 0 and buffer.dropped == 3 and buffer.utilisation == 1.0
    assert buffer.flush() == []
    _invariant(buffer)


def test_buffers_of_many_devices_are_independent() -> None:
    buffers = {device: OfflineBuffer(capacity=10) for device in range(100)}
    for device, buffer in buffers.items():
        for i in range(device):
            buffer.push((device, i))
    assert [b.dropped for b in buffers.values()] == [max(d - 10, 0) for d in range(100)]
    assert buffers[42].flush() == [(42, i) for i in range(32, 42)]
    assert len(buffers[41]) == 10


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: OfflineBuffer(capacity=-1), "capacity: -1 is out of range; allowed >= 0"),
        (lambda: OfflineBuffer(capacity=1.5), "capacity: expected an integer, got 1.5"),
        (lambda: OfflineBuffer(capacity="1000"), "capacity: expected an integer"),
        (lambda: OfflineBuffer().flush(limit=-2), "limit: -2 is out of range; allowed >= 0"),
        (lambda: OfflineBuffer().flush(limit=True), "limit: expected an integer"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(build, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()
