"""Emergency coordination: clustering, leaders, emergencies recorded only on commit, faults, real time."""

from __future__ import annotations

import re

import edgeswarm as es
import numpy as np
import pytest
from edgeswarm.fleet.emergency import EMERGENCY_STATUSES, PENDING_STATUSES, SEVERITIES, RealTimeDriver


def _positions(n: int = 40, seed: int = 3) -> np.ndarray:
    return es.Swarm(n_nodes=n, seed=seed).topology()["positions"]


def _five() -> es.EmergencyCoordinator:
    """One cluster of five devices "a".."e", all Raft members, plus a second small cluster."""
    mapping = {
        "a": "north",
        "b": "north",
        "c": "north",
        "d": "north",
        "e": "north",
        "f": "south",
        "g": "south",
    }
    co = es.EmergencyCoordinator(
        clusters=mapping, group_size=5, seed=2, raft_options={"client_timeout_ms": 3000}
    )
    leaders = co.run_until_leaders(timeout_ms=5000)
    assert all(h is not None for h in leaders.values())
    return co


def _report(co: es.EmergencyCoordinator, devices: list[object], **fields: object) -> es.Emergency:
    base = {"type": "flood", "severity": "critical", "zone": "river-2", "action": "move uphill"}
    base.update(fields)
    return co.report(affected_devices=devices, **base)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- clustering


@pytest.mark.parametrize("options", [{"n_clusters": 4}, {"cell_size": 0.34}])
def test_clustering_is_deterministic_and_covers_every_device_once(options: dict[str, float]) -> None:
    pos = _positions()
    a = es.EmergencyCoordinator(positions=pos, group_size=3, seed=5, **options)
    b = es.EmergencyCoordinator(positions=pos, group_size=3, seed=5, **options)
    assert a.clusters() == b.clusters()
    assert {c: a.members(c) for c in a.cluster_ids} == {c: b.members(c) for c in b.cluster_ids}
    every = [d for devices in a.clusters().values() for d in devices]
    assert sorted(every) == list(range(len(pos)))  # each device exactly once
    assert a.cluster_ids == list(range(len(a.cluster_ids)))
    for c, devices in a.clusters().items():
        assert all(a.cluster_of(d) == c for d in devices)
        # Members: the min(size, group_size) devices nearest to the centroid, nearest first.
        pts = pos[devices]
        dist = ((pts - pts.mean(axis=0)) ** 2).sum(axis=1)
        expected = [devices[j] for j in np.argsort(dist, kind="stable")[:3]]
        assert a.members(c) == expected
        assert a.head(c) == expected[0]  # the head: the device nearest the centroid
        assert a.raft(c).n == min(3, len(devices))


@pytest.mark.parametrize("seed", [1, 2, 7])
@pytest.mark.parametrize("options", [{"n_clusters": 5}, {"n_clusters": 1}, {"cell_size": 0.25}])
def test_clusters_and_heads_are_those_of_fleet_cluster(options: dict[str, float], seed: int) -> None:
    """One clustering: the coordinator's clusters, numbering, centroids and heads are
    es.fleet.cluster's for the same positions, k (or cell size) and seed."""
    pos = _positions(60, seed=seed)
    co = es.EmergencyCoordinator(positions=pos, group_size=4, seed=seed, **options)
    if "n_clusters" in options:
        found = es.fleet.cluster(pos, k=options["n_clusters"], seed=seed)
    else:
        found = es.fleet.cluster(pos, cell_size=options["cell_size"])
    assert co.cluster_ids == list(range(found.k))
    assert [co.cluster_of(d) for d in range(len(pos))] == found.labels.tolist()
    assert co.clusters() == {j: np.flatnonzero(found.labels == j).tolist() for j in range(found.k)}
    assert co.heads() == dict(enumerate(found.heads.tolist()))
    assert [co.centroid(c) for c in co.cluster_ids] == found.centroids.tolist()
    for c in co.cluster_ids:
        assert co.members(c)[0] == co.head(c) == co.status()[c]["head"]
    if options.get("n_clusters") == 5:  # another seed, another k-means start: the coordinator follows it
        other = es.fleet.cluster(pos, k=5, seed=seed + 100)
        co2 = es.EmergencyCoordinator(positions=pos, n_clusters=5, seed=seed + 100)
        assert [co2.cluster_of(d) for d in range(len(pos))] == other.labels.tolist()


