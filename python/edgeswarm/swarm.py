"""The swarm facade: a simulated sensor swarm reaching Byzantine-tolerant Q16.16 consensus.

Example:
    >>> import edgeswarm as es
    >>> swarm = es.Swarm(n_nodes=100, signal=0.5, noise_variance=0.0025, seed=42)
    >>> swarm.inject_byzantine(count=30, bias=0.9)
    >>> df = swarm.run(epochs=30)
"""

from __future__ import annotations

import hashlib
import math
import numbers
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from edgeswarm import _core
from edgeswarm._epoch_history import EpochHistory
from edgeswarm._validate import require_int
from edgeswarm.aggregators import AGGREGATORS

__all__ = [
    "AGGREGATORS",
    "ATTACKS",
    "EPOCH_COLUMNS",
    "HUB_ID",
    "MAX_NOISE_EPOCHS",
    "Q16_MAX_REAL",
    "Q16_MIN_REAL",
    "REGIMES",
    "SLEEP_ROLES",
    "TOPOLOGIES",
    "Swarm",
    "check_swarm_options",
    "epoch_line",
]

REGIMES: tuple[str, ...] = tuple(_core.REGIMES)
SLEEP_ROLES: tuple[str, ...] = tuple(_core.SLEEP_ROLES)  # sleep-schedule roles, indexed by role codes
TOPOLOGIES: tuple[str, ...] = tuple(_core.TOPOLOGIES)
ATTACKS: tuple[str, ...] = tuple(_core.ATTACKS)
# The aggregator's id on a centralised swarm's gossip links (Swarm.gossip_links): no node has it.
HUB_ID: int = _core.HUB_ID
# The reals Q16.16 holds, [-32768, 32767.99998]: the engine's limit for a Byzantine bias and a noise sd
# (the REST API and the CLI refuse values beyond it with these same constants).
Q16_MIN_REAL: float = _core.Q16_MIN_REAL
Q16_MAX_REAL: float = _core.Q16_MAX_REAL
# The longest noise storm in epochs: the engine's kMaxNoiseEpochs (cpp/include/edgeswarm/swarm/swarm.hpp).
MAX_NOISE_EPOCHS = 2**62

# Engine options that may be passed to Swarm(...) beyond the named ones.
_EXTRA_OPTIONS: tuple[str, ...] = (
    "invalid_rate",
    "degree",
    "radius",
    "rewire",
    "trim_count",
    "adaptive_trim",
    "min_trim",
    "krum_f",
    "multi_krum_m",
    "clip_tau",
    "clip_iters",
    "reputation_initial",
    "reputation_reward",
    "reputation_penalty",
    "ban_threshold",
    "reputation_tolerance",
    "reputation_min_distance",
    "calm_threshold",
    "storm_threshold",
    "derivative_threshold",
    "hysteresis",
    "smoothing",
    "residual_range",
    "entropy_bins",
    "calm_interval_s",
    "prestorm_interval_s",
    "storm_interval_s",
    "wake_burst_epochs",
    "sentinel_fraction",
    "on_demand_fraction",
    "awake_mw",
    "asleep_mw",
    "tx_uj_per_byte",
    "tx_uj_per_message",
    "innovation",
)

# Epochs a Swarm keeps for history() unless told otherwise (`history=`): about 14 hours of
# simulated time at the default 500 ms epoch, ~16 MB at dim 1 (146 + 12 * dim bytes per epoch).
DEFAULT_HISTORY = 100_000

# Runs longer than this (estimated) show a progress bar unless told otherwise.
_PROGRESS_AFTER_S = 2.0

# The columns of `Swarm.run()`'s DataFrame for dim 1, in order: the names the REST API, the WebSocket
# and the dashboard use too (README "Names"). With dim > 1, consensus and honest_mean become
# consensus_0, consensus_1, ... and honest_mean_0, ...
EPOCH_COLUMNS: tuple[str, ...] = (
    "epoch",
    "time_s",
    "consensus",
    "honest_mean",
    "drift",
    "rmse",
    "xi",
    "entropy",
    "regime",
    "awake",
    "reporting",
    "invalid",
    "banned",
    "byzantine",
    "byzantine_banned",
    "honest_banned",
    "bytes_per_node_day",
    "fl_bytes_per_node_day",
    "energy_mj",
    "sleep_ratio",
    "noise_intensity",
    "attack_active",
)

