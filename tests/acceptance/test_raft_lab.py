"""The rest of the MIT 6.5840 Raft lab, in simulated time, each scenario over 20 seeds.

Complements ``test_raft_scenarios.py`` (initial election, re-election, basic agreement,
crashed follower, no majority, restart all, client dedup, random faults, linearizable
histories) with: many elections on 7 nodes, RPC-count bounds, concurrent proposals, rejoin
of a partitioned leader, fast backup over long divergent logs, persistence across restarts,
Figure 8 (reliable and unreliable), unreliable agreement, churn, snapshots, and partial
connectivity with PreVote and CheckQuorum. Every scenario ends by asserting that the
invariant checker (run after every simulated event) found no violation.
"""

from __future__ import annotations

import random

import edgeswarm as es
import pytest

SEEDS = range(20)
ELECTION_TYPES = ("PreVote", "PreVoteResponse", "Vote", "VoteResponse")


# ---------------------------------------------------------------- helpers


def _cluster(seed: int, n: int = 5, **options: object) -> es.RaftCluster:
    options.setdefault("latency_ms", (1, 5))
    return es.RaftCluster(n=n, seed=seed, **options)


def _leaders(c: es.RaftCluster, nodes: list[int] | None = None) -> list[int]:
    return [i for i in (range(c.n) if nodes is None else nodes) if c.role(i) == "leader"]


