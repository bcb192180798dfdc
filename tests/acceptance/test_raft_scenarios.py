"""Raft scenarios after the MIT 6.5840 Raft lab, in simulated time, each over 20 seeds.

Every scenario also asserts that the invariant checker, which runs after every event,
found no violation.
"""

from __future__ import annotations

import random

import edgeswarm as es
import pytest

SEEDS = range(20)


def _cluster(seed: int, n: int = 5, **options: object) -> es.RaftCluster:
    return es.RaftCluster(n=n, seed=seed, latency_ms=(1, 5), **options)


def _leaders(c: es.RaftCluster) -> list[int]:
    return [i for i in range(c.n) if c.role(i) == "leader"]


def _wait_leader_among(c: es.RaftCluster, members: list[int], timeout_ms: int = 5000) -> int | None:
    """Runs in 10 ms steps until one of `members` leads; returns it."""
    for _ in range(timeout_ms // 10):
        for i in members:
            if c.role(i) == "leader":
                return i
        c.run(ms=10)
    return None


def _applied_at(c: es.RaftCluster, node: int, index: int) -> bytes | None:
    return dict(c.applied(node)).get(index)


def _commit_everywhere(c: es.RaftCluster, data: bytes, nodes: list[int], timeout_ms: int = 3000) -> int:
    """Proposes `data` (retrying while there is no leader) until every node in `nodes` applied
    it at the same index; returns that index (like the lab's `one()`)."""
    for _ in range(timeout_ms // 100):
        at = c.propose(data)
        if at is not None:
            for _ in range(20):
                c.run(ms=10)
                if all(_applied_at(c, i, at[0]) == data for i in nodes):
                    return at[0]
        else:
            c.run(ms=100)
    raise AssertionError(f"{data!r} was not applied on all of {nodes}")


def _no_violations(c: es.RaftCluster) -> None:
    assert c.violations() == []


@pytest.mark.parametrize("seed", SEEDS)
def test_initial_election(seed: int) -> None:
    c = _cluster(seed, n=3)
    leader = c.run_until_leader(timeout_ms=5000)
    assert leader is not None
    c.run(ms=100)
    assert _leaders(c) == [leader]
    terms = {c.term(i) for i in range(c.n)}
    assert len(terms) == 1 and terms.pop() >= 2  # bootstrap entries are term 1
    # Without failures, the leader and the term stay.
    term = c.term(leader)
    c.run(ms=2000)
    assert _leaders(c) == [leader]
    assert all(c.term(i) == term for i in range(c.n))
    _no_violations(c)


@pytest.mark.parametrize("seed", SEEDS)
def test_reelection(seed: int) -> None:
    c = _cluster(seed, n=3)
    old = c.run_until_leader(timeout_ms=5000)
    assert old is not None
    rest = [i for i in range(3) if i != old]
    # The leader is cut off: the other two elect a new one, and the old one steps down (CheckQuorum).
    c.partition([[old], rest])
    new = _wait_leader_among(c, rest)
    assert new is not None
    assert c.term(new) > c.term(old) or c.role(old) != "leader"
    c.run(ms=1000)
    assert c.role(old) != "leader"
    # The old leader rejoins: still one leader.
    c.heal()
    c.run(ms=1000)
    assert len(_leaders(c)) == 1
    # Without a majority, no leader.
    c.partition([[0], [1], [2]])
    c.run(ms=2000)
    assert _leaders(c) == []
    # A majority again: a leader.
    c.partition([[0, 1], [2]])
    assert _wait_leader_among(c, [0, 1]) is not None
    c.heal()
    c.run(ms=500)
    assert len(_leaders(c)) == 1
    _no_violations(c)


@pytest.mark.parametrize("seed", SEEDS)
def test_basic_agreement(seed: int) -> None:
    c = _cluster(seed)
    assert c.run_until_leader(timeout_ms=5000) is not None
    indexes = [_commit_everywhere(c, f"cmd{k}".encode(), list(range(5))) for k in range(3)]
    assert indexes == sorted(indexes) and len(set(indexes)) == 3
    for i in range(5):
        assert [d for _, d in c.applied(i)] == [b"cmd0", b"cmd1", b"cmd2"]
        assert c.commit_index(i) >= indexes[-1]
    _no_violations(c)


@pytest.mark.parametrize("seed", SEEDS)
def test_agreement_despite_a_crashed_follower(seed: int) -> None:
    c = _cluster(seed)
    leader = c.run_until_leader(timeout_ms=5000)
    assert leader is not None
    _commit_everywhere(c, b"before", list(range(5)))
    follower = (leader + 1) % 5
    c.crash(follower)
    alive = [i for i in range(5) if i != follower]
    for k in range(3):
        _commit_everywhere(c, f"during{k}".encode(), alive)
    c.restart(follower)
    last = _commit_everywhere(c, b"after", list(range(5)))
    assert [d for _, d in c.applied(follower)] == [b"before", b"during0", b"during1", b"during2", b"after"]
    assert c.commit_index(follower) >= last
    _no_violations(c)


@pytest.mark.parametrize("seed", SEEDS)
def test_no_agreement_without_a_majority(seed: int) -> None:
    c = _cluster(seed)
    leader = c.run_until_leader(timeout_ms=5000)
    assert leader is not None
    _commit_everywhere(c, b"first", list(range(5)))
    down = [(leader + k) % 5 for k in (1, 2, 3)]
    for i in down:
        c.crash(i)
    at = c.propose(b"lonely")
    assert at is not None  # the leader accepts it (it has not noticed yet)
    c.run(ms=2000)
    up = [i for i in range(5) if i not in down]
    for i in up:
        assert c.commit_index(i) < at[0]
        assert b"lonely" not in [d for _, d in c.applied(i)]
    for i in down:
        c.restart(i)
    _commit_everywhere(c, b"recovered", list(range(5)))
    _no_violations(c)


@pytest.mark.parametrize("seed", SEEDS)
def test_persistence_across_restarts_of_all_nodes(seed: int) -> None:
    c = _cluster(seed)
    assert c.run_until_leader(timeout_ms=5000) is not None
    for k in range(3):
        _commit_everywhere(c, f"e{k}".encode(), list(range(5)))
    before = [c.applied(i) for i in range(5)]
    terms = [c.term(i) for i in range(5)]
    for i in range(5):
        c.crash(i)
    for i in range(5):
        assert c.role(i) == "down"
        assert c.persisted(i)["term"] == terms[i]
        assert c.persisted(i)["log_length"] >= before[i][-1][0]
    for i in range(5):
        c.restart(i)
    assert c.run_until_leader(timeout_ms=5000) is not None
    _commit_everywhere(c, b"after", list(range(5)))
    for i in range(5):
        assert c.applied(i)[:3] == before[i]
        assert c.term(i) > terms[i]
    # Crash and restart one node at a time, each time committing more.
    for k in range(5):
        c.crash(k)
        c.restart(k)
        _commit_everywhere(c, f"r{k}".encode(), list(range(5)))
    _no_violations(c)


@pytest.mark.parametrize("seed", SEEDS)
def test_client_put_get_through_crashes_with_dedup(seed: int) -> None:
    c = _cluster(seed, fsync_us=1000)
    assert c.run_until_leader(timeout_ms=5000) is not None
    kv = c.client()
    expected = ""
    for k in range(6):
        piece = f"<{k}>"
        leader = c.leader()
        kv.append("log", piece, wait=False)
        c.run(ms=3)  # the leader has accepted it; it may or may not have replicated it
        if k % 2 == 1 and leader is not None:
            c.crash(leader)  # the client's retry goes to the next leader with the same sequence
        record = kv.wait()
        assert record["status"] == "ok", record
        expected += piece
        for i in range(5):
            if not c.is_up(i):
                c.restart(i)
    kv.put("k", "v")
    assert kv.get("k") == "v"
    assert kv.get("log") == expected  # every append applied exactly once
    history = c.history()
    assert all(h["status"] == "ok" for h in history)
    assert set(history[0]) == {"client", "kind", "key", "value", "call", "ret", "status", "output"}
    _no_violations(c)


@pytest.mark.parametrize("seed", SEEDS)
def test_random_faults_keep_safety_and_converge(seed: int) -> None:
    """Crashes, restarts, partitions, loss, duplication and reordering with three concurrent
    clients: no violation, every node ends with the same data, and no acknowledged write is
    lost (each ok append's piece is in the final value exactly once)."""
    rng = random.Random(seed)
    c = _cluster(seed, loss=0.1, duplicate=0.05, reorder=True, snapshot_every=20, client_timeout_ms=3000)
    clients = [c.client() for _ in range(3)]
    for step in range(60):
        for k, client in enumerate(clients):
            if not client.pending:
                op = rng.choice(["put", "append", "append", "get", "delete"])
                if op == "put":
                    client.put("p", f"{k}.{step}", wait=False)
                elif op == "append":
                    client.append("log", f"<{k}.{step}>", wait=False)
                elif op == "get":
                    client.get(rng.choice(["p", "log"]), wait=False)
                else:
                    client.delete("p", wait=False)
        u = rng.random()
        if u < 0.1:
            c.crash(rng.randrange(5))
        elif u < 0.3:
            for i in range(5):
                if not c.is_up(i):
                    c.restart(i)
        elif u < 0.4:
            nodes = list(range(5))
            rng.shuffle(nodes)
            cut = rng.randrange(1, 5)
            c.partition([nodes[:cut], nodes[cut:]])
        elif u < 0.5:
            c.heal()
        c.run(ms=rng.randrange(10, 200))
    c.heal()
    c.set_network(loss=0.0, duplicate=0.0, reorder=False)
    for i in range(5):
        if not c.is_up(i):
            c.restart(i)
    for client in clients:
        if client.pending:
            client.wait()
    c.run(ms=2000)
    _no_violations(c)
    states = [c.kv(i) for i in range(5)]
    assert all(s == states[0] for s in states)
    final = states[0].get("log", "")
    for h in c.history():
        if h["kind"] == "append" and h["status"] == "ok":
            assert final.count(h["value"]) == 1, h


@pytest.mark.parametrize("seed", range(10))
def test_client_histories_under_faults_are_linearizable(seed: int) -> None:
    c = es.RaftCluster(n=5, seed=seed, loss=0.05, duplicate=0.02, reorder=True)
    c.run_until_leader(timeout_ms=5_000)
    clients = [c.client() for _ in range(3)]
    for step in range(30):
        kv = clients[step % 3]
        key = f"k{step % 4}"
        if kv.pending:
            pass  # one operation at a time per client, as real clients do
        elif step % 3 == 2:
            kv.get(key, wait=False)
        else:
            kv.put(key, f"v{step}", wait=False)
        if step == 10:
            c.crash((c.leader() or 0) % 5)
        if step == 20:
            c.heal()
            for i in range(5):
                if not c.is_up(i):
                    c.restart(i)
        c.run(ms=40)
    c.run(ms=3_000)
    history = c.history()
    assert sum(op["status"] == "ok" and op["kind"] == "get" for op in history) >= 3
    result = es.raft.check_linearizable(history)
    assert result.ok is True, result.explanation
    assert c.violations() == []
