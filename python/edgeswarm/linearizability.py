"""Linearizability checker for recorded client histories against a key-value model.

History format
--------------
A history is a sequence of operations (a list of :class:`Operation`, a list of mappings
with the same field names, or a pandas DataFrame with those columns). Each operation has:

``client`` (int)
    Who issued it. Informational only: a client may have operations in flight at once.
``kind`` (str)
    ``"put"`` (set the key to ``value``), ``"get"`` (read the key), ``"append"``
    (concatenate ``value`` to the current value; an absent key counts as ``""``) or
    ``"delete"`` (make the key absent).
``key`` (str)
    The key the operation touches; every operation touches exactly one key.
``value`` (str or None)
    The argument: a str for put and append, None for get and delete.
``call`` (int)
    Simulated microseconds when the client invoked the operation.
``ret`` (int or None)
    Simulated microseconds when the client received the answer (``ret >= call``). Required
    for ``"ok"`` operations; ignored (treated as +infinity) for ``"unknown"`` ones.
``status`` (str)
    ``"ok"``: the operation took effect exactly once, at some instant in ``[call, ret]``.
    ``"failed"``: it definitely did not take effect; it is dropped.
    ``"unknown"`` (timeout, crash): it may have taken effect once at any instant after
    ``call``, or never. An unknown get carries no result and is dropped.
``output`` (str or None)
    What an ok get returned: the value, or None when the key was absent. The field must be
    present for an ok get (a mapping without it is an error); it is ignored for other kinds.

All keys start absent. Two operations are ordered in real time only when one returned
strictly before the other was called (``a.ret < b.call``); equal instants count as
concurrent, so a tie never produces a false alarm.

Algorithm
---------
The search of Wing & Gong with Lowe's state cache, as popularised by Porcupine, written for
this project: the KV model is P-compositional, so each key is checked on its own. For a key,
a depth-first search extends a linearization one operation at a time; an operation may go
next only if no operation still outside the linearization returned before it was called.
Every (set of linearized operations, value) pair is explored at most once. The search
succeeds once every ok operation is linearized. Shortcuts, each of which keeps at least one
linearization if any exists:

- A get that agrees with the current value is linearized at once, without branching: it
  changes nothing and only lifts real-time constraints.
- A pending get that returned before any pending put or delete was called can only see
  appends on top of the current value; if its output does not extend it, this branch dies.
- Unknown operations never constrain others and may be left out. A linearization that uses
  an unknown write whose effect no get observes stays valid without it, so an unknown write
  is tried only when what may go right after it observes it (a get reading the new value,
  or an append whose result begins some get's output), and unknown writes no get could
  observe are dropped before the search.
- Unknown writes with the same kind and value are interchangeable: the earliest-called one
  not yet used is the only one tried.

Values drawn from a small alphabet on one hot key with puts, appends and deletes mixed make
the search hard (many orders give the same reads); unique written values, as a test harness
naturally produces, keep it fast.

``check_linearizable`` returns ``ok=None`` when its time (or state) budget runs out before
an answer: it never claims a history linearizable without finishing the search.
"""

from __future__ import annotations

import bisect
import math
import numbers
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "KINDS",
    "MODELS",
    "STATUSES",
    "LinearizabilityResult",
    "Operation",
    "check_linearizable",
    "parse_history",
]

#: Operation kinds of the key-value model.
KINDS: tuple[str, ...] = ("put", "get", "append", "delete")
#: Outcomes a client can record for an operation.
STATUSES: tuple[str, ...] = ("ok", "failed", "unknown")
#: Models the checker knows.
MODELS: tuple[str, ...] = ("kv",)

_FIELDS: tuple[str, ...] = ("client", "kind", "key", "value", "call", "ret", "status", "output")
_MISSING = object()
# Budget checks read the clock once per this many explored states.
_CLOCK_EVERY = 512
# Operations listed in an explanation before it is cut short.
_EXPLAIN_OPS = 40