# Attack options of `Swarm.inject_byzantine` and the engine's type for each.
_ATTACK_OPTIONS: dict[str, type] = {
    "jitter": float,
    "scale": float,
    "sigma": float,
    "alie_z": float,
    "ipm_epsilon": float,
    "on_epochs": int,
    "off_epochs": int,
}


def _real(name: str, value: object) -> float:
    """`value` as a float for the engine, which checks its range (NaN and infinities included)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name}: expected a number, got {value!r}")
    return float(value)


def _int32(name: str, value: object) -> int:
    """`value` as an int for an engine field of C++ type int, which the engine then range-checks."""
    value = require_int(name, value)
    if not -(2**31) <= value < 2**31:
        raise ValueError(f"{name}: {value} does not fit the engine's 32-bit int")
    return value


def _text(name: str, value: object) -> str:
    """`value` as a str for the engine, which checks it against its names."""
    if not isinstance(value, str):
        raise ValueError(f"{name}: expected a string, got {value!r}")
    return value


def _set_field(config: Any, name: str, value: Any, kind: str = "the engine's type for it") -> None:
    """Sets an engine config field; a value its C++ type cannot hold is a ValueError naming `name`."""
    try:
        setattr(config, name, value)
    except TypeError:
        raise ValueError(f"{name}: {value!r} does not fit {kind}") from None


def _fixed_text(value: Any, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}"


def _consensus_text(row: Mapping[str, Any]) -> str:
    if "consensus" in row:
        return _fixed_text(row["consensus"], 4)
    values = [
        row[k] for k in sorted((k for k in row if k.startswith("consensus_")), key=lambda k: int(k[10:]))
    ]
    shown = ", ".join(_fixed_text(v, 4) for v in values[:3])
    return f"[{shown}{', ...' if len(values) > 3 else ''}]"


def epoch_line(row: Mapping[str, Any]) -> str:
    """`[Epoch N] Consensus: ..., Entropy: ..., Regime: ..., Drift: ...%`: the line `edgeswarm run` and
    `edgeswarm serve` print per epoch, from a row of `Swarm.run()` or of the API (where NaN is None)."""
    drift = row["drift"]
    drift_text = "n/a" if drift is None or math.isnan(drift) else f"{100 * drift:.1f}%"
    return (
        f"[Epoch {int(row['epoch'])}] Consensus: {_consensus_text(row)}, "
        f"Entropy: {_fixed_text(row['entropy'], 2)}, Regime: {row['regime']}, Drift: {drift_text}"
    )


def _columns_to_frame(columns: dict[str, np.ndarray], dim: int) -> pd.DataFrame:
    """One row per epoch; vectors become one column per coordinate when dim > 1."""
    if "epoch" not in columns:
        return pd.DataFrame()
    data: dict[str, Any] = {"epoch": columns["epoch"].astype(np.int64), "time_s": columns["time_s"]}
    consensus = _core.from_q16(columns["consensus_raw"])
    if dim == 1:
        data["consensus"] = consensus[:, 0]
        data["honest_mean"] = columns["honest_mean"][:, 0]
    else:
        for j in range(dim):
            data[f"consensus_{j}"] = consensus[:, j]
        for j in range(dim):
            data[f"honest_mean_{j}"] = columns["honest_mean"][:, j]
    for name in ("drift", "rmse", "xi", "entropy"):
        data[name] = columns[name]
    data["regime"] = pd.Categorical.from_codes(columns["regime"].astype(np.int8), categories=list(REGIMES))
    for name in EPOCH_COLUMNS[EPOCH_COLUMNS.index("regime") + 1 :]:  # the counts and figures after it
        data[name] = columns[name]
    return pd.DataFrame(data)


def _swarm_config(
    n_nodes: int,
    dim: int,
    signal: float | Sequence[float],
    noise_variance: float,
    topology: str,
    aggregator: str,
    trim: float,
    reputation: bool,
    seed: int,
    epoch_ms: int,
    threads: int,
    options: Mapping[str, Any],
) -> Any:
    """The engine config of `Swarm(...)`'s arguments, types converted (ranges not yet checked)."""
    # Types are converted here; ranges are the engine's to check (ValueError naming the field).
    config = _core.SwarmConfig()
    for name, value in (("n_nodes", n_nodes), ("dim", dim), ("seed", seed)):
        _set_field(config, name, require_int(name, value), "an unsigned 64-bit integer")
    if np.ndim(signal) == 0:
        config.signal = [_real("signal", signal)]
    else:
        config.signal = [_real("signal", s) for s in np.asarray(signal, dtype=float).ravel()]
    config.noise_variance = _real("noise_variance", noise_variance)
    _set_field(config, "topology", _text("topology", topology))
    _set_field(config, "aggregator", _text("aggregator", aggregator))
    config.trim = _real("trim", trim)
    if not isinstance(reputation, bool):
        raise ValueError(f"reputation: expected True or False, got {reputation!r}")
    config.use_reputation = reputation
    _set_field(config, "epoch_ms", require_int("epoch_ms", epoch_ms), "a signed 64-bit integer")
    config.threads = _int32("threads", threads)
    for name, value in options.items():
        if name not in _EXTRA_OPTIONS:
            raise ValueError(f"{name}: unknown option; allowed: {', '.join(_EXTRA_OPTIONS)}")
        _set_field(config, name, value)
    return config


