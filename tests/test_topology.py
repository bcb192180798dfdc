"""Swarm topologies: structure, determinism and validation, checked with NumPy."""

from __future__ import annotations

import gc
import math

import numpy as np
import pytest
from edgeswarm import _core
from edgeswarm import topology as topo

MESHES = ("ring", "k_regular", "grid", "torus", "random_geometric", "small_world")


def assert_simple_symmetric(t: topo.Topology) -> None:
    """Sorted lists, ids in range, no self loops or duplicates, every edge both ways."""
    n = t.n
    assert t.offsets.dtype == np.uint64 and t.offsets.shape == (n + 1,)
    assert t.neighbours.dtype == np.uint32
    assert t.offsets[0] == 0 and t.offsets[-1] == t.neighbours.size
    owners = np.repeat(np.arange(n, dtype=np.int64), np.diff(t.offsets).astype(np.int64))
    nb = t.neighbours.astype(np.int64)
    assert np.all(nb < n)
    assert not np.any(owners == nb), "self loop"
    same_owner = owners[1:] == owners[:-1]
    assert np.all(np.diff(nb)[same_owner] > 0), "unsorted or duplicate"
    forward = np.sort(owners * n + nb)
    backward = np.sort(nb * n + owners)
    assert np.array_equal(forward, backward), "asymmetric"
    assert t.edge_count * 2 == t.neighbours.size


def is_connected(t: topo.Topology) -> bool:
    """Breadth-first search over the CSR arrays, one frontier at a time."""
    seen = np.zeros(t.n, dtype=bool)
    seen[0] = True
    frontier = np.array([0])
    offsets = t.offsets.astype(np.int64)
    while frontier.size:
        starts, ends = offsets[frontier], offsets[frontier + 1]
        idx = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends, strict=True)])
        reached = np.unique(t.neighbours[idx])
        frontier = reached[~seen[reached]]
        seen[frontier] = True
    return bool(seen.all())


def test_names_match_the_engine() -> None:
    assert topo.TOPOLOGIES == _core.TOPOLOGIES
    assert set(topo.TOPOLOGIES) == {"complete", "star", *MESHES}


@pytest.mark.parametrize("kind", ["complete", "star"])
def test_centralised_kinds_have_no_lists(kind: str) -> None:
    t = topo.build(12, topology=kind)
    assert t.centralised
    assert np.array_equal(t.offsets, np.zeros(13, dtype=np.uint64))
    assert t.neighbours.size == 0
    expected = np.full(12, 11) if kind == "complete" else np.ones(12)
    assert np.array_equal(t.degrees(), expected)
    assert t.edge_count == (66 if kind == "complete" else 12)
    radius = np.hypot(t.positions[:, 0] - 0.5, t.positions[:, 1] - 0.5)
    assert np.allclose(radius, 0.5)
    with pytest.raises(ValueError, match="^topology: .*centralised"):
        t.edges()


@pytest.mark.parametrize("kind", MESHES)
def test_meshes_are_simple_symmetric_and_connected(kind: str) -> None:
    n = 400 if kind != "random_geometric" else 2000
    t = topo.build(n, topology=kind, seed=1)
    assert not t.centralised
    assert t.kind == kind
    assert t.positions.shape == (n, 2) and t.positions.dtype == np.float64
    assert np.all((t.positions >= 0.0) & (t.positions <= 1.0))
    assert_simple_symmetric(t)
    assert is_connected(t)


def test_ring_neighbours() -> None:
    t = topo.build(9, topology="ring")
    for i in range(9):
        assert t.neighbours_of(i).tolist() == sorted([(i - 1) % 9, (i + 1) % 9])


@pytest.mark.parametrize("degree", [3, 4, 8, 16])
def test_k_regular_degrees(degree: int) -> None:
    t = topo.build(1000, topology="k_regular", degree=degree, seed=3)
    assert np.all(t.degrees() == degree)
    assert t.edge_count == 1000 * degree // 2
    assert_simple_symmetric(t)
    assert is_connected(t)


def test_k_regular_dense() -> None:
    t = topo.build(12, topology="k_regular", degree=9, seed=0)
    assert np.all(t.degrees() == 9)
    assert_simple_symmetric(t)
    complete = topo.build(7, topology="k_regular", degree=6)
    assert complete.edge_count == 21


def test_grid_matches_coordinates() -> None:
    n, side = 23, 5
    t = topo.build(n, topology="grid")
    rows, cols = np.divmod(np.arange(n), side)
    manhattan = np.abs(rows[:, None] - rows[None, :]) + np.abs(cols[:, None] - cols[None, :])
    for i in range(n):
        assert t.neighbours_of(i).tolist() == np.flatnonzero(manhattan[i] == 1).tolist()
    assert np.allclose(t.positions, np.stack([cols, rows], axis=1) / (side - 1))


def test_torus_is_four_regular_with_wraparound() -> None:
    side = 6
    t = topo.build(side * side, topology="torus")
    assert np.all(t.degrees() == 4)
    rows, cols = np.divmod(np.arange(side * side), side)
    dr = np.abs(rows[:, None] - rows[None, :])
    dc = np.abs(cols[:, None] - cols[None, :])
    ring_distance = np.minimum(dr, side - dr) + np.minimum(dc, side - dc)
    for i in range(side * side):
        assert t.neighbours_of(i).tolist() == np.flatnonzero(ring_distance[i] == 1).tolist()