@dataclass(frozen=True)
class Operation:
    """One client operation of a recorded history (see the module docstring for the fields)."""

    client: int
    kind: str
    key: str
    value: str | None
    call: int
    ret: int | None
    status: str
    output: str | None = None

    @classmethod
    def from_dict(cls, record: Mapping[str, Any], *, index: int = 0) -> Operation:
        """Builds and validates an operation from a mapping; errors name ``history[index].field``."""
        if not isinstance(record, Mapping):
            raise ValueError(
                f"history[{index}]: expected a mapping or Operation, got {type(record).__name__}"
            )
        fields: dict[str, Any] = {}
        for name in _FIELDS:
            value = record.get(name, _MISSING)
            if value is _MISSING:
                if name == "output":
                    # Only an ok get needs its output; _validated says so when it is missing.
                    fields[name] = _MISSING
                    continue
                raise ValueError(f"history[{index}].{name}: missing field")
            fields[name] = _from_frame_cell(value)
        return _validated(fields, index)

    def to_dict(self) -> dict[str, Any]:
        """The operation as a plain dict with the history field names."""
        return {name: getattr(self, name) for name in _FIELDS}


@dataclass(frozen=True)
class LinearizabilityResult:
    """Outcome of :func:`check_linearizable`.

    ``ok`` is True (linearizable), False (not: ``failing_key`` and ``explanation`` say where
    and why) or None (the budget ran out first). ``keys_checked`` counts keys whose search
    finished; ``operations`` counts the operations given; ``linearization`` lists, for the
    failing key, the history indices of the longest linearizable prefix found.
    """

    ok: bool | None
    keys_checked: int
    failing_key: str | None
    explanation: str
    operations: int
    linearization: tuple[int, ...] = ()
    states_explored: int = 0


def parse_history(history: Any) -> list[Operation]:
    """Validated operations of ``history`` (Operations, mappings, or a pandas DataFrame)."""
    records = _records(history)
    ops: list[Operation] = []
    for index, record in enumerate(records):
        if isinstance(record, Operation):
            ops.append(_validated(record.to_dict(), index))
        else:
            ops.append(Operation.from_dict(record, index=index))
    return ops


def check_linearizable(
    history: Any,
    *,
    model: str = "kv",
    timeout_s: float | None = 10.0,
    max_states: int | None = None,
) -> LinearizabilityResult:
    """Whether ``history`` is linearizable against ``model`` (only ``"kv"``).

    ``timeout_s`` bounds the wall-clock time of the search (None: no bound) and
    ``max_states`` the number of search states explored over all keys (None: no bound);
    when either runs out the result has ``ok=None``. Keys are checked in sorted order and
    the first non-linearizable key is reported.
    """
    if model not in MODELS:
        raise ValueError(f"model: {model!r} is not one of {', '.join(MODELS)}")
    if timeout_s is not None and not _is_number(timeout_s, numbers.Real):
        raise ValueError(f"timeout_s: {timeout_s!r} is not allowed; expected a number >= 0 or None")
    if max_states is not None and not _is_number(max_states, numbers.Integral):
        raise ValueError(f"max_states: {max_states!r} is not allowed; expected an integer >= 0 or None")
    ops = parse_history(history)
    budget = _Budget(None if timeout_s is None else float(timeout_s), max_states)

    per_key: dict[str, list[_KeyOp]] = {}
    for index, op in enumerate(ops):
        if op.status == "failed" or (op.status == "unknown" and op.kind == "get"):
            continue
        per_key.setdefault(op.key, []).append(_KeyOp.of(op, index))

    keys_checked = 0
    for key in sorted(per_key):
        search = _KeySearch(_prune_unobservable(per_key[key]), budget)
        verdict = search.run()
        if verdict is None:
            return LinearizabilityResult(
                ok=None,
                keys_checked=keys_checked,
                failing_key=None,
                explanation=(
                    f"budget ran out after {budget.states} states while checking key {key!r} "
                    f"({len(per_key[key])} operations); {keys_checked} of {len(per_key)} keys checked"
                ),
                operations=len(ops),
                states_explored=budget.states,
            )
        keys_checked += 1
        if not verdict:
            return LinearizabilityResult(
                ok=False,
                keys_checked=keys_checked,
                failing_key=key,
                explanation=search.explain(key),
                operations=len(ops),
                linearization=tuple(search.ops[i].index for i in search.best_path),
                states_explored=budget.states,
            )
    return LinearizabilityResult(
        ok=True,
        keys_checked=keys_checked,
        failing_key=None,
        explanation=f"linearizable: {len(per_key)} keys, {len(ops)} operations",
        operations=len(ops),
        states_explored=budget.states,
    )


# ---------------------------------------------------------------------------------------------
# Input


