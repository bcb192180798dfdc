"""Same seed, same result, bit for bit, whatever the thread count."""

from __future__ import annotations

import edgeswarm as es
import numpy as np
import pytest


def _run(threads: int, seed: int = 7, **options) -> es.Swarm:
    swarm = es.Swarm(n_nodes=300, dim=3, signal=[0.5, -1.0, 2.0], seed=seed, threads=threads, **options)
    swarm.run(epochs=5)
    swarm.inject_byzantine(count=60, bias=0.9, attack="alie")
    swarm.inject_noise(intensity=0.3, duration_s=5)
    swarm.run(epochs=25)
    return swarm


@pytest.mark.parametrize("topology", ["complete", "small_world", "random_geometric"])
def test_same_seed_same_hash_at_1_2_4_threads(topology: str) -> None:
    runs = [_run(threads, topology=topology) for threads in (1, 2, 4)]
    hashes = {swarm.state_hash() for swarm in runs}
    assert len(hashes) == 1
    np.testing.assert_array_equal(runs[0].consensus_history_raw(), runs[2].consensus_history_raw())


def test_different_seeds_differ() -> None:
    assert _run(1, seed=1).state_hash() != _run(1, seed=2).state_hash()


def test_changing_threads_mid_run_changes_nothing() -> None:
    a = _run(1)
    b = es.Swarm(n_nodes=300, dim=3, signal=[0.5, -1.0, 2.0], seed=7, threads=1)
    b.run(epochs=5)
    b.set_threads(4)
    b.inject_byzantine(count=60, bias=0.9, attack="alie")
    b.inject_noise(intensity=0.3, duration_s=5)
    b.run(epochs=25)
    assert a.state_hash() == b.state_hash()
