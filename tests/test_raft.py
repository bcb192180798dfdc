"""The Raft facade: arguments, inspection, clients and their history, determinism."""

from __future__ import annotations

import re

import edgeswarm as es
import pytest


@pytest.fixture
def cluster() -> es.RaftCluster:
    c = es.RaftCluster(n=3, seed=7)
    assert c.run_until_leader(timeout_ms=5000) is not None
    return c


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"n": 0}, "n"),
        ({"n": 2.5}, "n"),
        ({"election_timeout_ms": (300, 150)}, "election_timeout_ms"),
        ({"election_timeout_ms": (150, 150)}, "election_timeout_ms"),
        ({"election_timeout_ms": 150}, "election_timeout_ms"),
        ({"heartbeat_ms": 150}, "heartbeat_ms"),
        ({"heartbeat_ms": 0}, "heartbeat_ms"),
        ({"latency_ms": (5, 1)}, "latency_ms"),
        ({"latency_ms": (-1, 1)}, "latency_ms[0]"),
        ({"loss": 1.5}, "loss"),
        ({"duplicate": -0.1}, "duplicate"),
        ({"reorder": 2}, "reorder"),
        ({"fsync_us": -1}, "fsync_us"),
        ({"client_timeout_ms": 0}, "client_timeout_ms"),
        ({"max_entries_per_msg": 0}, "max_entries_per_msg"),
    ],
)
def test_bad_options_raise_value_error_naming_them(options: dict[str, object], name: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(name) + ":"):
        es.RaftCluster(**options)


def test_options_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        es.RaftCluster(5)  # type: ignore[misc]


def test_node_ids_are_checked(cluster: es.RaftCluster) -> None:
    for call in (cluster.crash, cluster.restart, cluster.role, cluster.term, cluster.persisted):
        with pytest.raises(ValueError, match="^node:"):
            call(3)
        with pytest.raises(ValueError, match="^node:"):
            call(-1)
    with pytest.raises(ValueError, match="^j:"):
        cluster.cut(0, 9)
    with pytest.raises(ValueError, match="^groups:"):
        cluster.partition([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="^groups:"):
        cluster.partition([[0, 5]])
    with pytest.raises(ValueError, match="^data:"):
        cluster.propose("text")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="^ms:"):
        cluster.run(ms=-1)
    cluster.crash(1)
    with pytest.raises(ValueError, match="^node:"):
        cluster.kv(1)


def test_inspection(cluster: es.RaftCluster) -> None:
    leader = cluster.leader()
    assert leader is not None and cluster.role(leader) == "leader"
    assert all(cluster.role(i) in es.raft.RAFT_ROLES for i in range(3))
    index, term = cluster.propose(b"payload")
    assert term == cluster.term(leader)
    cluster.run(ms=50)
    for i in range(3):
        assert cluster.applied(i) == [(index, b"payload")]
        assert cluster.commit_index(i) >= index
        disk = cluster.persisted(i)
        assert (
            disk["log_length"] >= index and disk["term"] == term and disk["commit"] <= cluster.commit_index(i)
        )
    assert cluster.persisted(leader)["vote"] == leader
    assert cluster.message_count() == sum(cluster.message_count(i) for i in range(3)) > 0
    assert cluster.bytes_sent() > 10 * cluster.message_count() // 10
    cluster.crash(leader)
    assert cluster.role(leader) == "down"
    assert cluster.term(leader) == term  # the persisted term
    assert cluster.violations() == []


def test_no_leader_means_no_proposal() -> None:
    c = es.RaftCluster(n=3, seed=1)
    assert c.propose(b"x") is None  # nobody has been elected yet


def test_client_history_format(cluster: es.RaftCluster) -> None:
    kv = cluster.client()
    assert kv.get("missing") is None
    kv.put("a", "1")
    kv.append("a", "2")
    assert kv.get("a") == "12"
    kv.delete("a")
    assert kv.get("a") is None
    assert kv.emergency("fire-7", "zone 3") == 1
    cluster.run(ms=100)  # followers apply it one heartbeat later
    assert [e[2:] for e in cluster.emergencies(0)] == [("fire-7", "zone 3")]
    history = cluster.history()
    assert [h["kind"] for h in history] == ["get", "put", "append", "get", "delete", "get"]
    for h in history:
        assert set(h) == {"client", "kind", "key", "value", "call", "ret", "status", "output"}
        assert h["client"] == kv.id and h["status"] == "ok"
        assert isinstance(h["call"], int) and h["ret"] >= h["call"]
    assert history[1]["value"] == "1" and history[0]["value"] is None
    assert history[3]["output"] == "12" and history[0]["output"] is None
    assert cluster.kv(0) == {}


def test_concurrent_clients_and_a_pending_operation(cluster: es.RaftCluster) -> None:
    a, b = cluster.client(), cluster.client()
    a.append("x", "a", wait=False)
    b.append("x", "b", wait=False)
    with pytest.raises(ValueError, match="^client:"):
        a.put("y", "z")
    # Before running, both are pending: history reports them as unknown.
    assert [h["status"] for h in cluster.history()] == ["unknown", "unknown"]
    assert a.wait()["status"] == "ok" and b.wait()["status"] == "ok"
    assert a.get("x") in ("ab", "ba")


def test_client_without_a_majority_times_out() -> None:
    c = es.RaftCluster(n=3, seed=3, client_timeout_ms=500)
    assert c.run_until_leader(timeout_ms=5000) is not None
    for i in range(3):
        c.crash(i)
    kv = c.client()
    with pytest.raises(TimeoutError):
        kv.put("k", "v")
    (h,) = c.history()
    assert h["status"] == "failed" and h["ret"] is None  # no leader ever accepted it


def test_set_network_and_cut() -> None:
    c = es.RaftCluster(n=5, seed=4)
    c.set_network(loss=0.1, duplicate=0.05, reorder=True, latency_ms=(0, 26))
    assert c.run_until_leader(timeout_ms=10_000) is not None
    leader = c.leader()
    kv = c.client()
    for k in range(5):
        kv.append("x", str(k))
    assert kv.get("x") == "01234"
    for j in range(5):
        if j != leader:
            c.cut(leader, j)
    c.run(ms=2000)
    assert c.role(leader) != "leader"  # it cannot reach anyone: CheckQuorum steps it down
    assert c.violations() == []
    with pytest.raises(ValueError, match="^loss:"):
        c.set_network(loss=2)


def _fingerprint(seed: int) -> tuple[object, ...]:
    c = es.RaftCluster(n=5, seed=seed, loss=0.05, reorder=True)
    c.run_until_leader(timeout_ms=5000)
    kv = c.client()
    kv.put("k", "v")
    c.crash(c.leader() or 0)
    kv.append("k", "w")
    return (c.now_us, c.message_count(), c.bytes_sent(), tuple(map(str, c.history())))


def test_same_seed_same_run() -> None:
    assert _fingerprint(11) == _fingerprint(11)
    assert _fingerprint(11) != _fingerprint(12)


def test_raft_module_is_exported() -> None:
    assert es.raft.RaftCluster is es.RaftCluster
    assert "RaftCluster" in es.__all__
