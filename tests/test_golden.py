"""Pinned results of a few seeded scenarios, so that a change of results fails a test.

Every run in edgeswarm is bit-for-bit reproducible on any machine, compiler and thread count;
these hashes pin that. A change that moves results on purpose (a new default, a fixed bug)
updates them in one line and says why in its commit:

    .venv/bin/python -m pytest tests/test_golden.py --update-golden
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import edgeswarm as es
import numpy as np
import pytest
from edgeswarm import _core

GOLDEN = Path(__file__).with_name("golden") / "state_hashes.json"


def _digest(*parts: object) -> str:
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(str(part.dtype).encode() + str(part.shape).encode())
            h.update(np.ascontiguousarray(part).tobytes())
        else:
            h.update(json.dumps(part, sort_keys=True, default=str).encode())
    return h.hexdigest()


def swarm_reference_attack() -> str:
    """The reference scenario: 100 nodes, 30 attackers at bias 0.9 from epoch 0, 60 epochs."""
    swarm = es.Swarm(n_nodes=100, signal=0.5, noise_variance=0.0025, trim=0.3, seed=42)
    swarm.inject_byzantine(count=30, bias=0.9, attack="bias")
    swarm.run(60)
    return swarm.state_hash()


def swarm_mesh_storm_sleep() -> str:
    """A 3-d small-world mesh with W-MSR, ALIE attackers, sleep scheduling and a noise storm."""
    swarm = es.Swarm(
        n_nodes=200,
        dim=3,
        signal=[0.2, -0.4, 1.0],
        topology="small_world",
        aggregator="trimmed_mean",
        seed=7,
        threads=2,
        sentinel_fraction=0.2,
        on_demand_fraction=0.3,
    )
    swarm.inject_byzantine(count=20, attack="alie")
    swarm.run(20)
    swarm.inject_noise(intensity=0.5, duration_s=10)
    frame = swarm.run(40)
    return _digest(
        swarm.state_hash(), frame.drop(columns=["regime"]).to_numpy(np.float64), list(frame["regime"])
    )


def raft_lossy_kv() -> str:
    """5 Raft nodes on a lossy, duplicating, reordering network; a crash, a partition and puts."""
    cluster = es.RaftCluster(n=5, seed=11, latency_ms=(1, 8), loss=0.05, duplicate=0.05, reorder=True)
    kv = cluster.client()
    for i in range(20):
        kv.put(f"k{i % 4}", f"v{i}")
    leader = cluster.run_until_leader()
    cluster.crash(leader)
    kv.append("k0", "+")
    cluster.restart(leader)
    cluster.partition([[0, 1], [2, 3, 4]])
    kv.put("k1", "split")
    cluster.heal()
    cluster.run(ms=500)
    applied = [[(i, bytes(d).hex()) for i, d in cluster.applied(n)] for n in range(5)]
    return _digest(cluster.history(), applied, cluster.message_counts(), cluster.now_us)


def fleet_day() -> str:
    """1,000 devices for a device-day at one reading a minute: values, fault labels, device table."""
    fleet = es.fleet.Fleet(1000, seed=3)
    readings = fleet.readings(steps=1440, dt_s=60)
    table = fleet.devices(t_s=86_400).reset_index()
    return _digest(readings.values, readings.labels, table.to_csv(index=False))


def detectors_on_a_stream() -> str:
    """The streaming detectors over one seeded stream with a spike and a level shift."""
    x = _core.rng_normal(5, 0, 3000)  # the project's portable RNG: the same stream everywhere
    x[1000] += 9.0
    x[2000:] += 3.0
    scores = [
        es.ml.EwmaZScore().score(x),
        es.ml.RobustMad().score(x),
        es.ml.HalfSpaceTrees(seed=2).score(x),
        es.ml.LikelihoodAlarm().score(x),
    ]
    return _digest(*[a for pair in scores for a in pair])


SCENARIOS: dict[str, Callable[[], str]] = {
    f.__name__: f
    for f in (swarm_reference_attack, swarm_mesh_storm_sleep, raft_lossy_kv, fleet_day, detectors_on_a_stream)
}


@pytest.fixture(scope="module")
def golden(request: pytest.FixtureRequest) -> dict[str, str]:
    pinned = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
    yield pinned
    if request.config.getoption("--update-golden"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(dict(sorted(pinned.items())), indent=2) + "\n")


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_seeded_scenario_matches_its_pinned_hash(name: str, golden: dict[str, str], request) -> None:
    got = SCENARIOS[name]()
    assert got == SCENARIOS[name](), "not deterministic within one process"
    if request.config.getoption("--update-golden"):
        golden[name] = got
        return
    assert name in golden, f"{name}: no pinned hash; run pytest tests/test_golden.py --update-golden"
    assert got == golden[name], (
        f"{name}: results changed. If on purpose, run "
        "`.venv/bin/python -m pytest tests/test_golden.py --update-golden` and say why in the commit"
    )
