"""Named detector configurations: one name, one configured detector, everywhere.

Every name in :data:`DETECTORS` is one detector class with one set of options, and the same
name means that configuration wherever it appears: ``edgeswarm bench nab --detector NAME``
(:mod:`edgeswarm.ml.nab_bench`), the edge runtime's models (``EdgeOptions.models``, the
``ml`` keys of the REST summary and the dashboard's ML panel), ``benchmarks/``, notebooks.
A name that differs from another only in options says how (``ewma_z5``: ``|z| > 5``;
``*_no_range_break``: ``range_break=False``).

:data:`NAB_DETECTORS` are the ones ``edgeswarm bench nab`` scores by default (its figures
are in ``benchmarks/README.md``); :data:`EDGE_DETECTORS` are the edge runtime's default
models, chosen with ``benchmarks/bench_edge_detectors.py`` on the fleet's labelled faults:
one reading per 10 s is 8640 a day, so a per-sample ``|z| > 3`` rule gives ~25+ false alarms
per device-day against ~1 fault, and ``|z| > 5`` keeps the 8-15 sd spikes; the likelihood
alarm rings once per anomaly, with its range break off because while the daily cycle is
first learned every new daily extreme broke the range. Neither sees a stuck or drifting
sensor before it recovers: ``stuck_sensor`` flags a run of equal readings the sensor's own
history calls improbable, ``drift_cusum`` runs a CUSUM on the residual from the same time
one and two days before (its period, 8640 samples, is one day at one reading per 10 s; it
scores nothing for the first two device-days).

    >>> from edgeswarm.ml.registry import DETECTORS
    >>> DETECTORS["ewma_z5"].create(seed=0)      # a fresh EwmaZScore(threshold=5.0, warmup=100.0)
    >>> DETECTORS["rarity_alarm"].score(values)  # a fresh detector over one series
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from edgeswarm._validate import require_choice, require_int
from edgeswarm.ml import detectors as ml

__all__ = ["DETECTORS", "EDGE_DETECTORS", "NAB_DETECTORS", "DetectorConfig", "detector_config"]


@dataclass(frozen=True)
class DetectorConfig:
    """One named detector configuration.

    ``make(seed)`` builds a fresh detector (the seed feeds the seeded detectors, Half-Space
    Trees and the ensemble; the others ignore it). ``inputs``: ``"value"`` scores the series
    itself; ``"value_and_step"`` gives a 2-D detector (value, value - previous value; the
    first step is 0).
    """

    name: str
    description: str
    make: Callable[[int], Any]
    inputs: Literal["value", "value_and_step"] = "value"

    def create(self, seed: int = 0) -> Any:
        """A fresh detector of this configuration."""
        return self.make(require_int("seed", seed, minimum=0, maximum=2**64 - 1))

    def score(self, values: npt.ArrayLike, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(scores, confidence) of a fresh detector over one 1-D series, read in order."""
        x = np.ascontiguousarray(values, dtype=np.float64)
        if x.ndim != 1:
            raise ValueError(f"values: expected a 1-D series, got shape {x.shape}")
        if self.inputs == "value_and_step":
            x = np.column_stack([x, np.diff(x, prepend=x[:1])])
        return self.create(seed).score(x)


def _configs(*configs: DetectorConfig) -> dict[str, DetectorConfig]:
    return {c.name: c for c in configs}


#: Every named configuration, by name.
DETECTORS: dict[str, DetectorConfig] = _configs(
    DetectorConfig("ewma", "EwmaZScore, defaults (|z| > 3)", lambda _seed: ml.EwmaZScore()),
    DetectorConfig(
        "ewma_z5",
        "EwmaZScore(threshold=5.0, warmup=100.0): |z| > 5, for one reading per 10 s",
        lambda _seed: ml.EwmaZScore(alpha=0.02, threshold=5.0, warmup=100.0),
    ),
    DetectorConfig("mad", "RobustMad, defaults", lambda _seed: ml.RobustMad()),
    DetectorConfig("hst", "HalfSpaceTrees, defaults", lambda seed: ml.HalfSpaceTrees(seed=seed)),
    DetectorConfig(
        "mahalanobis",
        "Mahalanobis(dim=2) on (value, step)",
        lambda _seed: ml.Mahalanobis(dim=2),
        inputs="value_and_step",
    ),
    DetectorConfig("ensemble", "Ensemble, defaults", lambda seed: ml.Ensemble(seed=seed)),
    DetectorConfig("rarity", "NeighbourRarity, defaults", lambda _seed: ml.NeighbourRarity()),
    DetectorConfig(
        "ewma_alarm", "LikelihoodAlarm(base='ewma')", lambda _seed: ml.LikelihoodAlarm(base="ewma")
    ),
    DetectorConfig(
        "ewma_alarm_no_range_break",
        "LikelihoodAlarm(base='ewma', range_break=False)",
        lambda _seed: ml.LikelihoodAlarm(base="ewma", range_break=False),
    ),
    DetectorConfig(
        "rarity_alarm_no_range_break",
        "LikelihoodAlarm(range_break=False)",
        lambda _seed: ml.LikelihoodAlarm(range_break=False),
    ),
    DetectorConfig(
        "rarity_alarm", "LikelihoodAlarm, defaults (best on NAB)", lambda _seed: ml.LikelihoodAlarm()
    ),
    DetectorConfig("stuck_sensor", "StuckSensor, defaults", lambda _seed: ml.StuckSensor()),
    DetectorConfig(
        "drift_cusum",
        "DriftCusum(period=8640): one day at one reading per 10 s",
        lambda _seed: ml.DriftCusum(period=8640),
    ),
)

#: Scored by ``edgeswarm bench nab`` by default (``--detector all``).
NAB_DETECTORS: tuple[str, ...] = (
    "ewma",
    "mad",
    "hst",
    "mahalanobis",
    "ensemble",
    "rarity",
    "ewma_alarm",
    "rarity_alarm_no_range_break",
    "rarity_alarm",
)

#: The edge runtime's default models (``EdgeOptions.models``).
EDGE_DETECTORS: tuple[str, ...] = ("ewma_z5", "ewma_alarm_no_range_break", "stuck_sensor", "drift_cusum")


def detector_config(name: object, *, parameter: str = "detector") -> DetectorConfig:
    """The configuration called ``name``; ValueError naming ``parameter`` and listing the names."""
    return DETECTORS[require_choice(parameter, name, tuple(DETECTORS))]