def test_kmeans_groups_separated_blobs_and_grid_follows_cells() -> None:
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    pts = np.concatenate([c + rng.normal(scale=0.3, size=(8, 2)) for c in centres])
    blobs = sorted([list(range(8)), list(range(8, 16)), list(range(16, 24))])
    for seed in range(5):  # any seed finds the same well-separated blobs
        co = es.EmergencyCoordinator(positions=pts, n_clusters=3, seed=seed)
        assert sorted(co.clusters().values()) == blobs
    grid = es.EmergencyCoordinator(
        positions=np.array([[0.1, 0.1], [0.9, 0.2], [1.1, 0.1], [0.2, 1.5], [1.9, 0.9]]), cell_size=1.0
    )
    assert grid.clusters() == {0: [0, 1], 1: [2, 4], 2: [3]}  # cells numbered by their first device
    # More clusters than distinct points: fewer clusters, none empty.
    assert es.EmergencyCoordinator(positions=np.zeros((4, 2)), n_clusters=3).clusters() == {0: [0, 1, 2, 3]}


def test_explicit_clusters_use_the_first_devices_as_members() -> None:
    mapping = {10: "x", 11: "y", 12: "x", 13: "x", 14: "x", 15: "y"}
    co = es.EmergencyCoordinator(clusters=mapping, group_size=3)
    assert co.cluster_ids == ["x", "y"]
    assert co.clusters() == {"x": [10, 12, 13, 14], "y": [11, 15]}
    assert co.members("x") == [10, 12, 13] and co.members("y") == [11, 15]
    assert co.heads() == {"x": 10, "y": 11} and co.centroid("x") is None  # no positions: first device
    # With positions as well, members are the devices nearest to the centroid.
    pos = {10: (0.0, 0.0), 11: (5.0, 5.0), 12: (9.0, 0.0), 13: (3.0, 0.0), 14: (4.0, 0.0), 15: (5.0, 6.0)}
    co = es.EmergencyCoordinator(clusters=mapping, positions=pos, group_size=2)
    assert co.members("x") == [14, 13]
    assert co.head("x") == 14 and co.centroid("x") == [4.0, 0.0]


def test_each_cluster_elects_a_leader() -> None:
    co = es.EmergencyCoordinator.from_swarm(es.Swarm(n_nodes=30, seed=1), n_clusters=3, group_size=3, seed=1)
    assert all(h is None for h in co.leaders().values())  # nobody elected at time 0
    leaders = co.run_until_leaders(timeout_ms=5000)
    assert set(leaders) == set(co.cluster_ids)
    for c, leader in leaders.items():
        assert leader in co.members(c)
        raft = co.raft(c)
        assert raft.role(co.members(c).index(leader)) == "leader"
        assert co.status()[c]["leader"] == leader
    assert co.violations() == []


# ---------------------------------------------------------------------------- emergencies


def test_an_emergency_is_recorded_only_once_committed_with_every_field() -> None:
    co = _five()
    e = _report(co, ["a", "c"], time=1712.25, id="flood-1")
    assert e == es.Emergency(
        id="flood-1",
        type="flood",
        severity="critical",
        zone="river-2",
        affected_devices=("a", "c"),
        action="move uphill",
        time=1712.25,
    )
    assert co.emergencies() == []  # proposed, not committed: time has not moved
    (p,) = co.pending()
    assert p["status"] == "proposed" and p["emergency"] == e and p["cluster_id"] == "north"
    co.advance(100)
    assert co.emergencies() == [e] and co.emergencies("north") == [e] and co.emergencies("south") == []
    assert co.pending() == []
    (record,) = co.records()
    assert (
        record["cluster_id"] == "north" and record["index"] >= 1 and record["affected_devices"] == ["a", "c"]
    )
    # Replicated: every member's applied emergency log holds the same JSON payload.
    raft = co.raft("north")
    for i in range(5):
        assert [(k, es.Emergency.from_json(v)) for _, _, k, v in raft.emergencies(i)] == [("flood-1", e)]
    status = co.status()
    assert status["north"]["committed"] == 1 and status["north"]["pending"] == 0
    assert status["south"]["committed"] == 0
    # Generated ids and default time (simulated seconds) when left out.
    g = _report(co, ["f"], severity="low")
    assert g.id.startswith("em-") and g.time == co.now_ms / 1000
    co.advance(100)
    assert co.emergencies("south") == [g]


