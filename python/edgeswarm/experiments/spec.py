"""A declarative experiment: an engine, fixed parameters, a grid, seeds × replications, a duration.

A spec is plain data (a dict, a TOML or a YAML file) checked by pydantic and then against the
engine, before any run starts::

    name = "byzantine_grid"
    engine = "swarm"
    seeds = [1, 2, 3]          # or a count: seeds = 3 gives 0, 1, 2
    replications = 1
    duration = { epochs = 60 }
    metrics = ["drift", "entropy"]
    [params]
    n_nodes = 100
    [grid.product]
    aggregator = ["trimmed_mean", "median", "krum"]
    byzantine = [0, 10, 20, 30]
    [grid.zip]                 # varied together: the i-th values form one point
    attack = ["bias", "sign_flip"]
    bias = [0.9, 1.0]

:meth:`ExperimentSpec.runs` expands it into one :class:`RunSpec` per (grid point, seed,
replication), in a fixed order, each with a ``run_id`` that is a hash of what defines the run, so
a finished run is recognised whatever the order or the machine. Replication ``r`` of seed ``s``
runs with the engine seed ``derive(s, EXPERIMENT, r)``: replications are independent, and a run's
seed never depends on the grid.

Checks, each naming the key and what is allowed: an unknown parameter for the engine, a value
the engine refuses (the swarm's own check, without allocating a swarm), an empty grid list, zip
lists of different lengths, a parameter both fixed and varied, no seeds. Engines: ``swarm``
(:class:`edgeswarm.Swarm` plus ``byzantine`` / ``attack`` / ``bias`` and the attack options of
``inject_byzantine``), ``raft`` (:class:`edgeswarm.RaftCluster`), ``mqtt`` (the timed
experiments' :class:`~edgeswarm.mqtt.experiment.ExperimentConfig`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import itertools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import tomllib
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from edgeswarm import _seeds

__all__ = ["ENGINES", "Duration", "ExperimentSpec", "Grid", "RunSpec", "engine_parameters", "load_spec"]

ENGINES: tuple[str, ...] = ("swarm", "raft", "mqtt")
_SWARM_INJECTION = ("byzantine", "attack", "bias")


def engine_parameters(engine: str) -> tuple[str, ...]:
    """The parameter names ``engine`` accepts in ``params`` and ``grid`` (the seed comes from ``seeds``)."""
    if engine == "swarm":
        from edgeswarm.swarm import _ATTACK_OPTIONS, Swarm, check_swarm_options

        named = [p for p in inspect.signature(check_swarm_options).parameters if p not in ("seed", "options")]
        return (*named, *Swarm.OPTIONS, *_SWARM_INJECTION, *_ATTACK_OPTIONS)
    if engine == "raft":
        from edgeswarm.raft import RaftCluster

        return tuple(
            p for p in inspect.signature(RaftCluster.__init__).parameters if p not in ("self", "seed")
        )
    if engine == "mqtt":
        from edgeswarm.mqtt.experiment import ExperimentConfig

        return tuple(
            f.name for f in dataclasses.fields(ExperimentConfig) if f.name not in ("seed", "out", "label")
        )
    raise ValueError(f"engine: {engine!r} is not one of {', '.join(ENGINES)}")


class Grid(BaseModel):
    """Varied parameters: ``product`` (every combination) and ``zip`` (the i-th values together)."""

    model_config = ConfigDict(extra="forbid")
    product: dict[str, list[Any]] = Field(default_factory=dict)
    zip: dict[str, list[Any]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _lists(self) -> Grid:
        for part in ("product", "zip"):
            for key, values in getattr(self, part).items():
                if not values:
                    raise ValueError(f"grid.{part}.{key}: an empty list; allowed at least one value")
        lengths = {key: len(values) for key, values in self.zip.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"grid.zip: lists of different lengths {lengths}; allowed equal lengths")
        both = set(self.product) & set(self.zip)
        if both:
            raise ValueError(f"grid: {', '.join(sorted(both))} in both product and zip; allowed in one")
        return self

    def points(self) -> list[dict[str, Any]]:
        """Every grid point, product keys varying slowest-first in their given order, then zip."""
        keys = list(self.product)
        products = [
            dict(zip(keys, combo, strict=True)) for combo in itertools.product(*self.product.values())
        ]
        n_zip = len(next(iter(self.zip.values()))) if self.zip else 1
        zips = [{key: values[i] for key, values in self.zip.items()} for i in range(n_zip)]
        return [{**p, **z} for p in products for z in zips]


class Duration(BaseModel):
    """How long each run lasts: ``epochs`` (swarm), ``sim_ms`` (raft: simulated time) or ``wall_s``."""

    model_config = ConfigDict(extra="forbid")
    epochs: int | None = Field(default=None, gt=0, le=10_000_000)
    sim_ms: float | None = Field(default=None, gt=0)
    wall_s: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one(self) -> Duration:
        given = [k for k in ("epochs", "sim_ms", "wall_s") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"duration: {given or 'nothing'} given; allowed exactly one of epochs, sim_ms, wall_s"
            )
        return self


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One run of a sweep."""

    run_id: str
    index: int
    seed: int  #: the seed of the spec's list
    replication: int
    engine_seed: int  #: the seed the engine gets: derive(seed, EXPERIMENT, replication)
    params: dict[str, Any]


