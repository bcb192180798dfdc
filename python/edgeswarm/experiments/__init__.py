"""Experiments from Jupyter and the command line (issue 11): declarative sweeps.

This first piece is the spec (:mod:`edgeswarm.experiments.spec`): an engine, fixed parameters, a
grid (product and zip), seeds × replications and a duration, checked against the engine before any
run, and expanded into runs with stable ids. Executors, the store and the figures come next.
"""

from __future__ import annotations

from edgeswarm.experiments.spec import (
    ENGINES,
    Duration,
    ExperimentSpec,
    Grid,
    RunSpec,
    engine_parameters,
    load_spec,
)

__all__ = ["ENGINES", "Duration", "ExperimentSpec", "Grid", "RunSpec", "engine_parameters", "load_spec"]
