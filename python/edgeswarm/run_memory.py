"""The memory an `edgeswarm run` needs, estimated before it starts, and the check against the machine's.

The figures are peak RSS (resource.getrusage ru_maxrss) measured on x86-64 Linux, Python 3.11, with
    python -c "import resource; from edgeswarm.swarm import Swarm; s = Swarm(N, dim=D, topology=T,
        history=None); s.run(5, progress=False); print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
for N = 10^4, 10^5, 10^6 (dim 1, every topology) and D = 8, 16; and per epoch with
    python -c "import resource; from edgeswarm.cli import main; main(['run', '--nodes', '10',
        '--dim', D, '--epochs', E, '--quiet', '--json', 'out.json']);
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
for E = 2*10^4, 10^5, 2*10^5. Measured: 217 MB at 10^6 nodes (complete), 76 MB at 10^4 and 75 MB for the
interpreter and imports alone: 146 B/node (ring 138, grid/torus/k_regular/small_world 153, random_geometric
292); +27 B/node per coordinate beyond the first (dim 8 at 10^6 nodes: 399 MB); 2,095 B/epoch at dim 1 with
--json (200,000 epochs: 488 MB) and 3,179 B/epoch at dim 8. The constants below round these up.
Since pyarrow is a dependency (Parquet results, issue 10) pandas imports it at start: the
interpreter and imports alone now take 107 MB (VmHWM of `python -c "import edgeswarm"`), +32 MB,
and a 10^5-node run peaks at 132 MB on its own but at 154 MB when tests/test_cli_checks.py starts it
late in the full suite of a fresh clone (not reproduced in isolation; cause not found): the base
covers the higher figure.
"""

from __future__ import annotations

from pathlib import Path

# The interpreter, NumPy, pandas (with pyarrow) and the engine loaded, before any node exists.
BASE_BYTES = 140 * 2**20
# Per node at dim 1: readings, reports, models, reputation, sleep schedule and neighbour structure.
NODE_BYTES = 160
# random_geometric keeps explicit neighbour lists: about twice the others.
NODE_BYTES_BY_TOPOLOGY = {"random_geometric": 300}
# Per node and coordinate beyond the first (three int32 matrices n x dim, and the honest statistics).
NODE_COORDINATE_BYTES = 28
# Per epoch kept (history=None) and written as JSON at dim 1, and per coordinate beyond the first.
EPOCH_BYTES = 2_200
EPOCH_COORDINATE_BYTES = 160

MEMINFO = Path("/proc/meminfo")


def estimate_run_bytes(nodes: int, *, dim: int = 1, epochs: int = 0, topology: str = "complete") -> int:
    """Peak bytes of a run of `nodes` nodes, `dim` coordinates and `epochs` epochs (every epoch kept)."""
    per_node = NODE_BYTES_BY_TOPOLOGY.get(topology, NODE_BYTES) + NODE_COORDINATE_BYTES * (dim - 1)
    per_epoch = EPOCH_BYTES + EPOCH_COORDINATE_BYTES * (dim - 1)
    return BASE_BYTES + nodes * per_node + epochs * per_epoch


def available_memory_bytes(meminfo: Path = MEMINFO) -> int | None:
    """MemAvailable of /proc/meminfo in bytes; None where the system does not say (not Linux)."""
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024  # the kernel gives kB
    except (OSError, ValueError, IndexError):
        return None
    return None


def _gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def check_run_memory(
    nodes: int, *, dim: int, epochs: int, topology: str, available_bytes: int | None
) -> None:
    """Raises ValueError when the run's estimated memory exceeds `available_bytes` (None: not checked)."""
    needed = estimate_run_bytes(nodes, dim=dim, epochs=epochs, topology=topology)
    if available_bytes is not None and needed > available_bytes:
        raise ValueError(
            f"--nodes {nodes}, --dim {dim}, --epochs {epochs} ({topology}) "
            f"need about {_gib(needed)} of memory "
            f"but this machine has {_gib(available_bytes)} available (MemAvailable); "
            "allowed: runs whose estimate fits the available memory"
        )
