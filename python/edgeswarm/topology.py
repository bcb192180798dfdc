"""Who talks to whom in a swarm.

``build`` makes one of the graphs in ``TOPOLOGIES``. Complete and star are
centralised: a single aggregator sees every report, so they carry no neighbour
lists. The others are meshes in compressed sparse row form: the neighbours of
node ``i`` are ``neighbours[offsets[i]:offsets[i + 1]]``, sorted ascending,
symmetric, with no self loops.

- ``ring``: i - 1 and i + 1 (mod n); n >= 3.
- ``k_regular``: a random simple graph where every node has exactly ``degree``
  neighbours (configuration model, self loops and repeated edges repaired by
  degree-preserving switches; dense graphs via the complement).
- ``grid``: side ceil(sqrt(n)), row-major, last row partial, 4-neighbourhood.
- ``torus``: the grid with wrap-around; n must be s * s with s >= 3.
- ``random_geometric``: n uniform points in the unit square, an edge when two
  are within ``radius`` (inclusive); ``radius=0`` picks sqrt(2 ln n / (pi n)),
  which makes the graph connected with high probability.
- ``small_world``: Watts-Strogatz, a ring lattice of even ``degree`` whose edges
  are each rewired with probability ``rewire``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeswarm import _core

__all__ = ["TOPOLOGIES", "Topology", "build"]

#: Names accepted by ``build(topology=...)``.
TOPOLOGIES: tuple[str, ...] = tuple(_core.TOPOLOGIES)


@dataclass(frozen=True, eq=False)
class Topology:
    """An immutable swarm graph; the arrays are read-only views of the C++ one."""

    kind: str
    offsets: np.ndarray
    neighbours: np.ndarray
    positions: np.ndarray
    centralised: bool
    edge_count: int
    seed: int

    @property
    def n(self) -> int:
        """Number of nodes."""
        return int(self.positions.shape[0])

    def degrees(self) -> np.ndarray:
        """Degree of every node (n - 1 for complete; 1 for star, whose hub is the aggregator)."""
        if self.kind == "complete":
            return np.full(self.n, self.n - 1, dtype=np.int64)
        if self.kind == "star":
            return np.ones(self.n, dtype=np.int64)
        return np.diff(self.offsets).astype(np.int64)

    def neighbours_of(self, node: int) -> np.ndarray:
        """Sorted neighbours of ``node`` (empty for centralised kinds)."""
        if not 0 <= node < self.n:
            raise ValueError(f"node: {node} is out of range; allowed [0, {self.n - 1}]")
        return self.neighbours[self.offsets[node] : self.offsets[node + 1]]

    def edges(self) -> np.ndarray:
        """Undirected edges as an (edge_count, 2) uint32 array with u < v; meshes only."""
        if self.centralised:
            raise ValueError(f"topology: {self.kind!r} is centralised and has no neighbour lists")
        owners = np.repeat(np.arange(self.n, dtype=np.uint32), np.diff(self.offsets).astype(np.int64))
        pairs = np.stack([owners, self.neighbours], axis=1)
        return pairs[pairs[:, 0] < pairs[:, 1]]


def build(
    n: int,
    *,
    topology: str = "complete",
    degree: int = 4,
    radius: float = 0.0,
    rewire: float = 0.1,
    seed: int = 0,
) -> Topology:
    """Builds the ``topology`` graph on ``n`` nodes.

    ``degree`` is used by k_regular (1 <= degree < n, n * degree even) and
    small_world (even, 2 <= degree < n); ``radius`` by random_geometric (>= 0;
    0 = default); ``rewire`` by small_world ([0, 1]). Random kinds are
    deterministic for ``seed``. Bad parameters raise ``ValueError`` naming the
    parameter.
    """
    raw = _core.build_topology(n, topology=topology, degree=degree, radius=radius, rewire=rewire, seed=seed)
    return Topology(
        kind=raw["topology"],
        offsets=raw["offsets"],
        neighbours=raw["neighbours"],
        positions=raw["positions"],
        centralised=bool(raw["centralised"]),
        edge_count=int(raw["edge_count"]),
        seed=seed,
    )