def _is_number(value: Any, kind: type) -> bool:
    """Whether ``value`` is a non-negative number of ``kind`` (bools refused, NaN refused)."""
    return not isinstance(value, bool) and isinstance(value, kind) and value >= 0


def _records(history: Any) -> list[Any]:
    """The rows of ``history`` as a list of Operations or mappings."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        pd = None
    if pd is not None and isinstance(history, pd.DataFrame):
        missing = [name for name in _FIELDS if name != "output" and name not in history.columns]
        if missing:
            raise ValueError(f"history.{missing[0]}: missing column")
        return history.to_dict("records")
    if isinstance(history, (str, bytes, Mapping)) or not isinstance(history, Iterable):
        raise ValueError(
            f"history: expected a sequence of operations or a DataFrame, got {type(history).__name__}"
        )
    return list(history)


def _from_frame_cell(value: Any) -> Any:
    """NaN (how pandas stores a missing value) as None; NumPy scalars as Python scalars."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item") and type(value).__module__ == "numpy":
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    return value


def _time(name: str, value: Any, index: int) -> int:
    """A time field as int; integral floats (a pandas column with gaps) are accepted."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"history[{index}].{name}: {value!r} is not an integer time in microseconds")
    return int(value)


def _validated(fields: dict[str, Any], index: int) -> Operation:
    """The Operation for ``fields`` after checking every field, or ValueError naming it."""
    where = f"history[{index}]"
    client = fields["client"]
    if isinstance(client, float) and client.is_integer():
        client = int(client)
    if isinstance(client, bool) or not isinstance(client, numbers.Integral):
        raise ValueError(f"{where}.client: {client!r} is not an integer")
    kind = fields["kind"]
    if kind not in KINDS:
        raise ValueError(f"{where}.kind: {kind!r} is not one of {', '.join(KINDS)}")
    status = fields["status"]
    if status not in STATUSES:
        raise ValueError(f"{where}.status: {status!r} is not one of {', '.join(STATUSES)}")
    key = fields["key"]
    if not isinstance(key, str):
        raise ValueError(f"{where}.key: {key!r} is not a str")
    value = fields["value"]
    if kind in ("put", "append"):
        if not isinstance(value, str):
            raise ValueError(f"{where}.value: {value!r} is not allowed; a {kind} needs a str")
    elif value is not None:
        raise ValueError(f"{where}.value: {value!r} is not allowed; a {kind} takes None")
    call = _time("call", fields["call"], index)
    ret = fields["ret"]
    if ret is None:
        if status == "ok":
            raise ValueError(f"{where}.ret: None is not allowed for an ok operation; expected an int")
    else:
        ret = _time("ret", ret, index)
        if ret < call:
            raise ValueError(f"{where}.ret: {ret} is before call {call}; allowed ret >= call")
    output = fields["output"]
    if kind == "get" and status == "ok":
        if output is _MISSING:
            raise ValueError(f"{where}.output: missing field; an ok get needs its output (None if absent)")
        if output is not None and not isinstance(output, str):
            raise ValueError(f"{where}.output: {output!r} is not allowed; expected a str or None")
    elif output is _MISSING:
        output = None
    return Operation(
        client=int(client),
        kind=str(kind),
        key=key,
        value=value,
        call=call,
        ret=ret,
        status=str(status),
        output=output,
    )


# ---------------------------------------------------------------------------------------------
# Search


@dataclass(frozen=True)
class _KeyOp:
    """An operation as the search sees it: its history index, interval and obligation."""

    index: int
    client: int
    kind: str
    value: str | None
    output: str | None
    call: int
    ret: float  # +inf for unknown operations
    required: bool

    @classmethod
    def of(cls, op: Operation, index: int) -> _KeyOp:
        required = op.status == "ok"
        return cls(
            index=index,
            client=op.client,
            kind=op.kind,
            value=op.value,
            output=op.output,
            call=op.call,
            ret=op.ret if required else math.inf,
            required=required,
        )

    def describe(self) -> str:
        """One line for an explanation, e.g. ``#4 client 1 get -> 'a' [10, 30] ok``."""
        if self.kind == "get":
            what = f"get -> {self.output!r}"
        elif self.kind == "delete":
            what = "delete"
        else:
            what = f"{self.kind} {self.value!r}"
        end = "inf" if math.isinf(self.ret) else str(self.ret)
        status = "ok" if self.required else "unknown"
        return f"#{self.index} client {self.client} {what} [{self.call}, {end}] {status}"