class ExperimentSpec(BaseModel):
    """A sweep (see the module docstring); construct with :meth:`from_dict` or :func:`load_spec`."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    engine: Literal["swarm", "raft", "mqtt"]
    params: dict[str, Any] = Field(default_factory=dict)
    grid: Grid = Field(default_factory=Grid)
    seeds: list[int] | int = Field(default=1, validate_default=True)  # a count becomes range(count)
    replications: int = Field(default=1, ge=1, le=10_000)
    duration: Duration
    metrics: list[str] = Field(default_factory=list)

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, value: list[int] | int) -> list[int]:
        seeds = list(range(value)) if isinstance(value, int) else list(value)
        if not seeds:
            raise ValueError("an empty list of seeds; allowed a count >= 1 or at least one seed")
        if any(not 0 <= s < 2**64 for s in seeds):
            raise ValueError("a seed out of range; allowed 0 to 2^64 - 1")
        if len(set(seeds)) != len(seeds):
            raise ValueError("a seed given twice; allowed distinct seeds (use replications for repeats)")
        return seeds

    @model_validator(mode="after")
    def _against_the_engine(self) -> ExperimentSpec:
        allowed = engine_parameters(self.engine)
        for where, keys in (
            ("params", self.params),
            ("grid.product", self.grid.product),
            ("grid.zip", self.grid.zip),
        ):
            for key in keys:
                if key not in allowed:
                    raise ValueError(
                        f"{where}.{key}: not a parameter of the {self.engine} engine; allowed: {', '.join(allowed)}"
                    )
        fixed_and_varied = set(self.params) & (set(self.grid.product) | set(self.grid.zip))
        if fixed_and_varied:
            raise ValueError(
                f"params: {', '.join(sorted(fixed_and_varied))} also in grid; allowed in one place"
            )
        if self.engine == "swarm":
            for point in self.grid.points():
                _check_swarm({**self.params, **point})
        return self

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExperimentSpec:
        """The spec in ``data``; ValueError naming the first bad key."""
        try:
            return cls.model_validate(dict(data))
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "spec"
            message = first["msg"].removeprefix("Value error, ")
            raise ValueError(f"{where}: {message}" if not message.startswith(where) else message) from None

    def runs(self) -> list[RunSpec]:
        """Every run, grid point by grid point, then seed, then replication."""
        out = []
        for point in self.grid.points():
            params = {**self.params, **point}
            for seed in self.seeds:
                for replication in range(self.replications):
                    out.append(
                        RunSpec(
                            run_id=_run_id(self.engine, params, seed, replication, self.duration),
                            index=len(out),
                            seed=seed,
                            replication=replication,
                            engine_seed=_seeds.derive(seed, _seeds.EXPERIMENT, replication),
                            params=params,
                        )
                    )
        return out


def _check_swarm(params: dict[str, Any]) -> None:
    from edgeswarm.swarm import _ATTACK_OPTIONS, check_swarm_options

    engine = {k: v for k, v in params.items() if k not in _SWARM_INJECTION and k not in _ATTACK_OPTIONS}
    try:
        check_swarm_options(**engine)
    except (ValueError, TypeError) as error:
        raise ValueError(f"params: {error}") from None
    byzantine = params.get("byzantine", 0)
    nodes = params.get("n_nodes", 100)
    if not isinstance(byzantine, int) or isinstance(byzantine, bool) or not 0 <= byzantine < nodes:
        raise ValueError(
            f"byzantine: {byzantine!r} is out of range; allowed 0 <= byzantine < n_nodes ({nodes})"
        )


def _run_id(engine: str, params: dict[str, Any], seed: int, replication: int, duration: Duration) -> str:
    text = json.dumps(
        {
            "engine": engine,
            "params": params,
            "seed": seed,
            "replication": replication,
            "duration": duration.model_dump(exclude_none=True),
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_spec(path: str | Path) -> ExperimentSpec:
    """A spec from a ``.toml``, ``.yaml`` / ``.yml`` or ``.json`` file."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise ValueError(f"spec: {str(path)!r} cannot be read: {error.strerror or error}") from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            data = tomllib.loads(text)
        elif suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        elif suffix == ".json":
            data = json.loads(text)
        else:
            raise ValueError(f"spec: {path.name!r} is not allowed; use a .toml, .yaml, .yml or .json file")
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"spec: {path.name} does not parse: {error}") from None
    except Exception as error:  # yaml's errors
        if isinstance(error, ValueError):
            raise
        raise ValueError(f"spec: {path.name} does not parse: {error}") from None
    if not isinstance(data, dict):
        raise ValueError(f"spec: {path.name} holds {type(data).__name__}; allowed a table of keys")
    return ExperimentSpec.from_dict(data)