def test_emergency_proposed_while_the_leader_is_down_commits_under_the_new_leader() -> None:
    co = _five()
    old = co.leader("north")
    co.crash("north", old)
    e = _report(co, ["b", "d"])
    co.advance(20)
    assert co.emergencies() == []
    assert co.pending()[0]["status"] == "proposed"  # the client keeps retrying
    co.advance(1500)
    new = co.leader("north")
    assert new is not None and new != old
    assert co.emergencies("north") == [e] and co.pending() == []
    assert co.status()["north"]["down"] == [old]
    assert co.violations() == []


def test_emergencies_survive_crash_and_restart_of_the_leader_and_of_everyone() -> None:
    co = _five()
    e1 = _report(co, ["a"], id="e1")
    co.advance(100)
    leader = co.leader("north")
    co.crash("north", leader)
    co.advance(1000)
    assert co.emergencies("north") == [e1]
    e2 = _report(co, ["b"], id="e2")
    co.advance(200)
    co.restart("north", leader)
    co.advance(200)
    assert co.emergencies("north") == [e1, e2]
    i = co.members("north").index(leader)
    assert [k for _, _, k, _ in co.raft("north").emergencies(i)] == ["e1", "e2"]  # caught up after restart
    members = co.members("north")
    for d in members:
        co.crash("north", d)
    assert co.emergencies("north") == [e1, e2]  # what was seen committed stays recorded
    for d in members:
        co.restart("north", d)
    co.run_until_leaders(timeout_ms=5000)
    co.advance(100)
    raft = co.raft("north")
    for i in range(5):  # rebuilt from every node's disk
        assert [k for _, _, k, _ in raft.emergencies(i)] == ["e1", "e2"]
    assert co.violations() == []


def test_a_cluster_without_a_majority_does_not_record() -> None:
    co = _five()
    leader = co.leader("north")
    others = [d for d in co.members("north") if d != leader]
    co.partition("north", [[leader, others[0]]])  # the rest each alone: no majority anywhere
    commit = co.status()["north"]["commit_index"]
    e = _report(co, ["a", "e"])
    co.advance(1000)
    assert co.emergencies("north") == []
    assert co.pending()[0]["status"] == "proposed"
    assert max(co.raft("north").commit_index(i) for i in range(5)) == commit
    co.heal("north")
    co.advance(1500)
    assert co.emergencies("north") == [e] and co.pending() == []
    assert co.violations() == []


def test_a_proposal_that_times_out_is_reported_then_retried_once_recorded() -> None:
    co = _five()
    for d in co.members("north"):
        co.crash("north", d)
    e = _report(co, ["c"])
    co.advance(3500)  # beyond the client timeout of 3000 ms
    (p,) = co.pending()
    assert p["status"] == "failed"  # no leader ever accepted it
    with pytest.raises(ValueError, match="^emergency_id:"):
        co.retry("nope")
    for d in co.members("north"):
        co.restart("north", d)
    co.advance(500)
    assert co.emergencies() == []  # a failed proposal does not commit by itself
    co.retry(e.id)
    assert co.pending()[0]["status"] == "proposed" and co.pending()[0]["attempts"] == 2
    with pytest.raises(ValueError, match="^emergency_id:"):
        co.retry(e.id)  # still in flight
    co.advance(1000)
    assert co.emergencies() == [e] and co.pending() == []


