"""Edge ML (C++ ``ml/`` area): streaming detectors, quality control, maintenance, tracking, NAB.

``edgeswarm.ml`` itself holds the streaming detectors (:mod:`edgeswarm.ml.detectors`); the
other concepts are submodules, also reachable from the top level as before:

- :mod:`edgeswarm.ml.quality` (``es.quality``): statistical process control;
- :mod:`edgeswarm.ml.maintenance` (``es.maintenance``): C-MAPSS health index and RUL;
- :mod:`edgeswarm.ml.model_tracking` (``es.model_tracking``): per (device, model) counters, one
  call or a whole fleet at a time;
- :mod:`edgeswarm.ml.registry` (``es.ml.registry``): named detector configurations, one name
  one configuration (NAB bench, edge runtime, dashboard);
- :mod:`edgeswarm.ml.nab` (``es.nab``) and :mod:`edgeswarm.ml.nab_bench`: the NAB scorer and
  the benchmark over the detectors.
"""

from __future__ import annotations

from edgeswarm.ml import maintenance, model_tracking, nab, quality, registry
from edgeswarm.ml.detectors import (
    AnomalyLikelihood,
    DriftCusum,
    Ensemble,
    EwmaZScore,
    HalfSpaceTrees,
    LikelihoodAlarm,
    Mahalanobis,
    NeighbourRarity,
    RobustMad,
    StuckSensor,
)

__all__ = [
    "AnomalyLikelihood",
    "DriftCusum",
    "Ensemble",
    "EwmaZScore",
    "HalfSpaceTrees",
    "LikelihoodAlarm",
    "Mahalanobis",
    "NeighbourRarity",
    "RobustMad",
    "StuckSensor",
    "maintenance",
    "model_tracking",
    "nab",
    "quality",
    "registry",
]
