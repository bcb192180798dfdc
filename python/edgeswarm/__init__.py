"""edgeswarm: a lab for IoT edge swarms.

Byzantine-tolerant fixed-point (Q16.16) consensus on simulated sensor swarms,
and Raft clusters for emergency coordination, driven from Python over a compiled C++ engine.
"""

from __future__ import annotations

from importlib.metadata import version as _installed_version

from edgeswarm import aggregators, fleet, ml, net, raft, regime, topology
from edgeswarm.aggregators import aggregate
from edgeswarm.fleet import emergency
from edgeswarm.fleet.emergency import Emergency, EmergencyCoordinator
from edgeswarm.ml import maintenance, model_tracking, nab, quality
from edgeswarm.raft import RaftCluster
from edgeswarm.regime import RegimeDetector, residual_entropy
from edgeswarm.swarm import AGGREGATORS, ATTACKS, REGIMES, TOPOLOGIES, Swarm

__version__ = _installed_version("edgeswarm")  # the one place is pyproject.toml

__all__ = [
    "AGGREGATORS",
    "ATTACKS",
    "REGIMES",
    "TOPOLOGIES",
    "Emergency",
    "EmergencyCoordinator",
    "RaftCluster",
    "RegimeDetector",
    "Swarm",
    "__version__",
    "aggregate",
    "aggregators",
    "emergency",
    "fleet",
    "maintenance",
    "ml",
    "model_tracking",
    "nab",
    "net",
    "quality",
    "raft",
    "regime",
    "residual_entropy",
    "topology",
]