def test_an_unknown_outcome_retried_is_recorded_once_even_if_both_attempts_commit() -> None:
    co = _five()
    leader = co.leader("north")
    others = [d for d in co.members("north") if d != leader]
    for d in others[:3]:
        co.crash("north", d)  # the leader accepts the proposal but cannot commit it
    e = _report(co, ["a"])
    co.advance(3500)
    assert co.pending()[0]["status"] == "unknown"  # a leader took it: it may still commit
    assert co.emergencies() == []
    co.retry(e.id)
    for d in others[:3]:
        co.restart("north", d)
    co.advance(1000)
    assert co.emergencies() == [e] and co.pending() == []
    logged = [k for _, _, k, _ in co.raft("north").emergencies(co.members("north").index(leader))]
    assert logged == [e.id, e.id]  # for this seed both attempts committed; the first one counts
    assert co.violations() == []


def test_same_seed_same_run() -> None:
    def run(seed: int) -> tuple[object, ...]:
        co = es.EmergencyCoordinator(positions=_positions(20), n_clusters=2, group_size=3, seed=seed)
        co.run_until_leaders()
        for c in co.cluster_ids:
            _report(co, [co.devices_of(c)[-1]])
        co.advance(300)
        return (co.now_ms, repr(co.status()), repr(co.records()))

    assert run(4) == run(4)
    assert run(4) != run(5)


# ---------------------------------------------------------------------------- real time


def test_real_time_driver_follows_wall_clock_deltas_with_a_cap() -> None:
    co = _five()
    start = co.now_ms
    driver = RealTimeDriver(co, max_step_ms=200)
    assert driver.tick(1000.0) == 0  # the origin
    assert driver.tick(1000.25) == 250_000 - 50_000  # 250 ms elapsed, capped at 200 ms
    assert driver.dropped_ms == 50
    assert co.now_ms == start + 200
    assert driver.tick(1000.25) == 0
    assert driver.tick(1000.3) == 50_000
    assert driver.tick(1000.4) == 100_000
    assert co.now_ms == start + 350 and driver.advanced_ms == 350
    with pytest.raises(ValueError, match="^now_s:"):
        driver.tick(999.0)
    e = _report(co, ["d"])
    for k in range(1, 5):
        driver.tick(1000.4 + 0.05 * k)
    assert co.emergencies() == [e]

    fast = RealTimeDriver(co, speed=4.0, max_step_ms=1000)
    before = co.now_ms
    fast.tick(5.0)
    assert fast.tick(5.1) == 400_000 and co.now_ms == before + 400

    other = _five()
    t0 = other.now_ms
    assert other.tick_realtime(7.0) == 0
    assert other.tick_realtime(7.08) == 80_000 and other.now_ms == t0 + 80


# ---------------------------------------------------------------------------- bad input