def _wait_leader_among(c: es.RaftCluster, members: list[int], timeout_ms: int = 5000) -> int | None:
    """Runs in 10 ms steps until one of ``members`` leads; returns it."""
    for _ in range(timeout_ms // 10 + 1):
        found = _leaders(c, members)
        if found:
            return found[0]
        c.run(ms=10)
    return None


def _applied_at(c: es.RaftCluster, node: int, index: int) -> bytes | None:
    return dict(c.applied(node)).get(index)


def _one(c: es.RaftCluster, data: bytes, nodes: list[int], timeout_ms: int = 5000) -> int:
    """Like the lab's ``one()``: proposes ``data`` (again, while it is lost) until every node in
    ``nodes`` applied it at the same index; returns that index."""
    for _ in range(timeout_ms // 100):
        at = c.propose(data)
        if at is None:
            c.run(ms=100)
            continue
        for _ in range(20):
            c.run(ms=10)
            if all(_applied_at(c, i, at[0]) == data for i in nodes):
                return at[0]
    raise AssertionError(f"{data!r} was not applied on all of {nodes}")


def _one_leader_per_term(c: es.RaftCluster) -> None:
    terms = [c.term(i) for i in _leaders(c)]
    assert len(terms) == len(set(terms)), terms


def _committed(c: es.RaftCluster) -> dict[int, bytes]:
    """index -> payload of every entry some node applied; asserts they agree."""
    seen: dict[int, bytes] = {}
    for i in range(c.n):
        for index, data in c.applied(i):
            assert seen.setdefault(index, data) == data, (index, i)
    return seen


def _restart_all(c: es.RaftCluster) -> None:
    for i in range(c.n):
        if not c.is_up(i):
            c.restart(i)


def _no_violations(c: es.RaftCluster) -> None:
    assert c.violations() == []


# ---------------------------------------------------------------- elections


@pytest.mark.parametrize("seed", SEEDS)
def test_many_elections_with_seven_nodes(seed: int) -> None:
    """Repeatedly cut 3 of 7 nodes off and reconnect them: the 4 connected ones (a majority)
    always have a leader, and there is never more than one leader per term."""
    rng = random.Random(seed)
    c = _cluster(seed, n=7)
    assert c.run_until_leader(timeout_ms=5000) is not None
    for _ in range(10):
        off = rng.sample(range(7), 3)
        on = [i for i in range(7) if i not in off]
        c.partition([on] + [[i] for i in off])
        assert _wait_leader_among(c, on) is not None
        _one_leader_per_term(c)
        c.run(ms=rng.randrange(0, 300))
        _one_leader_per_term(c)
        c.heal()
        assert _wait_leader_among(c, list(range(7))) is not None
        _one_leader_per_term(c)
    c.run(ms=1000)
    assert len(_leaders(c)) == 1
    _no_violations(c)


# ---------------------------------------------------------------- RPC counts


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [3, 5])
def test_rpc_counts_are_bounded(seed: int, n: int) -> None:
    c = _cluster(seed, n=n)
    emin, heartbeat = 150, 50  # the defaults: election timeout in [150, 300) ms, heartbeat 50 ms

    # Initial election. A (pre-)campaign sends one PreVote to each of the n-1 peers, and a
    # Vote to each only after winning the pre-vote; every request gets at most one answer
    # (no duplication here). So messages <= 4 (n-1) per pre-campaign, and a node starts at
    # most floor(T / emin) + 1 pre-campaigns in T ms since its timeout is >= emin ticks.
    assert c.run_until_leader(timeout_ms=5000) is not None
    counts = c.message_counts()
    campaigns = counts["PreVote"] // (n - 1)
    assert counts["PreVote"] == campaigns * (n - 1) >= n - 1
    assert counts["Vote"] <= counts["PreVote"]
    assert counts["PreVoteResponse"] <= counts["PreVote"] and counts["VoteResponse"] <= counts["Vote"]
    assert c.message_count() <= 4 * (n - 1) * campaigns
    assert campaigns <= n * (c.now_us // 1000 // emin + 1)
    assert sum(counts[t] for t in ELECTION_TYPES) == c.message_count()  # nothing else yet

    # Agreement on N commands, one at a time. Per command the leader sends each peer at most
    # three Appends: the entry itself, the new commit index once a quorum answered, and one
    # resend triggered by an answer that did not advance the commit; each Append gets at most
    # one answer, so <= 6 (n-1) messages per command. Heartbeats (+ answers) add <= 2 (n-1)
    # per heartbeat interval. Total O(N n), not growing with the log.
    c.run(ms=500)
    before, t0 = c.message_count(), c.now_us
    commands = 20
    for k in range(commands):
        _one(c, f"cmd{k}".encode(), list(range(n)))
    elapsed_ms = (c.now_us - t0) // 1000
    used = c.message_count() - before
    bound = commands * 6 * (n - 1) + (elapsed_ms // heartbeat + 1) * 2 * (n - 1)
    assert used <= bound, (used, bound)
    assert used >= commands * 2 * (n - 1)  # each command reached each peer at least once

    # Idle: only heartbeats and their answers, <= 2 (n-1) per heartbeat interval; no elections.
    before, election_before = c.message_count(), sum(c.message_counts()[t] for t in ELECTION_TYPES)
    c.run(ms=1000)
    assert c.message_count() - before <= (1000 // heartbeat + 1) * 2 * (n - 1)
    assert sum(c.message_counts()[t] for t in ELECTION_TYPES) == election_before
    assert sum(c.message_counts().values()) == c.message_count()
    _no_violations(c)


# ---------------------------------------------------------------- agreement


@pytest.mark.parametrize("seed", SEEDS)
def test_concurrent_proposals_commit_once_in_one_order(seed: int) -> None:
    c = _cluster(seed)
    leader = c.run_until_leader(timeout_ms=5000)
    assert leader is not None
    c.run(ms=200)
    term = c.term(leader)
    payloads = [f"p{k}".encode() for k in range(50)]
    at = [c.propose(p) for p in payloads]  # all in the same instant, same term
    assert all(a is not None and a[1] == term for a in at)
    indexes = [a[0] for a in at if a is not None]
    assert indexes == list(range(indexes[0], indexes[0] + 50))
    c.run(ms=1000)
    assert c.term(leader) == term and c.role(leader) == "leader"
    for i in range(5):
        assert c.applied(i) == list(zip(indexes, payloads, strict=True))
    _no_violations(c)


@pytest.mark.parametrize("seed", SEEDS)
def test_rejoin_of_a_partitioned_leader(seed: int) -> None:
    """A leader cut off in a minority keeps taking proposals that never commit; when it rejoins,
    they are discarded and every log converges on what the majority committed."""
    c = _cluster(seed)
    leader1 = c.run_until_leader(timeout_ms=5000)
    assert leader1 is not None
    _one(c, b"first", list(range(5)))
    buddy = (leader1 + 1) % 5
    majority = [i for i in range(5) if i not in (leader1, buddy)]
    c.partition([[leader1, buddy], majority])
    lost = [f"lost{k}".encode() for k in range(5)]
    for p in lost:
        assert c.propose(p, node=leader1) is not None  # leader1 still believes it leads
    leader2 = _wait_leader_among(c, majority)
    assert leader2 is not None
    _one(c, b"majority", majority)
    # The old leader keeps proposing while it still leads (CheckQuorum soon deposes it).
    c.run(ms=50)
    if c.role(leader1) == "leader":
        lost.append(b"late")
        assert c.propose(b"late", node=leader1) is not None
    c.run(ms=1000)
    assert c.role(leader1) != "leader"  # CheckQuorum: no quorum, no leadership
    # Now the new leader is in a minority and the old one rejoins the others.
    others = [i for i in range(5) if i != leader2]
    c.partition([[leader2], others])
    _one(c, b"without-leader2", others)
    c.heal()
    _one(c, b"all", list(range(5)))
    committed = _committed(c)
    assert not set(lost) & set(committed.values())
    logs = [c.applied(i) for i in range(5)]
    assert all(log == logs[0] for log in logs)
    assert [d for _, d in logs[0]] == [b"first", b"majority", b"without-leader2", b"all"]
    assert len({c.commit_index(i) for i in range(5)}) == 1
    _no_violations(c)


@pytest.mark.parametrize("seed", SEEDS)
def test_fast_backup_over_long_divergent_logs(seed: int) -> None:
    """The lab's backup test: two leaders in turn pile up ~50 uncommitted entries each in a
    minority while the other side commits ~50; after healing every log converges quickly."""
    rtt_ms, heartbeat_ms = 10, 50  # latency fixed at 5 ms each way; the default heartbeat
    c = _cluster(seed, latency_ms=(5, 5), max_entries_per_msg=64)
    leader1 = c.run_until_leader(timeout_ms=5000)
    assert leader1 is not None
    _one(c, b"start", list(range(5)))
    # leader1 and one follower in a minority: 50 entries that cannot commit.
    side_a = [leader1, (leader1 + 1) % 5]
    side_b = [i for i in range(5) if i not in side_a]
    c.partition([side_a, side_b])
    for k in range(50):
        assert c.propose(f"a{k}".encode(), node=leader1) is not None
    leader2 = _wait_leader_among(c, side_b)
    assert leader2 is not None
    for k in range(50):
        assert c.propose(f"b{k}".encode(), node=leader2) is not None
    c.run(ms=500)
    assert all(_applied_at(c, i, max(c.commit_index(j) for j in side_b)) == b"b49" for i in side_b)
    # leader2 and one follower in a minority: 50 more uncommitted entries in a later term.
    lone = next(i for i in side_b if i != leader2)
    side_c = [i for i in side_b if i != lone]
    c.partition([side_c, side_a + [lone]])
    for k in range(50):
        assert c.propose(f"c{k}".encode(), node=leader2) is not None
    # The other side (leader1, its follower and `lone`) elects a leader and commits 50.
    side_d = side_a + [lone]
    leader3 = _wait_leader_among(c, side_d)
    assert leader3 is not None
    for k in range(50):
        assert c.propose(f"d{k}".encode(), node=leader3) is not None
    c.run(ms=500)
    assert all(_applied_at(c, i, c.commit_index(leader3)) == b"d49" for i in side_d)
    # Heal: side_c holds ~100 entries that diverge from leader3's log after "start" (50 of
    # leader2's committed term, 50 of its own). The leader reaches them within one heartbeat
    # interval; backtracking by whole conflicting terms then costs one round trip per term
    # (<= 3 here), plus one to ship the entries and one for the commit index: bound it by
    # heartbeat + 10 round trips. Backing up one entry per round trip would take >= 50.
    c.heal()
    start = c.now_us
    target = c.commit_index(leader3)
    while not all(c.commit_index(i) >= target and _applied_at(c, i, target) == b"d49" for i in range(5)):
        c.run(ms=1)
        assert c.now_us - start <= 1000 * (heartbeat_ms + 10 * rtt_ms), "slow convergence after heal"
    _one(c, b"end", list(range(5)))
    logs = [c.applied(i) for i in range(5)]
    assert all(log == logs[0] for log in logs)
    data = [d for _, d in logs[0]]
    assert data[0] == b"start" and data[-1] == b"end"
    assert not any(d.startswith((b"a", b"c")) for d in data)
    _no_violations(c)


# ---------------------------------------------------------------- persistence and Figure 8


@pytest.mark.parametrize("seed", SEEDS)
def test_persistence_across_repeated_restarts(seed: int) -> None:
    """Crash and restart single nodes, the leader, and two at once, while committing:
    every committed entry survives on every node."""
    rng = random.Random(seed)
    c = _cluster(seed, fsync_us=1000)
    assert c.run_until_leader(timeout_ms=5000) is not None
    expected: list[bytes] = []
    for k in range(12):
        up = [i for i in range(5) if c.is_up(i)]
        expected.append(f"e{k}".encode())
        _one(c, expected[-1], up)
        choice = k % 3
        if choice == 0:
            victims = [c.leader() if c.leader() is not None else rng.randrange(5)]
        elif choice == 1:
            victims = [rng.randrange(5)]
        else:
            victims = rng.sample(range(5), 2)
        for v in victims:
            c.crash(v)
        c.run(ms=rng.randrange(0, 400))
        survivors = [i for i in range(5) if c.is_up(i)]
        expected.append(f"while-down{k}".encode())
        _one(c, expected[-1], survivors)
        for v in victims:
            c.restart(v)
    _restart_all(c)
    expected.append(b"final")
    _one(c, b"final", list(range(5)))
    for i in range(5):
        assert [d for _, d in c.applied(i)] == expected
        assert c.persisted(i)["log_length"] >= c.persisted(i)["commit"] >= c.applied(i)[-1][0] - 1
    _no_violations(c)


def _figure8(c: es.RaftCluster, rng: random.Random, *, crash: bool, iterations: int) -> None:
    """The lab's Figure 8 loop: propose at the leader, wait a little (or sometimes long),
    then take the leader away (crash, or disconnect); bring one back while fewer than 3 remain."""
    n = c.n
    away: set[int] = set()
    committed: dict[int, bytes] = {}
    for k in range(iterations):
        leader = c.leader()
        if leader is not None:
            c.propose(f"f{k}".encode())
        c.run(ms=rng.randrange(0, 500) if rng.random() < 0.1 else rng.randrange(0, 13))
        leader = c.leader()
        if leader is not None and leader not in away:
            away.add(leader)
            if crash:
                c.crash(leader)
        if len(away) > n - 3 or (away and rng.random() < 0.2):
            back = rng.choice(sorted(away))
            away.discard(back)
            if crash:
                c.restart(back)
        if not crash:
            c.partition([[i for i in range(n) if i not in away]] + [[i] for i in sorted(away)])
        # Whatever was committed stays committed at the same index.
        now = _committed(c)
        assert all(now.get(i, d) == d for i, d in committed.items())
        committed.update(now)
    c.heal()
    _restart_all(c)
    _one(c, b"final", list(range(n)), timeout_ms=10_000)
    final = _committed(c)
    assert all(final[i] == d for i, d in committed.items())
    logs = [c.applied(i) for i in range(n)]
    assert all(log == logs[0] for log in logs)


@pytest.mark.parametrize("seed", SEEDS)
def test_figure8_reliable(seed: int) -> None:
    c = _cluster(seed, fsync_us=500)
    assert c.run_until_leader(timeout_ms=5000) is not None
    _one(c, b"start", list(range(5)))
    _figure8(c, random.Random(seed), crash=True, iterations=60)
    _no_violations(c)


@pytest.mark.parametrize("seed", SEEDS)
def test_figure8_unreliable(seed: int) -> None:
    c = _cluster(seed, loss=0.1, reorder=True, reorder_max_ms=20, latency_ms=(0, 26))
    assert c.run_until_leader(timeout_ms=5000) is not None
    _one(c, b"start", list(range(5)), timeout_ms=10_000)
    _figure8(c, random.Random(seed), crash=False, iterations=60)
    _no_violations(c)


# ---------------------------------------------------------------- unreliable networks, churn


@pytest.mark.parametrize("seed", SEEDS)
def test_unreliable_agreement(seed: int) -> None:
    """Loss, duplication and reordering: every proposal from 5 concurrent clients commits once."""
    c = _cluster(seed, loss=0.1, duplicate=0.1, reorder=True, client_timeout_ms=30_000)
    clients = [c.client() for _ in range(5)]
    pieces: list[str] = []
    for round_ in range(8):
        for k, kv in enumerate(clients):
            piece = f"<{k}.{round_}>"
            pieces.append(piece)
            kv.append("log", piece, wait=False)
        for kv in clients:
            assert kv.wait()["status"] == "ok"
    c.set_network(loss=0.0, duplicate=0.0, reorder=False)
    c.run(ms=1000)
    value = c.kv(0)["log"]
    assert sorted(value.replace("><", ">\n<").split("\n")) == sorted(pieces)
    assert all(c.kv(i) == c.kv(0) for i in range(5))
    _no_violations(c)


def _final_reads(c: es.RaftCluster, keys: list[str]) -> dict[str, str | None]:
    reader = c.client()
    return {key: reader.get(key) for key in keys}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("unreliable", [False, True])
def test_churn(seed: int, unreliable: bool) -> None:
    """Random crashes, restarts, partitions and heals of many nodes under 4 concurrent clients:
    no violation, a linearizable history (final reads included, so an acknowledged write that
    was lost would show), and every acknowledged append in the final value exactly once."""
    rng = random.Random(seed)
    noise = {"loss": 0.1, "duplicate": 0.05, "reorder": True} if unreliable else {}
    c = _cluster(seed, n=5, snapshot_every=25, client_timeout_ms=2000, **noise)
    clients = [c.client() for _ in range(4)]
    keys = ["x", "y", "log"]
    for step in range(50):
        for k, kv in enumerate(clients):
            if kv.pending:
                continue
            op = rng.choice(["put", "put", "get", "append"])
            if op == "put":
                kv.put(rng.choice(keys[:2]), f"{k}.{step}", wait=False)
            elif op == "get":
                kv.get(rng.choice(keys), wait=False)
            else:
                kv.append("log", f"<{k}.{step}>", wait=False)
        u = rng.random()
        if u < 0.2:
            for i in rng.sample(range(5), rng.randrange(1, 4)):
                c.crash(i)
        elif u < 0.45:
            for i in range(5):
                if not c.is_up(i) and rng.random() < 0.7:
                    c.restart(i)
        elif u < 0.6:
            nodes = list(range(5))
            rng.shuffle(nodes)
            a, b = sorted(rng.sample(range(1, 5), 2))
            c.partition([nodes[:a], nodes[a:b], nodes[b:]])
        elif u < 0.7:
            c.heal()
        c.run(ms=rng.randrange(5, 150))
    c.heal()
    c.set_network(loss=0.0, duplicate=0.0, reorder=False)
    _restart_all(c)
    for kv in clients:
        if kv.pending:
            kv.wait()
    final = _final_reads(c, keys)
    history = c.history()
    result = es.raft.check_linearizable(history)
    assert result.ok is True, result.explanation
    log = final["log"] or ""
    for h in history:
        if h["kind"] == "append" and h["status"] == "ok":
            assert log.count(h["value"]) == 1, h
    _no_violations(c)


# ---------------------------------------------------------------- snapshots


def _fill(kv: es.raft.KVClient, count: int, prefix: str) -> None:
    for k in range(count):
        kv.put(f"{prefix}{k % 7}", f"{prefix}{k}")
        kv.append("log", f"<{prefix}{k}>")


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("unreliable", [False, True])
def test_snapshot_install_to_a_long_crashed_follower(seed: int, unreliable: bool) -> None:
    noise = {"loss": 0.1, "reorder": True} if unreliable else {}
    c = _cluster(seed, snapshot_every=10, client_timeout_ms=30_000, **noise)
    leader = c.run_until_leader(timeout_ms=5000)
    assert leader is not None
    kv = c.client()
    _fill(kv, 5, "a")
    follower = (leader + 2) % 5
    c.crash(follower)
    down_log = c.persisted(follower)["log_length"]
    _fill(kv, 40, "b")
    # The others compacted past everything the follower holds: only a snapshot can help it.
    others = [i for i in range(5) if i != follower]
    assert all(c.persisted(i)["snapshot_index"] > down_log + 1 for i in others)
    snapshots_before = c.message_counts()["Snapshot"]
    c.restart(follower)
    kv.put("after", "restart")
    c.run(ms=2000)
    assert c.message_counts()["Snapshot"] > snapshots_before
    assert c.persisted(follower)["snapshot_index"] > down_log
    assert c.kv(follower) == c.kv(c.leader() or 0)
    assert c.kv(follower)["after"] == "restart"
    assert c.kv(follower)["log"].count("<") == 45
    _no_violations(c)


@pytest.mark.parametrize("seed", SEEDS)
def test_restart_from_snapshot_keeps_state(seed: int) -> None:
    c = _cluster(seed, snapshot_every=8)
    assert c.run_until_leader(timeout_ms=5000) is not None
    kv = c.client()
    _fill(kv, 30, "s")
    c.run(ms=500)
    before = c.kv(0)
    assert all(c.kv(i) == before for i in range(5))
    for i in range(5):
        c.crash(i)
    for i in range(5):
        assert c.persisted(i)["snapshot_index"] > 0
        c.restart(i)
        # Restored from the snapshot at once, before any message: a prefix of the state.
        restored = c.kv(i)
        assert restored.get("log", "") == before["log"][: len(restored.get("log", ""))]
        assert restored.get("log", "").count("<") >= c.persisted(i)["snapshot_index"] // 2 - 2
    assert c.run_until_leader(timeout_ms=5000) is not None
    kv.put("new", "1")
    c.run(ms=500)
    for i in range(5):
        assert c.kv(i) == {**before, "new": "1"}
    # And once more, crashing the leader alone.
    leader = c.leader()
    assert leader is not None
    c.crash(leader)
    kv.put("new", "2")
    c.restart(leader)
    c.run(ms=1000)
    assert all(c.kv(i) == {**before, "new": "2"} for i in range(5))
    _no_violations(c)


# ---------------------------------------------------------------- partial connectivity


def _leader_changes(c: es.RaftCluster, ms: int, nodes: list[int]) -> tuple[int, int]:
    """Runs ``ms`` in 10 ms steps; returns (changes of the (leader, term) pair among ``nodes``,
    term bumps of the highest term among ``nodes``)."""

    def state() -> tuple[int | None, int]:
        leaders = _leaders(c, nodes)
        return (leaders[0] if len(leaders) == 1 else None, max(c.term(i) for i in nodes))

    last, first_term, changes = state(), state()[1], 0
    for _ in range(ms // 10):
        c.run(ms=10)
        now = state()
        changes += now != last
        last = now
    return changes, last[1] - first_term


@pytest.mark.parametrize("seed", SEEDS)
def test_partially_connected_node_cannot_depose_a_stable_leader(seed: int) -> None:
    """A node that reaches only one other node times out again and again. With PreVote and
    CheckQuorum it never wins a pre-vote, so no term rises anywhere and the leader stays;
    without both, its higher-term votes reach its one neighbour and keep deposing leaders."""
    outcome = {}
    for protect in (True, False):
        c = _cluster(seed, pre_vote=protect, check_quorum=protect)
        leader = c.run_until_leader(timeout_ms=5000)
        assert leader is not None
        c.run(ms=300)
        x, y = (leader + 1) % 5, (leader + 2) % 5
        for j in range(5):
            if j not in (x, y):
                c.cut(x, j)
                c.cut(j, x)
        outcome[protect] = _leader_changes(c, 5000, list(range(5)))
        _one(c, f"still-{protect}".encode(), [i for i in range(5) if i != x])
        _no_violations(c)
    assert outcome[True] == (0, 0)
    changes, bumps = outcome[False]
    assert changes >= 2 and bumps >= 2, outcome


@pytest.mark.parametrize("seed", SEEDS)
def test_leader_without_quorum_steps_down(seed: int) -> None:
    """CheckQuorum: a leader cut into a minority steps down within about an election timeout
    (without it, it believes it leads forever); the majority elects one leader and keeps it."""
    for check_quorum in (True, False):
        c = _cluster(seed, check_quorum=check_quorum)
        old = c.run_until_leader(timeout_ms=5000)
        assert old is not None
        minority = [old, (old + 1) % 5]
        majority = [i for i in range(5) if i not in minority]
        c.partition([minority, majority])
        c.run(ms=2 * 300 + 100)
        assert (c.role(old) == "leader") is not check_quorum
        new = _wait_leader_among(c, majority)
        assert new is not None
        changes, bumps = _leader_changes(c, 3000, majority)
        assert (changes, bumps) == (0, 0)
        _no_violations(c)


@pytest.mark.parametrize("seed", SEEDS)
def test_leader_that_cannot_hear_steps_down_once(seed: int) -> None:
    """One-way cuts: the leader still reaches everyone but hears no one. CheckQuorum makes it
    step down, the others elect one new leader, and PreVote keeps the deaf node (which keeps
    timing out) from raising terms, so that leader stays."""
    c = _cluster(seed)
    old = c.run_until_leader(timeout_ms=5000)
    assert old is not None
    c.run(ms=200)
    for j in range(5):
        if j != old:
            c.cut(j, old)
    others = [i for i in range(5) if i != old]
    new = _wait_leader_among(c, others)
    assert new is not None
    assert c.role(old) != "leader"
    changes, bumps = _leader_changes(c, 3000, others)
    assert (changes, bumps) == (0, 0)
    assert c.term(old) <= c.term(new)
    _one(c, b"after", others)
    _no_violations(c)


def test_propose_at_a_node_and_message_counts_by_type() -> None:
    c = _cluster(3, n=3)
    leader = c.run_until_leader(timeout_ms=5000)
    assert leader is not None
    follower = (leader + 1) % 3
    assert c.propose(b"no", node=follower) is None
    assert c.propose(b"yes", node=leader) is not None
    with pytest.raises(ValueError, match="^node:"):
        c.propose(b"x", node=3)
    with pytest.raises(ValueError, match="^node:"):
        c.message_counts(5)
    c.run(ms=200)
    per_node = [c.message_counts(i) for i in range(3)]
    assert sum(sum(m.values()) for m in per_node) == c.message_count()
    assert all(sum(per_node[i].values()) == c.message_count(i) for i in range(3))
    assert per_node[leader]["Heartbeat"] > 0 and per_node[follower]["HeartbeatResponse"] > 0