def _step(op: _KeyOp, state: str | None) -> tuple[bool, str | None]:
    """The KV model for one key: whether ``op`` is legal in ``state``, and the next state."""
    if op.kind == "get":
        return op.output == state, state
    if op.kind == "put":
        return True, op.value
    if op.kind == "append":
        return True, (state or "") + (op.value or "")
    return True, None


def _prune_unobservable(ops: list[_KeyOp]) -> list[_KeyOp]:
    """``ops`` without the unknown writes whose effect no ok get could have observed.

    Such a write can be left out of any linearization: every later state it touches is
    overwritten or never read, so the outputs stay legal without it.
    """
    outputs = [op.output for op in ops if op.kind == "get"]
    has_append = any(op.kind == "append" for op in ops)

    def observable(op: _KeyOp) -> bool:
        if op.required:
            return True
        if op.kind == "delete":
            # After a delete an append starts afresh, which any read could show.
            return has_append or None in outputs
        value = op.value or ""
        if op.kind == "put" and has_append:
            # A value built on top of a put starts with it.
            return any(out is not None and out.startswith(value) for out in outputs)
        if op.kind == "append":
            # A value built on top of an append contains it.
            return any(out is not None and value in out for out in outputs)
        return value in outputs

    return [op for op in ops if observable(op)]


class _Budget:
    """States explored so far, against an optional count and an optional wall-clock deadline."""

    def __init__(self, timeout_s: float | None, max_states: int | None) -> None:
        self.deadline = None if timeout_s is None else time.monotonic() + timeout_s
        self.max_states = max_states
        self.states = 0

    def spend(self) -> bool:
        """Counts one state; False once the budget is exhausted."""
        self.states += 1
        if self.max_states is not None and self.states > self.max_states:
            return False
        if self.deadline is not None and self.states % _CLOCK_EVERY == 0:
            return time.monotonic() <= self.deadline
        return True


