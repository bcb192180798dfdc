"""Device fleets (C++ ``fleet/`` area) and what runs on them, without HTTP.

- :mod:`edgeswarm.fleet.devices`: devices and sensors, signals with faults and wear, alert
  rules, clustering by location (``es.fleet.Fleet``, ``es.fleet.AlertRules``,
  ``es.fleet.cluster`` as before; ``es.fleet.rank_by_centroid`` ranks members by its head rule);
- :mod:`edgeswarm.fleet.emergency`: emergencies committed through one Raft group per cluster
  (``es.EmergencyCoordinator``);
- :mod:`edgeswarm.fleet.link`: the simulated device uplink;
- :mod:`edgeswarm.fleet.runtime`: :class:`~edgeswarm.fleet.runtime.EdgeRuntime`, the fleet
  ticked in (simulated) time with detectors, alerts and emergencies; the service serves it.
"""

from __future__ import annotations

from edgeswarm.fleet import emergency
from edgeswarm.fleet.devices import (
    ALERT_METRICS,
    ALERT_TYPES,
    DEVICE_TYPES,
    FAULT_LABELS,
    SENSOR_TYPES,
    SENSOR_UNITS,
    AlertRules,
    Clusters,
    Fleet,
    Readings,
    cluster,
    rank_by_centroid,
)
from edgeswarm.fleet.emergency import Emergency, EmergencyCoordinator, RealTimeDriver

__all__ = [
    "ALERT_METRICS",
    "ALERT_TYPES",
    "DEVICE_TYPES",
    "FAULT_LABELS",
    "SENSOR_TYPES",
    "SENSOR_UNITS",
    "AlertRules",
    "Clusters",
    "Emergency",
    "EmergencyCoordinator",
    "Fleet",
    "Readings",
    "RealTimeDriver",
    "cluster",
    "emergency",
    "rank_by_centroid",
]