def _fresh() -> es.EmergencyCoordinator:
    return es.EmergencyCoordinator(clusters={1: 0, 2: 0, 3: 1}, group_size=3)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda co: co.leader("nope"), "cluster_id"),
        (lambda co: co.crash(9, 1), "cluster_id"),
        (lambda co: co.crash(0, 99), "device"),
        (lambda co: co.crash(0, 3), "device"),  # known, but a member of another cluster
        (lambda co: co.restart(0, 1.5), "device"),
        (lambda co: co.partition(0, [[1, 7]]), "groups"),
        (lambda co: co.advance(-1), "ms"),
        (lambda co: co.advance(float("nan")), "ms"),
        (lambda co: co.emergencies("x"), "cluster_id"),
        (lambda co: co.pending(5), "cluster_id"),
        (lambda co: _report(co, [1], severity="apocalyptic"), "severity"),
        (lambda co: _report(co, [1], type=""), "type"),
        (lambda co: _report(co, [1], zone=3), "zone"),
        (lambda co: _report(co, [42]), "affected_devices"),
        (lambda co: _report(co, [1, 1]), "affected_devices"),
        (lambda co: _report(co, "1"), "affected_devices"),
        (lambda co: _report(co, [1, 3]), "cluster_id"),  # two clusters: say which
        (lambda co: _report(co, [], cluster_id=None), "cluster_id"),
        (lambda co: _report(co, [1], time=-1.0), "time"),
        (lambda co: _report(co, [1], cluster_id="z"), "cluster_id"),
        (lambda co: (_report(co, [1], id="x"), _report(co, [2], id="x")), "id"),
        (lambda co: co.propose("fire"), "emergency"),
        (lambda co: co.retry("missing"), "emergency_id"),
        (lambda co: co.run_until_leaders(timeout_ms=-5), "timeout_ms"),
        (lambda co: RealTimeDriver(co, max_step_ms=0), "max_step_ms"),
        (lambda co: RealTimeDriver(co, speed=0), "speed"),
        (lambda co: co.tick_realtime("now"), "now_s"),
    ],
)
def test_bad_input_names_the_parameter(call: object, name: str) -> None:
    co = _fresh()
    with pytest.raises(ValueError, match="^" + re.escape(name) + ":"):
        call(co)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({}, "positions"),
        ({"positions": np.zeros((3, 2))}, "n_clusters"),
        ({"positions": np.zeros((3, 2)), "n_clusters": 2, "cell_size": 1.0}, "n_clusters"),
        ({"positions": np.zeros((3, 2)), "n_clusters": 0}, "n_clusters"),
        ({"positions": np.zeros((3, 2)), "cell_size": -1.0}, "cell_size"),
        ({"positions": np.array([[0.0, np.nan]]), "n_clusters": 1}, "positions"),
        ({"positions": np.zeros(3), "n_clusters": 1}, "positions"),
        ({"positions": np.zeros((3, 2)), "n_clusters": 1.5}, "n_clusters"),
        ({"positions": np.zeros((3, 2)), "n_clusters": 2, "seed": 2**64}, "seed"),
        ({"clusters": {}}, "clusters"),
        ({"clusters": [1, 2]}, "clusters"),
        ({"clusters": {1: 0.5}}, "clusters"),
        ({"clusters": {True: 0}}, "clusters"),
        ({"clusters": {1: 0}, "n_clusters": 2}, "clusters"),
        ({"clusters": {1: 0}, "positions": {2: (0.0, 0.0)}}, "positions"),
        ({"clusters": {1: 0}, "group_size": 0}, "group_size"),
        ({"clusters": {1: 0}, "seed": -1}, "seed"),
        ({"clusters": {1: 0}, "raft_options": {"n": 3}}, "raft_options"),
        ({"clusters": {1: 0}, "raft_options": {"loss": 2.0}}, "loss"),
    ],
)
def test_bad_options_name_the_parameter(options: dict[str, object], name: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(name) + ":"):
        es.EmergencyCoordinator(**options)  # type: ignore[arg-type]


def test_emergency_validation_and_json_round_trip() -> None:
    e = es.Emergency(
        id="q-1", type="quake", severity="high", zone="", affected_devices=[3, "gw-1"], action="", time=0.1
    )
    assert e.affected_devices == (3, "gw-1")  # stored as a tuple
    assert es.Emergency.from_json(e.to_json()) == e
    assert es.Emergency.from_dict(e.to_dict()) == e
    assert SEVERITIES == ("low", "medium", "high", "critical")
    assert set(PENDING_STATUSES) == {"proposed", "acknowledged", "unknown", "failed"}
    # One vocabulary: the pending statuses, then committed, and abandoned (the runtime's, after a restart).
    assert (*PENDING_STATUSES, "committed", "abandoned") == EMERGENCY_STATUSES
    with pytest.raises(ValueError, match="^severity:"):
        es.Emergency(id="x", type="t", severity="HIGH", zone="", affected_devices=(), action="", time=0)
    with pytest.raises(ValueError, match="^time:"):
        es.Emergency(
            id="x", type="t", severity="low", zone="", affected_devices=(), action="", time=float("inf")
        )
    with pytest.raises(ValueError, match="^id:"):
        es.Emergency(id=" ", type="t", severity="low", zone="", affected_devices=(), action="", time=0)
    with pytest.raises(ValueError, match="^affected_devices:"):
        es.Emergency(id="x", type="t", severity="low", zone="", affected_devices=(True,), action="", time=0)
    with pytest.raises(ValueError, match="^text:"):
        es.Emergency.from_json("{not json")
    with pytest.raises(ValueError, match="^data:"):
        es.Emergency.from_json('{"id": "x"}')


def test_emergency_is_exported() -> None:
    assert es.emergency.EmergencyCoordinator is es.EmergencyCoordinator
    assert {"Emergency", "EmergencyCoordinator"} <= set(es.__all__)
