"""The linearizability checker: hand-made histories, bad input, and a brute-force cross-check."""

from __future__ import annotations

import math
import random
import time
from typing import Any

import pandas as pd
import pytest
from edgeswarm.linearizability import LinearizabilityResult, Operation, check_linearizable, parse_history


def op(
    client: int,
    kind: str,
    key: str,
    value: str | None,
    call: int,
    ret: int | None,
    status: str = "ok",
    output: str | None = None,
) -> dict[str, Any]:
    """One history record."""
    return {
        "client": client,
        "kind": kind,
        "key": key,
        "value": value,
        "call": call,
        "ret": ret,
        "status": status,
        "output": output,
    }


def put(client: int, key: str, value: str, call: int, ret: int | None, status: str = "ok") -> dict[str, Any]:
    return op(client, "put", key, value, call, ret, status)


def get(client: int, key: str, output: str | None, call: int, ret: int | None, status: str = "ok") -> dict:
    return op(client, "get", key, None, call, ret, status, output)


def check(history: Any, **kwargs: Any) -> LinearizabilityResult:
    return check_linearizable(history, timeout_s=None, **kwargs)


# ---------------------------------------------------------------------------------------------
# Brute force: every order of every admissible subset, on the whole history (no per-key split,
# no state cache, no read shortcut, no pruning of unknown writes).


def brute_force(history: list[dict[str, Any]]) -> bool:
    ops = [o for o in history if o["status"] == "ok" or (o["status"] == "unknown" and o["kind"] != "get")]
    ret = [o["ret"] if o["status"] == "ok" else math.inf for o in ops]
    required = sum(1 for o in ops if o["status"] == "ok")

    def apply(store: dict[str, str], o: dict[str, Any]) -> dict[str, str] | None:
        current = store.get(o["key"])
        if o["kind"] == "get":
            return store if o["output"] == current else None
        store = dict(store)
        if o["kind"] == "put":
            store[o["key"]] = o["value"]
        elif o["kind"] == "append":
            store[o["key"]] = (current or "") + o["value"]
        else:
            store.pop(o["key"], None)
        return store

    def extend(placed: list[int], store: dict[str, str], n_required: int) -> bool:
        if n_required == required:
            return True
        for j, o in enumerate(ops):
            if j in placed or any(ret[j] < ops[k]["call"] for k in placed):
                continue
            nxt = apply(store, o)
            if nxt is not None and extend([*placed, j], nxt, n_required + (o["status"] == "ok")):
                return True
        return False

    return extend([], {}, 0)


# ---------------------------------------------------------------------------------------------
# Random histories from a concurrent execution of a real sequential key-value store.


def random_history(
    rng: random.Random,
    *,
    n_ops: int,
    n_clients: int,
    keys: list[str],
    kinds: tuple[str, ...] = ("put", "get", "append", "delete"),
    p_unknown: float = 0.15,
    p_failed: float = 0.1,
    values: str | None = "abc",
) -> list[dict[str, Any]]:
    """Values are drawn from ``values``, or unique when it is None. Each client runs one operation at a time; an operation applied to the store takes effect
    at a random instant inside its interval (an unknown one at any instant after its call, or
    never); gets return what the store held at that instant."""
    clock = [rng.randrange(3) for _ in range(n_clients)]
    history: list[dict[str, Any]] = []
    effect: list[tuple[int, float, int]] = []  # (instant, tie-break, history index)
    for index in range(n_ops):
        c = rng.randrange(n_clients)
        call = clock[c] + rng.randrange(3)
        ret = call + rng.randrange(6)
        kind = rng.choice(kinds)
        key = rng.choice(keys)
        value = None
        if kind in ("put", "append"):
            value = rng.choice(values) if values else f"{index}."
        roll = rng.random()
        status = "unknown" if roll < p_unknown else "failed" if roll < p_unknown + p_failed else "ok"
        if status == "ok":
            effect.append((rng.randint(call, ret), rng.random(), index))
        elif status == "unknown":
            if rng.random() < 0.5:
                effect.append((call + rng.randrange(30), rng.random(), index))
            ret = None if rng.random() < 0.7 else ret
        clock[c] = (ret if ret is not None else call + 10) + 1
        history.append(op(c, kind, key, value, call, ret, status))
    store: dict[str, str] = {}
    for _, _, index in sorted(effect):
        o = history[index]
        if o["kind"] == "get":
            o["output"] = store.get(o["key"])
        elif o["kind"] == "put":
            store[o["key"]] = o["value"]
        elif o["kind"] == "append":
            store[o["key"]] = store.get(o["key"], "") + o["value"]
        else:
            store.pop(o["key"], None)
    return history


