"""The Raft facade: a simulated Raft cluster with faults, clients and safety checks.

Example:
    >>> import edgeswarm as es
    >>> c = es.RaftCluster(n=5, seed=1, election_timeout_ms=(150, 300), heartbeat_ms=50,
    ...                    latency_ms=(1, 5), loss=0.0)
    >>> leader = c.run_until_leader(timeout_ms=5_000)
    >>> c.propose(b"hello")            # (index, term), or None without a leader
    >>> kv = c.client()
    >>> kv.put("k", "v"); kv.get("k")
    >>> c.violations()                 # [] : the invariant checker found nothing

Everything runs in simulated time (integer microseconds; every node ticks once per
simulated millisecond) on the deterministic network simulator: the same seed and the
same calls give the same run, bit for bit. Nodes are numbered 0..n-1.

Clients talk to the nodes directly (that hop is instantaneous; node-to-node traffic goes
through the simulated network). A client sends its command to the node it believes
leads, follows "not leader" hints, resends the same (client, sequence) after
``client_retry_ms`` without an answer and gives up after ``client_timeout_ms``; the
state machine de-duplicates retries, so a command applies once. Gets go through the log
like writes, so every answer is linearizable. Each operation is recorded in
:meth:`RaftCluster.history` for a linearizability checker.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

from edgeswarm import _core
from edgeswarm._validate import require_float, require_int
from edgeswarm.linearizability import check_linearizable

__all__ = ["MAX_NODES", "RAFT_ROLES", "KVClient", "RaftCluster", "check_linearizable"]

#: Values RaftCluster.role returns.
RAFT_ROLES: tuple[str, ...] = tuple(_core.RAFT_ROLES)
#: Largest number of nodes of a RaftCluster (the network simulator's limit, net::kMaxNodes).
MAX_NODES: int = _core.NET_MAX_NODES

#: What ``reorder=True`` means: the share of message copies held back by up to ``reorder_max_ms``.
REORDER_TRUE = 0.5


def _ms_to_us(name: str, value: object) -> int:
    ms = require_float(name, value, minimum=0.0)
    return round(ms * 1000)


def _ms_range(name: str, value: object, *, strict: bool) -> tuple[float, float]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise ValueError(f"{name}: expected a (min, max) pair, got {value!r}")
    lo = require_float(f"{name}[0]", value[0], minimum=0.0)
    hi = require_float(f"{name}[1]", value[1], minimum=0.0)
    if lo > hi or (strict and lo == hi):
        allowed = "min < max" if strict else "min <= max"
        raise ValueError(f"{name}: {tuple(value)!r} is not a valid range; allowed {allowed}")
    return lo, hi


def _probability(name: str, value: object) -> float:
    p = require_float(name, value, minimum=0.0)
    if p > 1.0:
        raise ValueError(f"{name}: {p} is out of range; allowed [0, 1]")
    return p


def _reorder(value: object) -> float:
    if isinstance(value, bool):
        return REORDER_TRUE if value else 0.0
    return _probability("reorder", value)


class KVClient:
    """A client of the cluster's key-value store; each call runs the simulation until it ends.

    A call returns once the command is applied (the value for ``get``, None otherwise) and
    raises TimeoutError when the client gives up (the operation is then recorded with
    status "failed" if no leader ever accepted it, "unknown" otherwise).
    """

    def __init__(self, cluster: RaftCluster, client_id: int) -> None:
        self._cluster = cluster
        self._id = client_id

    @property
    def id(self) -> int:
        """The client id recorded in the history."""
        return self._id

    @property
    def pending(self) -> bool:
        """True while an operation started with ``wait=False`` is unanswered."""
        return self._cluster._core.pending(self._id)

    def put(self, key: str, value: str, *, wait: bool = True) -> None:
        """Sets ``key`` to ``value``."""
        self._call("put", key, _text("value", value), wait)

    def append(self, key: str, value: str, *, wait: bool = True) -> None:
        """Appends ``value`` to ``key`` (an absent key counts as "")."""
        self._call("append", key, _text("value", value), wait)

    def delete(self, key: str, *, wait: bool = True) -> None:
        """Removes ``key``."""
        self._call("delete", key, "", wait)

    def get(self, key: str, *, wait: bool = True) -> str | None:
        """The value of ``key`` (None when absent), read through the log."""
        return self._call("get", key, "", wait)

    def emergency(self, key: str, payload: str, *, wait: bool = True) -> int | None:
        """Appends (key, payload) to the replicated emergency log; returns its 1-based position.

        Emergency operations are not part of :meth:`RaftCluster.history` (a key-value history).
        """
        out = self._call("emergency", key, _text("payload", payload), wait)
        return None if out is None else int(out)

    def wait(self) -> dict[str, Any]:
        """Runs until the pending operation ends; returns its history record."""
        return self._cluster._core.wait(self._id)

    def _call(self, kind: str, key: str, value: str, wait: bool) -> str | None:
        core = self._cluster._core
        if core.pending(self._id):
            raise ValueError(f"client: {self._id} already has an operation pending; call wait() first")
        core.submit(self._id, kind, _text("key", key), value)
        if not wait:
            return None
        record = core.wait(self._id)
        if record["status"] != "ok":
            raise TimeoutError(
                f"{kind} {key!r}: no answer within the client timeout (status {record['status']})"
            )
        return record["output"]

    def __repr__(self) -> str:
        return f"KVClient(id={self._id})"


def _text(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name}: expected a str, got {type(value).__name__}")
    return value


class RaftCluster:
    """A simulated Raft cluster of ``n`` nodes (0..n-1) on the deterministic network simulator.

    Options (keyword-only): ``election_timeout_ms`` (min, max) with min < max, drawn per
    election from [min, max); ``heartbeat_ms`` < min; ``latency_ms`` (min, max) one-way
    latency, uniform; ``loss`` and ``duplicate`` probabilities per message; ``reorder``
    True (half the copies held back by up to ``reorder_max_ms``) or a probability;
    ``fsync_us`` the delay before a disk write is durable; ``snapshot_every`` applied
    entries between log compactions (0: never); ``pre_vote``, ``check_quorum``;
    ``max_entries_per_msg`` (1 disables batching), ``max_inflight_msgs``;
    ``client_retry_ms``, ``client_timeout_ms``; ``check_invariants`` runs the safety
    checker after every event (see :meth:`violations`).
    """

    def __init__(
        self,
        *,
        n: int = 5,
        seed: int = 1,
        election_timeout_ms: Sequence[int] = (150, 300),
        heartbeat_ms: int = 50,
        latency_ms: Sequence[float] = (1, 5),
        loss: float = 0.0,
        duplicate: float = 0.0,
        reorder: bool | float = False,
        reorder_max_ms: float = 10.0,
        fsync_us: int = 100,
        snapshot_every: int = 1000,
        pre_vote: bool = True,
        check_quorum: bool = True,
        max_entries_per_msg: int = 64,
        max_inflight_msgs: int = 256,
        client_retry_ms: float = 100.0,
        client_timeout_ms: float = 5000.0,
        check_invariants: bool = True,
    ) -> None:
        n = require_int("n", n, minimum=1, maximum=MAX_NODES)
        seed = require_int("seed", seed, minimum=0, maximum=2**64 - 1)
        if isinstance(election_timeout_ms, (str, bytes)) or not isinstance(election_timeout_ms, Sequence):
            raise ValueError(f"election_timeout_ms: expected a (min, max) pair, got {election_timeout_ms!r}")
        if len(election_timeout_ms) != 2:
            raise ValueError(f"election_timeout_ms: expected a (min, max) pair, got {election_timeout_ms!r}")
        lo = require_int("election_timeout_ms[0]", election_timeout_ms[0], minimum=2)
        hi = require_int("election_timeout_ms[1]", election_timeout_ms[1], minimum=3)
        if lo >= hi:
            raise ValueError(f"election_timeout_ms: ({lo}, {hi}) is not a valid range; allowed min < max")
        heartbeat_ms = require_int("heartbeat_ms", heartbeat_ms, minimum=1)
        if heartbeat_ms >= lo:
            raise ValueError(
                f"heartbeat_ms: {heartbeat_ms} is out of range; allowed [1, election minimum {lo})"
            )
        lat_lo, lat_hi = _ms_range("latency_ms", latency_ms, strict=False)
        self._network = {
            "latency_min_us": round(lat_lo * 1000),
            "latency_max_us": round(lat_hi * 1000),
            "loss": _probability("loss", loss),
            "duplicate": _probability("duplicate", duplicate),
            "reorder": _reorder(reorder),
            "reorder_max_us": _ms_to_us("reorder_max_ms", reorder_max_ms),
        }
        retry_us = _ms_to_us("client_retry_ms", client_retry_ms)
        timeout_us = _ms_to_us("client_timeout_ms", client_timeout_ms)
        for name, us in (("client_retry_ms", retry_us), ("client_timeout_ms", timeout_us)):
            if us <= 0:
                raise ValueError(f"{name}: {us / 1000} is out of range; allowed > 0")
        self._n = n
        self._seed = seed
        self._core = _core.RaftCluster(
            n=n,
            seed=seed,
            election_min_ms=lo,
            election_max_ms=hi,
            heartbeat_ms=heartbeat_ms,
            fsync_us=require_int("fsync_us", fsync_us, minimum=0),
            snapshot_every=require_int("snapshot_every", snapshot_every, minimum=0),
            pre_vote=bool(pre_vote),
            check_quorum=bool(check_quorum),
            max_entries_per_msg=require_int("max_entries_per_msg", max_entries_per_msg, minimum=1),
            max_inflight_msgs=require_int("max_inflight_msgs", max_inflight_msgs, minimum=1),
            client_retry_us=retry_us,
            client_timeout_us=timeout_us,
            check_invariants=bool(check_invariants),
            **self._network,
        )

    # ------------------------------------------------------------------ running

    @property
    def n(self) -> int:
        """Number of nodes."""
        return self._n

    @property
    def seed(self) -> int:
        """The seed the run was built with."""
        return self._seed

    @property
    def now_us(self) -> int:
        """Simulated time in microseconds."""
        return self._core.now

    def run(self, *, ms: float) -> None:
        """Advances simulated time by ``ms`` milliseconds."""
        us = _ms_to_us("ms", ms)
        self._core.run_until(self._core.now + us)

    def run_until_leader(self, *, timeout_ms: float = 5000) -> int | None:
        """Runs until some node leads (at most ``timeout_ms``); returns it, or None."""
        return self._core.run_until_leader(_ms_to_us("timeout_ms", timeout_ms))

    def propose(self, data: bytes, *, node: int | None = None) -> tuple[int, int] | None:
        """Appends ``data`` at the leader: (index, term) of its entry, or None without a leader.

        With ``node``, proposes at that node instead (say, a leader cut off in a minority that
        has not noticed yet, while :meth:`leader` names the newer one); None unless it is up
        and believes it leads. The entry is committed only later (run the cluster); it shows
        in :meth:`applied`.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ValueError(f"data: expected bytes, got {type(data).__name__}")
        if node is not None:
            return self._core.propose_at(self._node(node), bytes(data))
        return self._core.propose(bytes(data))

    # ------------------------------------------------------------------ faults

    def crash(self, node: int) -> None:
        """Crashes ``node``: volatile state, unsynced writes, timers and its inbound messages are lost."""
        self._core.crash(self._node(node))

    def restart(self, node: int) -> None:
        """Restarts ``node`` from what its disk holds."""
        self._core.restart(self._node(node))

    def partition(self, groups: Sequence[Sequence[int]]) -> None:
        """Splits the nodes into groups that cannot talk; unlisted nodes are each alone."""
        if isinstance(groups, (str, bytes)) or not isinstance(groups, Sequence):
            raise ValueError(f"groups: expected a list of lists of node ids, got {groups!r}")
        seen: set[int] = set()
        checked: list[list[int]] = []
        for g in groups:
            if isinstance(g, (str, bytes)) or not isinstance(g, Sequence) or len(g) == 0:
                raise ValueError(f"groups: each group must be a non-empty list of node ids, got {g!r}")
            members = [self._node(i, "groups") for i in g]
            if seen.intersection(members) or len(set(members)) != len(members):
                raise ValueError(f"groups: node ids must appear in at most one group, got {groups!r}")
            seen.update(members)
            checked.append(members)
        self._core.partition(checked)

    def heal(self) -> None:
        """Removes every partition and cut."""
        self._core.heal()

    def cut(self, i: int, j: int) -> None:
        """Blocks messages from ``i`` to ``j`` (one way)."""
        self._core.cut(self._node(i, "i"), self._node(j, "j"))

    def set_network(
        self,
        *,
        loss: float | None = None,
        duplicate: float | None = None,
        reorder: bool | float | None = None,
        latency_ms: Sequence[float] | None = None,
        reorder_max_ms: float | None = None,
    ) -> None:
        """Changes the rules of every link; options left out keep their current value."""
        net = dict(self._network)
        if loss is not None:
            net["loss"] = _probability("loss", loss)
        if duplicate is not None:
            net["duplicate"] = _probability("duplicate", duplicate)
        if reorder is not None:
            net["reorder"] = _reorder(reorder)
        if latency_ms is not None:
            lo, hi = _ms_range("latency_ms", latency_ms, strict=False)
            net["latency_min_us"], net["latency_max_us"] = round(lo * 1000), round(hi * 1000)
        if reorder_max_ms is not None:
            net["reorder_max_us"] = _ms_to_us("reorder_max_ms", reorder_max_ms)
        self._core.set_link_rules(**net)
        self._network = net

    # ------------------------------------------------------------------ inspection

    def leader(self) -> int | None:
        """The running leader with the highest term, or None."""
        return self._core.leader()

    def is_up(self, node: int) -> bool:
        """True unless crashed."""
        return self._core.is_up(self._node(node))

    def role(self, node: int) -> str:
        """One of RAFT_ROLES: follower, pre_candidate, candidate, leader, or down."""
        return self._core.role(self._node(node))

    def term(self, node: int) -> int:
        """Current term (while down: the persisted term)."""
        return self._core.term(self._node(node))

    def commit_index(self, node: int) -> int:
        """Commit index (while down: the persisted one)."""
        return self._core.commit_index(self._node(node))

    def applied(self, node: int) -> list[tuple[int, bytes]]:
        """(index, payload) of every non-empty normal entry ``node`` applied, in index order.

        Entries a node received inside a snapshot (instead of applying them) are absent;
        the list survives restarts. Client commands appear in their encoded form.
        """
        return self._core.applied(self._node(node))

    def persisted(self, node: int) -> dict[str, Any]:
        """What ``node``'s disk holds: term, vote (node id or None), commit, snapshot_index,
        snapshot_term, log_length (index of the last durable entry) and entries (stored after
        the snapshot)."""
        return self._core.persisted(self._node(node))

    def kv(self, node: int) -> dict[str, str]:
        """``node``'s key-value data (node must be up)."""
        return self._core.kv_data(self._up(node))

    def emergencies(self, node: int) -> list[tuple[int, int, str, str]]:
        """``node``'s emergency log: (log index, client, key, payload) in commit order."""
        return self._core.emergencies(self._up(node))

    def message_count(self, node: int | None = None) -> int:
        """Messages sent (by ``node``, or by all)."""
        return self._core.traffic(None if node is None else self._node(node))[0]

    def message_counts(self, node: int | None = None) -> dict[str, int]:
        """Messages sent (by ``node``, or by all) per type: Append, AppendResponse, Vote,
        VoteResponse, PreVote, PreVoteResponse, Heartbeat, HeartbeatResponse, Snapshot,
        TimeoutNow. Counted when handed to the network, before loss or duplication; the
        values sum to :meth:`message_count`."""
        return self._core.message_counts(None if node is None else self._node(node))

    def bytes_sent(self, node: int | None = None) -> int:
        """Bytes sent (by ``node``, or by all), in the compact wire encoding."""
        return self._core.traffic(None if node is None else self._node(node))[1]

    def violations(self) -> list[dict[str, Any]]:
        """Safety violations found so far, each a dict (kind, node, term, index, time, detail).

        Kinds: election_safety, log_matching, leader_completeness, state_machine_safety,
        leader_append_only, term_decreased, double_vote, commit_decreased. Must stay empty.
        """
        return self._core.violations()

    # ------------------------------------------------------------------ clients

    def client(self) -> KVClient:
        """A new key-value client."""
        return KVClient(self, self._core.add_client())

    def history(self) -> list[dict[str, Any]]:
        """Every key-value client operation so far, in call order, as dicts with the keys
        client, kind, key, value, call, ret, status, output (times in simulated µs; an
        operation still pending is reported with status "unknown" and ret None)."""
        return [h for h in self._core.history() if h["kind"] != "emergency"]

    def _node(self, node: object, name: str = "node") -> int:
        if isinstance(node, bool) or not isinstance(node, numbers.Integral):
            raise ValueError(f"{name}: expected an integer node id, got {node!r}")
        return require_int(name, node, minimum=0, maximum=self._n - 1)

    def _up(self, node: object) -> int:
        i = self._node(node)
        if not self._core.is_up(i):
            raise ValueError(f"node: {i} is down; restart it first")
        return i

    def __repr__(self) -> str:
        return f"RaftCluster(n={self._n}, seed={self._seed}, now_us={self.now_us}, leader={self.leader()})"