def test_random_geometric_matches_brute_force() -> None:
    n, radius = 500, 0.08
    t = topo.build(n, topology="random_geometric", radius=radius, seed=4)
    p = t.positions
    d2 = (p[:, None, 0] - p[None, :, 0]) ** 2 + (p[:, None, 1] - p[None, :, 1]) ** 2
    adjacent = (d2 <= radius * radius) & ~np.eye(n, dtype=bool)
    for i in range(n):
        assert t.neighbours_of(i).tolist() == np.flatnonzero(adjacent[i]).tolist()


def test_random_geometric_default_radius_mean_degree() -> None:
    n = 2000
    t = topo.build(n, topology="random_geometric", seed=1)
    # pi r^2 n = 2 ln n for the default radius; the square's border lowers it a little.
    mean_degree = t.degrees().mean()
    assert 0.85 * 2 * math.log(n) < mean_degree < 1.02 * 2 * math.log(n)


def test_small_world_without_rewiring_is_the_lattice() -> None:
    n = 20
    t = topo.build(n, topology="small_world", degree=4, rewire=0.0)
    for i in range(n):
        assert t.neighbours_of(i).tolist() == sorted((i + j) % n for j in (-2, -1, 1, 2))


def test_small_world_rewires_about_the_requested_fraction() -> None:
    n, p = 4000, 0.3
    t = topo.build(n, topology="small_world", degree=6, rewire=p, seed=2)
    assert t.edge_count == n * 3
    edges = t.edges().astype(np.int64)
    gap = np.minimum((edges[:, 1] - edges[:, 0]) % n, (edges[:, 0] - edges[:, 1]) % n)
    assert abs(np.mean(gap > 3) - p) < 0.02


@pytest.mark.parametrize("kind", ["k_regular", "random_geometric", "small_world"])
def test_random_kinds_are_deterministic(kind: str) -> None:
    a = topo.build(300, topology=kind, seed=11)
    b = topo.build(300, topology=kind, seed=11)
    c = topo.build(300, topology=kind, seed=12)
    assert np.array_equal(a.offsets, b.offsets)
    assert np.array_equal(a.neighbours, b.neighbours)
    assert np.array_equal(a.positions, b.positions)
    assert not np.array_equal(a.neighbours, c.neighbours)


def test_arrays_are_read_only_views_that_outlive_the_dict() -> None:
    raw = _core.build_topology(50, topology="ring")
    neighbours = raw["neighbours"]
    assert not neighbours.flags.writeable
    with pytest.raises(ValueError):
        neighbours[0] = 3
    del raw
    gc.collect()
    assert neighbours[:2].tolist() == [1, 49]
    assert set(_core.build_topology(5, topology="grid")) >= {
        "offsets",
        "neighbours",
        "positions",
        "centralised",
        "edge_count",
    }


def test_edges_lists_each_edge_once() -> None:
    t = topo.build(10, topology="ring")
    assert t.edges().tolist() == [[0, 1], [0, 9], *[[i, i + 1] for i in range(1, 9)]]


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"n": 0}, "^n: 0"),
        ({"n": -3}, "^n: -3"),
        ({"n": 2, "topology": "ring"}, "^n: 2"),
        ({"n": 20, "topology": "torus"}, "^n: 20"),
        ({"n": 10, "topology": "k_regular", "degree": 10}, "^degree: 10"),
        ({"n": 9, "topology": "k_regular", "degree": 3}, "^degree: 3"),
        ({"n": 10, "topology": "small_world", "degree": 3}, "^degree: 3"),
        ({"n": 10, "topology": "random_geometric", "radius": -0.5}, "^radius: -0.5"),
        ({"n": 10, "topology": "small_world", "rewire": 1.5}, "^rewire: 1.5"),
        ({"n": 10, "topology": "small_world", "rewire": float("nan")}, "^rewire: nan"),
    ],
)
def test_bad_parameters_name_themselves(kwargs: dict, pattern: str) -> None:
    n = kwargs.pop("n")
    with pytest.raises(ValueError, match=pattern):
        topo.build(n, **kwargs)


def test_unknown_topology_lists_the_allowed_names() -> None:
    with pytest.raises(ValueError, match="^topology: 'mesh' is unknown") as info:
        topo.build(10, topology="mesh")
    for name in topo.TOPOLOGIES:
        assert name in str(info.value)


def test_neighbours_of_checks_the_node() -> None:
    with pytest.raises(ValueError, match="^node: 10"):
        topo.build(10, topology="ring").neighbours_of(10)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["ring", "k_regular", "random_geometric", "small_world", "torus"])
def test_million_node_build(kind: str) -> None:
    n = 1_000_000
    t = topo.build(n, topology=kind, seed=5)
    degrees = t.degrees()
    if kind == "ring":
        assert np.all(degrees == 2)
    elif kind in ("k_regular", "torus"):
        assert np.all(degrees == 4)
    elif kind == "random_geometric":
        assert abs(degrees.mean() - 2 * math.log(n)) < 0.05 * 2 * math.log(n)
    assert_simple_symmetric(t)