def corrupt(rng: random.Random, history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A copy of ``history`` with one random change to an output, a status, a value or a time."""
    history = [dict(o) for o in history]
    gets = [o for o in history if o["kind"] == "get"]
    how = rng.randrange(5)
    # Wrong outputs are the corruption most likely to break linearizability: make them common.
    o = rng.choice(gets) if how == 4 and gets else history[rng.randrange(len(history))]
    how = 0 if how == 4 else how
    if how == 0 and o["kind"] == "get":
        o["status"] = "ok"
        o["ret"] = o["ret"] if o["ret"] is not None else o["call"] + rng.randrange(6)
        o["output"] = rng.choice([None, "a", "b", "c", "ab", "z"])
    elif how == 1:
        o["status"] = rng.choice(["ok", "failed", "unknown"])
        if o["status"] == "ok" and o["ret"] is None:
            o["ret"] = o["call"] + rng.randrange(6)
    elif how == 2 and o["kind"] in ("put", "append"):
        o["value"] = rng.choice("abcz")
    else:
        o["call"] = max(0, o["call"] + rng.randrange(-8, 9))
        if o["ret"] is not None or o["status"] == "ok":
            o["ret"] = o["call"] + rng.randrange(6)
    return history


# ---------------------------------------------------------------------------------------------
# Hand-made histories


def test_empty_history_is_linearizable() -> None:
    result = check([])
    assert result.ok is True
    assert result.keys_checked == 0
    assert result.operations == 0


def test_sequential_history_is_linearizable() -> None:
    history = [
        put(0, "x", "a", 0, 10),
        get(1, "x", "a", 20, 30),
        op(0, "append", "x", "b", 40, 50),
        get(1, "x", "ab", 60, 70),
        op(0, "delete", "x", None, 80, 90),
        get(1, "x", None, 100, 110),
    ]
    result = check(history)
    assert result.ok is True
    assert result.keys_checked == 1
    assert result.failing_key is None


def test_stale_read_after_completed_write_is_not_linearizable() -> None:
    history = [
        put(0, "x", "a", 0, 10),
        put(0, "x", "b", 20, 30),
        get(1, "x", "a", 40, 50),
    ]
    result = check(history)
    assert result.ok is False
    assert result.failing_key == "x"
    assert result.linearization == (0, 1)
    assert "#2 read 'a' but the value is 'b'" in result.explanation
    assert "#2 client 1 get -> 'a' [40, 50] ok" in result.explanation


def test_read_concurrent_with_write_may_see_old_or_new_value() -> None:
    for seen in ("a", "b"):
        history = [
            put(0, "x", "a", 0, 10),
            put(0, "x", "b", 20, 50),
            get(1, "x", seen, 30, 40),
        ]
        assert check(history).ok is True


def test_concurrent_writes_observed_in_inconsistent_orders() -> None:
    # Both writes overlap both read pairs: one reader sees a then b, the other b then a.
    history = [
        put(0, "x", "a", 0, 100),
        put(1, "x", "b", 0, 100),
        get(2, "x", "a", 10, 20),
        get(2, "x", "b", 30, 40),
        get(3, "x", "b", 10, 20),
        get(3, "x", "a", 30, 40),
    ]
    assert check(history).ok is False
    # Each reader alone is fine.
    assert check(history[:4]).ok is True
    assert check(history[:2] + history[4:]).ok is True


def test_read_of_a_value_never_written() -> None:
    history = [put(0, "x", "a", 0, 10), get(1, "x", "z", 5, 15)]
    result = check(history)
    assert result.ok is False
    assert "#1 read 'z'" in result.explanation


def test_read_of_a_write_not_yet_called() -> None:
    history = [get(1, "x", "a", 0, 10), put(0, "x", "a", 20, 30)]
    result = check(history)
    assert result.ok is False
    assert result.linearization == ()
    # Overlapping by a single instant is concurrency, not order.
    assert check([get(1, "x", "a", 0, 20), put(0, "x", "a", 20, 30)]).ok is True


def test_read_of_absent_key_before_any_write() -> None:
    assert check([get(0, "x", None, 0, 5), put(1, "x", "a", 10, 20)]).ok is True
    assert check([put(1, "x", "a", 0, 5), get(0, "x", None, 10, 20)]).ok is False


def test_unknown_write_may_or_may_not_take_effect() -> None:
    base = [put(0, "x", "a", 0, 10), put(1, "x", "b", 20, None, status="unknown")]
    assert check([*base, get(2, "x", "a", 30, 40)]).ok is True
    assert check([*base, get(2, "x", "b", 30, 40)]).ok is True
    # It can take effect long after its client gave up, but only once.
    later = [*base, get(2, "x", "a", 1000, 1010), get(2, "x", "b", 2000, 2010)]
    assert check(later).ok is True
    flip_back = [*later, get(2, "x", "a", 3000, 3010)]
    assert check(flip_back).ok is False


def test_unknown_write_cannot_take_effect_before_its_call() -> None:
    history = [
        put(0, "x", "a", 0, 10),
        get(2, "x", "b", 20, 30),
        put(1, "x", "b", 40, None, status="unknown"),
    ]
    assert check(history).ok is False


def test_unknown_write_with_a_recorded_return_may_still_take_effect_later() -> None:
    history = [
        put(0, "x", "a", 0, 10),
        put(1, "x", "b", 20, 30, status="unknown"),
        get(2, "x", "a", 40, 50),
        get(2, "x", "b", 60, 70),
    ]
    assert check(history).ok is True


def test_failed_write_must_not_be_visible() -> None:
    history = [
        put(0, "x", "a", 0, 10),
        put(1, "x", "b", 20, 30, status="failed"),
        get(2, "x", "b", 40, 50),
    ]
    result = check(history)
    assert result.ok is False
    history[2]["output"] = "a"
    assert check(history).ok is True


def test_unknown_and_failed_gets_are_ignored() -> None:
    history = [
        put(0, "x", "a", 0, 10),
        get(1, "x", "nonsense", 20, None, status="unknown"),
        get(1, "x", "nonsense", 30, 40, status="failed"),
    ]
    assert check(history).ok is True


def test_keys_are_checked_independently() -> None:
    history = [
        put(0, "x", "a", 0, 10),
        put(0, "y", "b", 0, 10),
        get(1, "x", "a", 20, 30),
        get(1, "y", "b", 20, 30),
        get(1, "x", "b", 40, 50),  # x never held b: only key x fails
    ]
    result = check(history)
    assert result.ok is False
    assert result.failing_key == "x"
    # A value written to one key is never visible through another.
    assert check(history[:4]).ok is True
    assert check([put(0, "y", "a", 0, 10), get(1, "x", "a", 20, 30)]).ok is False


def test_many_keys_each_linearizable() -> None:
    history = [put(c, f"k{i}", str(i), 10 * i, 10 * i + 5) for i, c in enumerate([0, 1, 2] * 10)]
    history += [get(3, f"k{i}", str(i), 400, 500) for i in range(30)]
    result = check(history)
    assert result.ok is True
    assert result.keys_checked == 30
    assert result.operations == 60


def test_append_order_is_observed() -> None:
    history = [
        op(0, "append", "x", "a", 0, 100),
        op(1, "append", "x", "b", 0, 100),
        get(2, "x", "ba", 110, 120),
    ]
    assert check(history).ok is True
    history[2]["output"] = "ab"
    assert check(history).ok is True
    history[2]["output"] = "aa"
    assert check(history).ok is False


def test_history_of_operation_objects_and_dataframe() -> None:
    records = [put(0, "x", "a", 0, 10), get(1, "x", "a", 20, 30), put(1, "x", "b", 40, None, "unknown")]
    objects = parse_history(records)
    assert objects[0] == Operation(client=0, kind="put", key="x", value="a", call=0, ret=10, status="ok")
    assert check(objects).ok is True
    frame = pd.DataFrame(records)
    assert frame["ret"].dtype.kind == "f"  # a None in an int column becomes NaN
    assert parse_history(frame) == objects
    assert check(frame).ok is True
    records[1]["output"] = "b"
    assert check(pd.DataFrame(records)).ok is False


def test_budget_exhaustion_gives_no_answer() -> None:
    history = random_history(random.Random(5), n_ops=60, n_clients=4, keys=["x"], p_unknown=0.0)
    assert check(history).ok is True
    result = check(history, max_states=3)
    assert result.ok is None
    assert result.failing_key is None
    assert result.keys_checked == 0
    assert "budget" in result.explanation


def test_unknown_append_observed_in_the_middle() -> None:
    history = [
        op(0, "append", "x", "a", 0, 10),
        op(1, "append", "x", "b", 20, None, status="unknown"),
        op(0, "append", "x", "c", 30, 40),
        get(2, "x", "abc", 50, 60),
    ]
    assert check(history).ok is True
    history[3]["output"] = "ac"
    assert check(history).ok is True
    history[3]["output"] = "acb"  # b was called before c returned, but c came in between
    assert check(history).ok is True
    history[3]["output"] = "bac"  # b was called after a returned
    assert check(history).ok is False


def test_unknown_delete_then_append() -> None:
    history = [
        put(0, "x", "a", 0, 10),
        op(1, "delete", "x", None, 20, None, status="unknown"),
        op(0, "append", "x", "b", 30, 40),
        get(2, "x", "b", 50, 60),
    ]
    assert check(history).ok is True
    history[3]["output"] = "ab"
    assert check(history).ok is True
    history[3]["output"] = "ba"
    assert check(history).ok is False


def test_unknown_puts_of_the_same_value_each_take_effect_at_most_once() -> None:
    history = [
        put(0, "x", "a", 0, 10),
        put(1, "x", "b", 20, None, status="unknown"),
        get(2, "x", "b", 30, 40),
        put(0, "x", "c", 50, 60),
        get(2, "x", "b", 70, 80),
    ]
    assert check(history).ok is False
    history.insert(2, put(3, "x", "b", 25, None, status="unknown"))
    assert check(history).ok is True


def test_get_must_extend_value_when_no_reset_can_intervene() -> None:
    history = [
        put(0, "x", "a", 0, 10),
        op(1, "append", "x", "b", 20, 100),
        get(2, "x", "ab", 30, 40),
        get(2, "x", "a", 50, 60),  # the append already showed
        put(3, "x", "a", 70, 200),
    ]
    assert check(history).ok is False
    history[4]["call"] = 45  # now a put may come between the two gets
    assert check(history).ok is True


# ---------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"client": None}, r"history\[1\]\.client"),
        ({"client": True}, r"history\[1\]\.client"),
        ({"kind": "cas"}, r"history\[1\]\.kind: 'cas' is not one of"),
        ({"status": "maybe"}, r"history\[1\]\.status: 'maybe'"),
        ({"key": 3}, r"history\[1\]\.key"),
        ({"value": 3}, r"history\[1\]\.value"),
        ({"kind": "get"}, r"history\[1\]\.value: 'b' is not allowed; a get takes None"),
        ({"call": 1.5}, r"history\[1\]\.call"),
        ({"ret": 5}, r"history\[1\]\.ret: 5 is before call 20"),
        ({"ret": None}, r"history\[1\]\.ret: None is not allowed for an ok operation"),
        ({"ret": "30"}, r"history\[1\]\.ret"),
    ],
)
def test_bad_field_names_field_and_index(change: dict[str, Any], message: str) -> None:
    history = [put(0, "x", "a", 0, 10), {**put(1, "x", "b", 20, 30), **change}]
    with pytest.raises(ValueError, match=message):
        check(history)


@pytest.mark.parametrize("name", ["client", "kind", "key", "value", "call", "ret", "status"])
def test_missing_field_names_field_and_index(name: str) -> None:
    record = put(1, "x", "b", 20, 30)
    del record[name]
    with pytest.raises(ValueError, match=rf"history\[2\]\.{name}: missing field"):
        check([put(0, "x", "a", 0, 10), put(0, "x", "a", 0, 10), record])


def test_ok_get_needs_output_field() -> None:
    record = get(1, "x", None, 20, 30)
    del record["output"]
    with pytest.raises(ValueError, match=r"history\[0\]\.output: missing field"):
        check([record])
    # Outputs matter only for ok gets.
    record["status"] = "unknown"
    assert check([record]).ok is True
    with pytest.raises(ValueError, match=r"history\[0\]\.output: 7"):
        check([get(1, "x", 7, 0, 1)])  # type: ignore[arg-type]


def test_bad_history_and_options() -> None:
    with pytest.raises(ValueError, match=r"history\[0\]: expected a mapping"):
        check([("put", "x")])
    with pytest.raises(ValueError, match="history: expected a sequence"):
        check(put(0, "x", "a", 0, 1))
    with pytest.raises(ValueError, match=r"history\.status: missing column"):
        check(pd.DataFrame([put(0, "x", "a", 0, 1)]).drop(columns="status"))
    with pytest.raises(ValueError, match="model: 'queue'"):
        check_linearizable([], model="queue")
    with pytest.raises(ValueError, match="timeout_s: -1"):
        check_linearizable([], timeout_s=-1)
    with pytest.raises(ValueError, match="max_states: -1"):
        check_linearizable([], max_states=-1)


# ---------------------------------------------------------------------------------------------
# Random histories against the brute force


KIND_MIXES = [
    ("put", "get", "append", "delete"),
    ("put", "get"),
    ("append", "get"),
    ("put", "get", "delete"),
    ("put", "append", "get"),
]


def test_random_executions_are_linearizable_and_agree_with_brute_force() -> None:
    rng = random.Random(2024)
    for _ in range(400):
        history = random_history(
            rng,
            n_ops=rng.randint(1, 7),
            n_clients=rng.randint(1, 3),
            keys=["x", "y"][: rng.randint(1, 2)],
            kinds=rng.choice(KIND_MIXES),
            p_unknown=rng.choice([0.0, 0.15, 0.4]),
        )
        assert brute_force(history), history
        assert check(history).ok is True, history


def test_corrupted_executions_agree_with_brute_force() -> None:
    rng = random.Random(7)
    verdicts = {True: 0, False: 0}
    for _ in range(2500):
        history = random_history(
            rng,
            n_ops=rng.randint(2, 7),
            n_clients=rng.randint(1, 3),
            keys=["x", "y"][: rng.randint(1, 2)],
            kinds=rng.choice(KIND_MIXES),
            p_unknown=rng.choice([0.0, 0.15, 0.4]),
            p_failed=rng.choice([0.0, 0.1]),
            values=rng.choice(["ab", "abc", None]),
        )
        for _ in range(rng.randint(1, 2)):
            history = corrupt(rng, history)
        expected = brute_force(history)
        result = check(history)
        assert result.ok is expected, history
        if not expected:
            assert result.failing_key is not None
        verdicts[expected] += 1
    # Both outcomes are exercised often.
    assert verdicts[False] >= 400, verdicts
    assert verdicts[True] >= 400, verdicts


def test_larger_random_executions_are_linearizable() -> None:
    rng = random.Random(99)
    for _ in range(20):
        history = random_history(rng, n_ops=300, n_clients=5, keys=["a", "b", "c"], values="abcdefgh")
        result = check(history)
        assert result.ok is True
        assert result.keys_checked == len({o["key"] for o in history if o["status"] != "failed"})


def test_checker_is_deterministic() -> None:
    rng = random.Random(3)
    history = corrupt(rng, random_history(rng, n_ops=200, n_clients=4, keys=["a", "b"]))
    first, second = check(history), check(history)
    assert first == second


def perf_history() -> list[dict[str, Any]]:
    """2,000 operations over 20 keys from 5 clients, 10 % unknown, 5 % failed."""
    keys = [f"k{i}" for i in range(20)]
    return random_history(
        random.Random(11),
        n_ops=2000,
        n_clients=5,
        keys=keys,
        p_unknown=0.1,
        p_failed=0.05,
        values="abcdefghij",
    )


def test_perf_history_2000_ops(capsys: pytest.CaptureFixture[str]) -> None:
    history = perf_history()
    start = time.perf_counter()
    result = check(history)
    elapsed = time.perf_counter() - start
    assert result.ok is True
    assert result.keys_checked == 20
    with capsys.disabled():
        print(f"\n2,000 ops / 20 keys / 5 clients: {elapsed * 1e3:.1f} ms, {result.states_explored} states")