def check_swarm_options(
    n_nodes: int = 100,
    *,
    dim: int = 1,
    signal: float | Sequence[float] = 0.5,
    noise_variance: float = 0.0025,
    topology: str = "complete",
    aggregator: str = "trimmed_mean",
    trim: float = 0.3,
    reputation: bool = True,
    seed: int = 0,
    epoch_ms: int = 500,
    threads: int = 1,
    **options: Any,
) -> None:
    """Raises the ValueError `Swarm(...)` would raise for these arguments, without allocating the swarm
    (the command line checks a run before it starts)."""
    _swarm_config(
        n_nodes,
        dim,
        signal,
        noise_variance,
        topology,
        aggregator,
        trim,
        reputation,
        seed,
        epoch_ms,
        threads,
        options,
    ).validate()


class Swarm:
    """A swarm of simulated sensor nodes agreeing on a value by robust Q16.16 aggregation.

    Every option is keyword-only; bad values raise ValueError naming the parameter.
    Extra engine options (topology degree, reputation and regime thresholds, energy model,
    ...) are accepted by name; see `Swarm.OPTIONS`.

    `history` bounds what `history()` and `consensus_history_raw()` return, so a long-running
    swarm holds bounded memory: the last `history` epochs (default `DEFAULT_HISTORY`), every
    epoch with `history=None` (offline runs that want them all), none with 0. It changes
    nothing else: `run()` returns all its epochs and `state_hash()` covers every epoch.
    """

    OPTIONS: tuple[str, ...] = _EXTRA_OPTIONS

    def __init__(
        self,
        n_nodes: int = 100,
        *,
        dim: int = 1,
        signal: float | Sequence[float] = 0.5,
        noise_variance: float = 0.0025,
        topology: str = "complete",
        aggregator: str = "trimmed_mean",
        trim: float = 0.3,
        reputation: bool = True,
        seed: int = 0,
        epoch_ms: int = 500,
        threads: int = 1,
        history: int | None = DEFAULT_HISTORY,
        **options: Any,
    ) -> None:
        config = _swarm_config(
            n_nodes,
            dim,
            signal,
            noise_variance,
            topology,
            aggregator,
            trim,
            reputation,
            seed,
            epoch_ms,
            threads,
            options,
        )
        self._config = config
        self._engine = _core.Swarm(config)  # validates every field (ValueError naming it)
        self._history = EpochHistory(history)
        # SHA-256 of every epoch's raw consensus bytes in order (state_hash), fed as epochs run.
        self._consensus_digest = hashlib.sha256()
        self._last: dict[str, Any] | None = None

    # -- running -------------------------------------------------------------------------

    def step(self) -> dict[str, Any]:
        """Runs one epoch and returns its figures (the same keys as a row of `run`)."""
        columns = self._engine.step()
        self._record(columns)
        row = _columns_to_frame(columns, self.dim).iloc[0].to_dict()
        self._last = row
        return row

    def run(
        self,
        epochs: int,
        *,
        progress: bool | None = None,
        deliver: Callable[[Swarm], np.ndarray] | None = None,
    ) -> pd.DataFrame:
        """Runs `epochs` epochs; returns one row per epoch as a DataFrame.

        A progress bar appears for long runs (`progress=None`), always (`True`) or never (`False`).
        `deliver` carries the gossip outside the engine (e.g. `edgeswarm.mqtt.swarm_gossip.MqttGossip`):
        each epoch is `begin_epoch()`, then `deliver(self)` returns the delivered-link mask, then
        `finish_epoch(mask)`; without it the gossip is in-process and every report is delivered.
        """
        epochs = require_int("epochs", epochs, minimum=0)
        if deliver is not None and not callable(deliver):
            raise ValueError(f"deliver: expected a callable (swarm -> delivered mask), got {deliver!r}")
        if epochs == 0:
            return _columns_to_frame({}, self.dim)
        if deliver is not None:
            return self._run_delivered(epochs, deliver, progress=bool(progress))
        started = time.perf_counter()
        first = self._engine.run(1)
        chunks = [first]
        remaining = epochs - 1
        per_epoch = time.perf_counter() - started
        show = progress if progress is not None else per_epoch * epochs > _PROGRESS_AFTER_S
        if remaining:
            chunk = max(1, min(remaining, int(0.25 / max(per_epoch, 1e-9))))
            bar = None
            if show:
                from tqdm.auto import tqdm

                bar = tqdm(total=epochs, initial=1, unit="epoch", desc="swarm")
            while remaining:
                size = min(chunk, remaining)
                chunks.append(self._engine.run(size))
                remaining -= size
                if bar is not None:
                    bar.update(size)
            if bar is not None:
                bar.close()
        columns = {key: np.concatenate([c[key] for c in chunks]) for key in first}
        self._record(columns)
        frame = _columns_to_frame(columns, self.dim)
        self._last = frame.iloc[-1].to_dict()
        return frame

    def _run_delivered(
        self, epochs: int, deliver: Callable[[Swarm], np.ndarray], *, progress: bool
    ) -> pd.DataFrame:
        """`run` with the gossip of every epoch carried by `deliver`."""
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=epochs, unit="epoch", desc="swarm")
        chunks = []
        try:
            for _ in range(epochs):
                self._engine.begin_epoch()
                try:
                    columns = self._engine.finish_epoch(np.asarray(deliver(self)))
                except BaseException:
                    # A failed delivery (or a bad mask) ends the epoch with nothing delivered, recorded,
                    # so the swarm stays usable.
                    if self._engine.in_epoch:
                        chunks.append(self._engine.finish_epoch(np.zeros(self.link_count, dtype=bool)))
                    raise
                chunks.append(columns)
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
            columns = {key: np.concatenate([c[key] for c in chunks]) for key in chunks[0]} if chunks else {}
            if chunks:
                self._record(columns)
        frame = _columns_to_frame(columns, self.dim)
        self._last = frame.iloc[-1].to_dict()
        return frame

    # -- the split epoch: gossip carried outside the engine ------------------------------

    def begin_epoch(self) -> None:
        """Starts an epoch: sleep plan, sensing, attacks and bandwidth; each sender's wire message then
        waits in `outgoing_messages()` until `finish_epoch()`. RuntimeError if one is under way."""
        self._engine.begin_epoch()

    @property
    def in_epoch(self) -> bool:
        """True between `begin_epoch()` and `finish_epoch()`."""
        return bool(self._engine.in_epoch)

    def outgoing_messages(self) -> dict[str, Any]:
        """The wire messages of the epoch under way (swarm/wire.hpp: node id, epoch, Q16.16 report,
        CRC-32): `{"node": uint32 ids ascending, "data": bytes}`, `message_bytes(dim)` bytes per node
        in the same order."""
        return self._engine.outgoing_messages()

    def gossip_links(self) -> dict[str, np.ndarray]:
        """The gossip links `finish_epoch`'s mask follows: link k carries `sender[k]`'s report to
        `receiver[k]` (uint32; in a centralised swarm every receiver is the aggregator, `HUB_ID`)."""
        return self._engine.gossip_links()

    @property
    def link_count(self) -> int:
        """Number of gossip links (the length of `finish_epoch`'s mask)."""
        return len(self._engine.gossip_links()["sender"])

    def finish_epoch(self, delivered: np.ndarray | Sequence[bool]) -> dict[str, Any]:
        """Ends the epoch begun, each receiver aggregating only the reports whose link is delivered
        (bool mask over `gossip_links()`); returns its figures as `step()` does."""
        columns = self._engine.finish_epoch(np.asarray(delivered))
        self._record(columns)
        row = _columns_to_frame(columns, self.dim).iloc[0].to_dict()
        self._last = row
        return row

    def _record(self, columns: dict[str, np.ndarray]) -> None:
        self._history.append(columns)
        self._consensus_digest.update(np.ascontiguousarray(columns["consensus_raw"]).tobytes())

    # -- injections ----------------------------------------------------------------------

    def inject_byzantine(
        self, count: int, *, bias: float = 0.9, attack: str = "bias", **attack_options: Any
    ) -> None:
        """Turns `count` random honest nodes Byzantine, all using `attack` from the next epoch.

        attack_options: jitter (bias), scale (sign_flip), sigma (gaussian), alie_z (alie),
        ipm_epsilon (ipm), on_epochs / off_epochs (intermittent).
        """
        # Types are converted here; the engine checks every range (count against the honest nodes left,
        # bias within Q16.16, the attack's name and options) and names the parameter.
        options: dict[str, Any] = {}
        for name, value in attack_options.items():
            if name not in _ATTACK_OPTIONS:
                raise ValueError(f"{name}: unknown attack option; allowed: {', '.join(_ATTACK_OPTIONS)}")
            options[name] = _real(name, value) if _ATTACK_OPTIONS[name] is float else _int32(name, value)
        self._engine.inject_byzantine(
            require_int("count", count), attack=_text("attack", attack), bias=_real("bias", bias), **options
        )

    def inject_noise(self, *, intensity: float, duration_s: float) -> None:
        """Adds Gaussian noise of sd `intensity` to every reading for `duration_s` simulated seconds.

        A duration of 0 ends a storm in progress. The engine checks the ranges: intensity in
        [0, 32767.99998] (Q16.16), duration_s finite, >= 0 and at most 2^62 epochs.
        """
        self._engine.inject_noise(_real("intensity", intensity), _real("duration_s", duration_s))

    # -- state ---------------------------------------------------------------------------

    @property
    def dim(self) -> int:
        return int(self._config.dim)

    @property
    def n_nodes(self) -> int:
        return int(self._config.n_nodes)

    @property
    def epoch(self) -> int:
        """Epochs run so far."""
        return int(self._engine.epoch)

    @property
    def seed(self) -> int:
        return int(self._config.seed)

    @property
    def config(self) -> dict[str, Any]:
        """The run's configuration as a plain dict (seed included)."""
        names = ("n_nodes", "dim", "signal", "noise_variance", "topology", "aggregator", "trim", "seed")
        out = {name: getattr(self._config, name) for name in names + _EXTRA_OPTIONS}
        out["reputation"] = self._config.use_reputation
        out["epoch_ms"] = self._config.epoch_ms
        return out

    @property
    def consensus_raw(self) -> np.ndarray:
        """Current consensus, raw Q16.16 (int32, shape (dim,))."""
        return self._engine.consensus_raw

    @property
    def consensus(self) -> np.ndarray:
        """Current consensus as float64 (shape (dim,))."""
        return _core.from_q16(self._engine.consensus_raw)

    def set_threads(self, threads: int) -> None:
        """Worker threads for the engine; results are bit-identical for any count."""
        self._engine.set_threads(_int32("threads", threads))  # the engine checks [1, 1024]

    @property
    def history_limit(self) -> int | None:
        """Epochs kept for `history()` (None: every epoch)."""
        return self._history.limit

    def history(self) -> pd.DataFrame:
        """The epochs kept, one row each, oldest first: every epoch run so far, or with a bounded
        `history` the last `history_limit` of them (the `epoch` column says which)."""
        return _columns_to_frame(self._history.columns(), self.dim)

    def consensus_history_raw(self) -> np.ndarray:
        """Raw Q16.16 consensus of the epochs kept (as `history()`), shape (epochs kept, dim)."""
        if not len(self._history):
            return np.zeros((0, self.dim), dtype=np.int32)
        return self._history.column("consensus_raw")

    def state_hash(self) -> str:
        """SHA-256 of the raw consensus of every epoch run (kept or not) and of the per-node
        state: equal hashes, equal runs, whatever `history` is."""
        digest = self._consensus_digest.copy()
        nodes = self._engine.nodes()
        for key in ("byzantine", "banned", "awake", "report_raw", "model_raw"):
            digest.update(np.ascontiguousarray(nodes[key]).tobytes())
        return digest.hexdigest()

    def status(self) -> dict[str, Any]:
        """Figures of the last epoch (the keys of a `run` row), with the node counts byzantine, banned and
        awake as of now, plus epoch, n_nodes, seed and the current consensus."""
        nodes = self._engine.nodes()
        byzantine = nodes["byzantine"].astype(bool)
        banned = nodes["banned"].astype(bool)
        awake = nodes["awake"].astype(bool)
        out: dict[str, Any] = dict(self._last or {})
        # Node counts under their DataFrame names, as of now (an injection shows before the next epoch).
        out.update(
            epoch=self.epoch,
            n_nodes=self.n_nodes,
            seed=self.seed,
            consensus=self.consensus.tolist() if self.dim > 1 else float(self.consensus[0]),
            byzantine=int(byzantine.sum()),
            banned=int(banned.sum()),
            awake=int(awake.sum()),
        )
        if "regime" in out:
            out["regime"] = str(out["regime"])
        return out

    def nodes(self) -> pd.DataFrame:
        """One row per node: id, byzantine, banned, reputation, awake, role, value, energy_mj, ..."""
        nodes = self._engine.nodes()
        frame = pd.DataFrame(
            {
                "id": np.arange(self.n_nodes, dtype=np.int64),
                "byzantine": nodes["byzantine"].astype(bool),
                "banned": nodes["banned"].astype(bool),
                "reputation": nodes["reputation_raw"] / _core.Q16_ONE,
                "awake": nodes["awake"].astype(bool),
                "role": pd.Categorical.from_codes(
                    nodes["role"].astype(np.int8), categories=list(SLEEP_ROLES)
                ),
            }
        )
        report = _core.from_q16(nodes["report_raw"])
        model = _core.from_q16(nodes["model_raw"])
        if self.dim == 1:
            frame["value"] = report[:, 0]
            frame["model"] = model[:, 0]
        else:
            frame["value"] = list(report)
            frame["model"] = list(model)
        frame["energy_mj"] = nodes["energy_mj"].copy()
        frame["sleep_ratio"] = nodes["sleep_ratio"]
        frame["bytes_sent"] = nodes["bytes_sent"].astype(np.int64)
        return frame

    def node_arrays(self) -> dict[str, np.ndarray]:
        """Per-node state as read-only NumPy views of the engine's arrays (no copies).

        The views follow the swarm as it steps; copy what you want to keep.
        """
        return self._engine.nodes()

    def topology(self) -> dict[str, Any]:
        """The swarm's graph: CSR neighbour lists and node positions in the unit square."""
        return self._engine.topology_arrays()

    @property
    def state_bytes_per_node(self) -> float:
        """Bytes of engine state held per node."""
        return float(self._engine.state_bytes_per_node)

    def __repr__(self) -> str:
        return (
            f"Swarm(n_nodes={self.n_nodes}, dim={self.dim}, topology={self._config.topology!r}, "
            f"aggregator={self._config.aggregator!r}, seed={self.seed}, epoch={self.epoch})"
        )