class _KeySearch:
    """Depth-first search for a linearization of the operations of one key."""

    def __init__(self, ops: list[_KeyOp], budget: _Budget) -> None:
        # Sorted by call so that "called no later than t" is a prefix; index breaks ties.
        self.ops = sorted(ops, key=lambda op: (op.call, op.ret, op.index))
        self.calls = [op.call for op in self.ops]
        self.by_ret = sorted(
            (i for i, op in enumerate(self.ops) if op.required), key=lambda i: (self.ops[i].ret, i)
        )
        # For an unknown write, the unknown write with the same effect called just before it.
        self.same_before = [-1] * len(self.ops)
        last: dict[tuple[str, str | None], int] = {}
        for i, op in enumerate(self.ops):
            if not op.required:
                self.same_before[i] = last.get((op.kind, op.value), -1)
                last[(op.kind, op.value)] = i
        self.resets = [i for i, op in enumerate(self.ops) if op.kind in ("put", "delete")]
        self.has_append = any(op.kind == "append" for op in self.ops)
        self.outputs = sorted(op.output for op in self.ops if op.kind == "get" and op.output is not None)
        self.budget = budget
        self.best_path: list[int] = []

    def _children(
        self, done: bytearray, state: str | None, cursor: tuple[int, int, int]
    ) -> tuple[list[tuple[int, str | None]], tuple[int, int, int]]:
        """Operations worth trying next from (done, state), and the advanced scan cursor.

        The cursor holds the first operation not yet linearized in call order, in return
        order among ok operations, and in call order among puts and deletes; along a search
        path each only moves forward.
        """
        ops, n = self.ops, len(self.ops)
        call_ptr, ret_ptr, reset_ptr = cursor
        while call_ptr < n and done[call_ptr]:
            call_ptr += 1
        while ret_ptr < len(self.by_ret) and done[self.by_ret[ret_ptr]]:
            ret_ptr += 1
        while reset_ptr < len(self.resets) and done[self.resets[reset_ptr]]:
            reset_ptr += 1
        cursor = (call_ptr, ret_ptr, reset_ptr)
        # Only an operation called no later than the earliest pending return may go next.
        limit = ops[self.by_ret[ret_ptr]].ret if ret_ptr < len(self.by_ret) else math.inf
        # A get that returned before any pending put or delete was called sees only appends
        # on top of the current value.
        reset_call = ops[self.resets[reset_ptr]].call if reset_ptr < len(self.resets) else math.inf
        hi = bisect.bisect_right(self.calls, limit)
        writes: list[tuple[int, str | None]] = []
        unknown: list[int] = []
        read_outputs: set[str | None] = set()
        appends: list[int] = []
        for i in range(call_ptr, hi):
            if done[i]:
                continue
            op = ops[i]
            if op.kind == "get":
                if op.output == state:
                    return [(i, state)], cursor
                if op.ret < reset_call and not self._may_extend(state, op.output):
                    return [], cursor
                read_outputs.add(op.output)
                continue
            if op.kind == "append":
                appends.append(i)
            if op.required:
                writes.append((i, _step(op, state)[1]))
            else:
                unknown.append(i)
        for i in unknown:
            before = self.same_before[i]
            if before >= 0 and not done[before]:
                continue
            nxt = _step(ops[i], state)[1]
            # Worth trying only if what follows at once observes it: a get reading the new
            # value, or an append whose result starts a value some get returned.
            if nxt in read_outputs or any(
                j != i and self._read_prefix((nxt or "") + (ops[j].value or "")) for j in appends
            ):
                writes.append((i, nxt))
        return writes, cursor

    def _may_extend(self, state: str | None, output: str | None) -> bool:
        """Whether appends alone can turn ``state`` into ``output``."""
        if state is None:
            return True
        return self.has_append and output is not None and output.startswith(state)

    def _read_prefix(self, prefix: str) -> bool:
        """Whether some ok get of the key returned a value starting with ``prefix``."""
        outputs = self.outputs
        j = bisect.bisect_left(outputs, prefix)
        return j < len(outputs) and outputs[j].startswith(prefix)

    def run(self) -> bool | None:
        """True if linearizable, False if not, None if the budget ran out."""
        n_required = len(self.by_ret)
        if n_required == 0:
            return True
        done = bytearray(len(self.ops))
        visited: set[tuple[int, str | None]] = {(0, None)}
        path: list[int] = []
        required_done = 0
        children, cursor = self._children(done, None, (0, 0, 0))
        # Frame: mask, state, children, next child, scan cursor.
        stack: list[list[Any]] = [[0, None, children, 0, cursor]]
        while stack:
            frame = stack[-1]
            mask, _, children, pos, cursor = frame
            if pos == len(children):
                stack.pop()
                if path:
                    i = path.pop()
                    done[i] = 0
                    required_done -= self.ops[i].required
                continue
            frame[3] = pos + 1
            i, state = children[pos]
            child = (mask | (1 << i), state)
            if child in visited:
                continue
            visited.add(child)
            if not self.budget.spend():
                return None
            path.append(i)
            done[i] = 1
            required_done += self.ops[i].required
            if len(path) > len(self.best_path):
                self.best_path = path.copy()
            if required_done == n_required:
                self.best_path = path.copy()
                return True
            grandchildren, cursor = self._children(done, state, cursor)
            stack.append([child[0], state, grandchildren, 0, cursor])
        return False

    def explain(self, key: str) -> str:
        """A short witness: the key's operations, the longest prefix found and what blocks it."""
        ops = self.ops
        lines = [f"key {key!r} is not linearizable ({len(ops)} operations in call order):"]
        for op in ops[:_EXPLAIN_OPS]:
            lines.append(f"  {op.describe()}")
        if len(ops) > _EXPLAIN_OPS:
            lines.append(f"  ... {len(ops) - _EXPLAIN_OPS} more")
        state: str | None = None
        done = bytearray(len(ops))
        for i in self.best_path:
            state = _step(ops[i], state)[1]
            done[i] = 1
        prefix = ", ".join(f"#{ops[i].index}" for i in self.best_path) or "(empty)"
        lines.append(
            f"longest linearizable prefix: {prefix} ({len(self.best_path)} of {len(ops)}); "
            f"value after it: {state!r}"
        )
        pending = [i for i in self.by_ret if not done[i]]
        limit = ops[pending[0]].ret if pending else math.inf
        blocked = []
        for i, op in enumerate(ops):
            if done[i] or not op.required:
                continue
            if op.call > limit:
                blocked.append(f"#{op.index} was called after #{ops[pending[0]].index} returned")
            elif op.kind == "get":
                blocked.append(f"#{op.index} read {op.output!r} but the value is {state!r}")
            if len(blocked) == 3:
                break
        if blocked:
            lines.append("then nothing can go next: " + "; ".join(blocked))
        return "\n".join(lines)
