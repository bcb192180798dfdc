from __future__ import annotations

import edgeswarm as es
import pytest


@pytest.fixture
def attacked_swarm() -> es.Swarm:
    """The reference scenario: 100 nodes, 30 coordinated attackers at bias 0.9 from epoch 0."""
    swarm = es.Swarm(n_nodes=100, signal=0.5, noise_variance=0.0025, trim=0.3, seed=42)
    swarm.inject_byzantine(count=30, bias=0.9, attack="bias")
    return swarm


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/state_hashes.json from this run (results changed on purpose)",
    )
