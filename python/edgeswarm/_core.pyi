"""
edgeswarm compiled engine (private; use the edgeswarm package)
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import typing
__all__: list[str] = ['ALERT_METRICS', 'ALERT_SEVERITIES', 'ALERT_TYPES', 'ATTACKS', 'AnomalyLikelihood', 'ControlChart', 'DEVICE_TYPES', 'Ensemble', 'EwmaZScore', 'FAULT_LABELS', 'FleetEngine', 'HUB_ID', 'HalfSpaceTrees', 'LatencyModel', 'LikelihoodAlarm', 'LinkRules', 'Mahalanobis', 'NET_MAX_DELAY_US', 'NET_MAX_NODES', 'NeighbourRarity', 'Q16_MAX', 'Q16_MAX_REAL', 'Q16_MIN', 'Q16_MIN_REAL', 'Q16_ONE', 'RAFT_ROLES', 'REGIMES', 'RaftCluster', 'RegimeDetector', 'RobustMad', 'SENSOR_TYPES', 'SENSOR_UNITS', 'SLEEP_ROLES', 'SleepScheduler', 'Swarm', 'SwarmConfig', 'TOPOLOGIES', 'aggregate', 'alie_z', 'apply_attack', 'attack_active', 'build_topology', 'column_sum', 'decode_message', 'encode_message', 'estimate_in_control', 'evaluate_alerts', 'fit_rul_model', 'fl_bytes_per_node_day', 'from_q16', 'grid_clusters', 'health_index', 'kmeans', 'message_bytes', 'predict_rul', 'process_capability', 'q16_add', 'q16_div', 'q16_mul', 'q16_sub', 'residual_entropy', 'rng_normal', 'rng_uniform', 'rul_window_features', 'stream_id', 'to_q16', 'trimmed_mean', 'trimmed_mean_portable', 'trimmed_mean_uses_simd']
class RegimeDetector:
    """
    Streaming Calm / PreStorm / Storm classifier of the entropy H with hysteresis. Regime codes: 0 Calm, 1 PreStorm, 2 Storm (names in REGIMES).
    """
    def __init__(self, *, calm_threshold: typing.SupportsFloat | typing.SupportsIndex = 0.45, storm_threshold: typing.SupportsFloat | typing.SupportsIndex = 0.7, derivative_threshold: typing.SupportsFloat | typing.SupportsIndex = 0.05, hysteresis: typing.SupportsInt | typing.SupportsIndex = 3, smoothing: typing.SupportsFloat | typing.SupportsIndex = 0.3) -> None:
        """
        Starts in Calm; ValueError naming the option when one is out of range.
        """
    def __repr__(self) -> str:
        ...
    def reset(self) -> None:
        """
        Back to the initial state (Calm, no smoothed value).
        """
    def run(self, h: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]]) -> numpy.typing.NDArray[numpy.uint8]:
        """
        Feeds a 1-D array of entropy values in order; returns the regime code after each (uint8).
        """
    def update(self, h: typing.SupportsFloat | typing.SupportsIndex) -> int:
        """
        Feeds one entropy value (NaN and infinity are ignored) and returns the regime code.
        """
    @property
    def derivative(self) -> float:
        """
        Last change of the smoothed entropy (per epoch).
        """
    @property
    def params(self) -> dict:
        """
        The options it was built with, as a dict.
        """
    @property
    def regime(self) -> int:
        """
        Regime code in force.
        """
    @property
    def smoothed(self) -> float:
        """
        EWMA of the entropy values fed so far.
        """
class SleepScheduler:
    """
    Per-node TWT wake schedule (sentinel / on-demand / scheduled roles) and energy ledger in mJ. Role codes index SLEEP_ROLES; regime codes index REGIMES.
    """
    def __init__(self, n: int, *, seed: int, epoch_ms: typing.SupportsInt | typing.SupportsIndex = 500, calm_interval_s: typing.SupportsFloat | typing.SupportsIndex = 14400.0, prestorm_interval_s: typing.SupportsFloat | typing.SupportsIndex = 600.0, storm_interval_s: typing.SupportsFloat | typing.SupportsIndex = 30.0, wake_burst_epochs: typing.SupportsInt | typing.SupportsIndex = 2, sentinel_fraction: typing.SupportsFloat | typing.SupportsIndex = 1.0, on_demand_fraction: typing.SupportsFloat | typing.SupportsIndex = 0.0, awake_mw: typing.SupportsFloat | typing.SupportsIndex = 60.0, asleep_mw: typing.SupportsFloat | typing.SupportsIndex = 0.01, tx_uj_per_byte: typing.SupportsFloat | typing.SupportsIndex = 0.5, tx_uj_per_message: typing.SupportsFloat | typing.SupportsIndex = 20.0) -> None:
        """
        n nodes with roles drawn from `seed`; ValueError naming the option when one is out of range.
        """
    def __len__(self) -> int:
        ...
    def __repr__(self) -> str:
        ...
    def charge(self, awake: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], bytes_sent: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], messages_sent: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]]) -> None:
        """
        Charges one epoch: awake uint8 (n,), bytes_sent uint64 (n,), messages_sent uint32 (n,).
        """
    def energy_mj(self) -> numpy.typing.NDArray[numpy.float64]:
        """
        Energy used so far per node in mJ (float64 (n,), a snapshot).
        """
    def interval_epochs(self, regime: typing.SupportsInt | typing.SupportsIndex, reputation: typing.SupportsFloat | typing.SupportsIndex) -> int:
        """
        TWT interval in epochs for a regime code and a reputation (clamped to [0, 1]).
        """
    def plan_epoch(self, epoch: int, regime: typing.SupportsInt | typing.SupportsIndex, escalated: bool, reputation: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]]) -> numpy.typing.NDArray[numpy.uint8]:
        """
        Who is awake in `epoch` (uint8 (n,), 1 = awake) under regime code `regime`; `escalated` when the regime just became more urgent; `reputation` float64 (n,) in [0, 1] scales the intervals.
        """
    def roles(self) -> numpy.typing.NDArray[numpy.uint8]:
        """
        Role code per node (uint8 (n,); names in SLEEP_ROLES).
        """
    def sleep_ratio(self) -> numpy.typing.NDArray[numpy.float64]:
        """
        Fraction of charged epochs each node spent asleep (float64 (n,); 0 before any charge).
        """
    @property
    def epoch_ms(self) -> int:
        """
        Simulated milliseconds per epoch.
        """
    @property
    def epochs_charged(self) -> int:
        """
        Number of charge() calls so far.
        """
    @property
    def params(self) -> dict:
        """
        The options it was built with, as a dict.
        """
    @property
    def size(self) -> int:
        """
        Number of nodes.
        """
class SwarmConfig:
    """
    Flat view of everything that defines a swarm run (validated by Swarm()).
    """
    adaptive_trim: bool
    aggregator: str
    topology: str
    use_reputation: bool
    def __init__(self) -> None:
        ...
    def validate(self) -> None:
        """
        Raises ValueError naming the first field out of range.
        """
    @property
    def asleep_mw(self) -> float:
        ...
    @asleep_mw.setter
    def asleep_mw(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def awake_mw(self) -> float:
        ...
    @awake_mw.setter
    def awake_mw(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def ban_threshold(self) -> float:
        ...
    @ban_threshold.setter
    def ban_threshold(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def calm_interval_s(self) -> float:
        ...
    @calm_interval_s.setter
    def calm_interval_s(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def calm_threshold(self) -> float:
        ...
    @calm_threshold.setter
    def calm_threshold(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def clip_iters(self) -> int:
        ...
    @clip_iters.setter
    def clip_iters(self, arg1: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def clip_tau(self) -> float:
        ...
    @clip_tau.setter
    def clip_tau(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def degree(self) -> int:
        ...
    @degree.setter
    def degree(self, arg1: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def derivative_threshold(self) -> float:
        ...
    @derivative_threshold.setter
    def derivative_threshold(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def dim(self) -> int:
        ...
    @dim.setter
    def dim(self, arg1: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def entropy_bins(self) -> int:
        ...
    @entropy_bins.setter
    def entropy_bins(self, arg1: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def epoch_ms(self) -> int:
        ...
    @epoch_ms.setter
    def epoch_ms(self, arg1: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def hysteresis(self) -> int:
        ...
    @hysteresis.setter
    def hysteresis(self, arg1: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def innovation(self) -> float:
        ...
    @innovation.setter
    def innovation(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def invalid_rate(self) -> float:
        ...
    @invalid_rate.setter
    def invalid_rate(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def krum_f(self) -> int:
        ...
    @krum_f.setter
    def krum_f(self, arg1: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def min_trim(self) -> float:
        ...
    @min_trim.setter
    def min_trim(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def multi_krum_m(self) -> int:
        ...
    @multi_krum_m.setter
    def multi_krum_m(self, arg1: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def n_nodes(self) -> int:
        ...
    @n_nodes.setter
    def n_nodes(self, arg1: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def noise_variance(self) -> float:
        ...
    @noise_variance.setter
    def noise_variance(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def on_demand_fraction(self) -> float:
        ...
    @on_demand_fraction.setter
    def on_demand_fraction(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def prestorm_interval_s(self) -> float:
        ...
    @prestorm_interval_s.setter
    def prestorm_interval_s(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def radius(self) -> float:
        ...
    @radius.setter
    def radius(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def reputation_initial(self) -> float:
        ...
    @reputation_initial.setter
    def reputation_initial(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def reputation_min_distance(self) -> float:
        ...
    @reputation_min_distance.setter
    def reputation_min_distance(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def reputation_penalty(self) -> float:
        ...
    @reputation_penalty.setter
    def reputation_penalty(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def reputation_reward(self) -> float:
        ...
    @reputation_reward.setter
    def reputation_reward(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def reputation_tolerance(self) -> float:
        ...
    @reputation_tolerance.setter
    def reputation_tolerance(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def residual_range(self) -> float:
        ...
    @residual_range.setter
    def residual_range(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def rewire(self) -> float:
        ...
    @rewire.setter
    def rewire(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def seed(self) -> int:
        ...
    @seed.setter
    def seed(self, arg1: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def sentinel_fraction(self) -> float:
        ...
    @sentinel_fraction.setter
    def sentinel_fraction(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def signal(self) -> list[float]:
        ...
    @signal.setter
    def signal(self, arg1: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex]) -> None:
        ...
    @property
    def smoothing(self) -> float:
        ...
    @smoothing.setter
    def smoothing(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def storm_interval_s(self) -> float:
        ...
    @storm_interval_s.setter
    def storm_interval_s(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def storm_threshold(self) -> float:
        ...
    @storm_threshold.setter
    def storm_threshold(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def threads(self) -> int:
        ...
    @threads.setter
    def threads(self, arg1: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def trim(self) -> float:
        ...
    @trim.setter
    def trim(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def trim_count(self) -> int:
        ...
    @trim_count.setter
    def trim_count(self, arg1: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def tx_uj_per_byte(self) -> float:
        ...
    @tx_uj_per_byte.setter
    def tx_uj_per_byte(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def tx_uj_per_message(self) -> float:
        ...
    @tx_uj_per_message.setter
    def tx_uj_per_message(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def wake_burst_epochs(self) -> int:
        ...
    @wake_burst_epochs.setter
    def wake_burst_epochs(self, arg1: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
class Swarm:
    """
    The swarm engine (use edgeswarm.Swarm).
    """
    def __init__(self, config: SwarmConfig) -> None:
        ...
    def begin_epoch(self) -> None:
        """
        Starts an epoch (sleep plan, sensing, attacks, bandwidth); its reports wait in outgoing_messages() for finish_epoch(). RuntimeError when an epoch is already under way.
        """
    def finish_epoch(self, delivered: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]]) -> dict:
        """
        Ends the epoch begun, aggregating for each receiver only the reports whose link is delivered (bool or uint8 mask, one entry per gossip link); returns its figures as columns of length 1. ValueError naming `delivered` on a wrong dtype or length; RuntimeError outside an epoch.
        """
    def gossip_links(self) -> dict:
        """
        The gossip links as columns {'sender', 'receiver'} (uint32): link k carries sender[k]'s report to receiver[k], the aggregator being HUB_ID in a centralised swarm. finish_epoch's mask follows them.
        """
    def inject_byzantine(self, count: int, *, attack: str = 'bias', bias: typing.SupportsFloat | typing.SupportsIndex = 0.9, jitter: typing.SupportsFloat | typing.SupportsIndex = 0.01, scale: typing.SupportsFloat | typing.SupportsIndex = 1.0, sigma: typing.SupportsFloat | typing.SupportsIndex = 1.0, alie_z: typing.SupportsFloat | typing.SupportsIndex = -1.0, ipm_epsilon: typing.SupportsFloat | typing.SupportsIndex = 0.5, on_epochs: typing.SupportsInt | typing.SupportsIndex = 5, off_epochs: typing.SupportsInt | typing.SupportsIndex = 5) -> None:
        """
        Turns `count` random honest nodes Byzantine with the given attack. Raises ValueError naming the parameter: count outside [0, honest nodes left], an unknown attack, a bias outside the Q16.16 range, or an attack option out of its range.
        """
    def inject_noise(self, intensity: typing.SupportsFloat | typing.SupportsIndex, duration_s: typing.SupportsFloat | typing.SupportsIndex) -> None:
        """
        Adds noise of standard deviation `intensity` for `duration_s` simulated seconds (0 ends a storm). Raises ValueError naming the parameter: intensity outside [0, Q16.16 max], duration_s negative, not finite or beyond 2^62 epochs.
        """
    def nodes(self) -> dict:
        """
        Per-node state as columns: read-only views of the engine's arrays (they change as the swarm steps; copy to keep), plus computed role and sleep_ratio.
        """
    def outgoing_messages(self) -> dict:
        """
        The wire messages of the epoch under way, one per sending node: {'node': uint32 ids ascending, 'data': bytes, message_bytes(dim) per node in the same order}. RuntimeError outside an epoch.
        """
    def run(self, epochs: typing.SupportsInt | typing.SupportsIndex) -> dict:
        """
        Advances `epochs` epochs; returns one column per figure, one row per epoch.
        """
    def set_threads(self, threads: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def step(self) -> dict:
        """
        Advances one epoch; returns its figures as columns of length 1.
        """
    def topology_arrays(self) -> dict:
        """
        Neighbour lists (CSR) and node positions of the swarm's topology.
        """
    @property
    def consensus_raw(self) -> numpy.typing.NDArray[numpy.int32]:
        ...
    @property
    def epoch(self) -> int:
        ...
    @property
    def honest_nodes(self) -> int:
        """
        Nodes not (yet) Byzantine.
        """
    @property
    def in_epoch(self) -> bool:
        """
        True between begin_epoch() and finish_epoch().
        """
    @property
    def state_bytes_per_node(self) -> float:
        ...
class LatencyModel:
    """
    A latency distribution over integer microseconds (use edgeswarm.net.LatencyModel).
    """
    @staticmethod
    def fixed(delay_us: typing.SupportsInt | typing.SupportsIndex) -> LatencyModel:
        """
        Always `delay_us`, in [0, 2^50].
        """
    @staticmethod
    def normal(mean_us: typing.SupportsFloat | typing.SupportsIndex, sd_us: typing.SupportsFloat | typing.SupportsIndex) -> LatencyModel:
        """
        Normal(mean_us, sd_us) truncated at 0 by redrawing; mean_us and sd_us in [0, 2^50].
        """
    @staticmethod
    def pareto(scale_us: typing.SupportsInt | typing.SupportsIndex, shape: typing.SupportsFloat | typing.SupportsIndex, cap_us: typing.SupportsInt | typing.SupportsIndex) -> LatencyModel:
        """
        Pareto type I: P(X > x) = (scale_us / x)^shape for x >= scale_us, clamped at cap_us; scale_us in (0, 2^50], shape > 0, cap_us in [scale_us, 2^50].
        """
    @staticmethod
    def uniform(min_us: typing.SupportsInt | typing.SupportsIndex, max_us: typing.SupportsInt | typing.SupportsIndex) -> LatencyModel:
        """
        Uniform over min_us..max_us inclusive; 0 <= min_us <= max_us <= 2^50.
        """
    def sample(self, count: typing.SupportsInt | typing.SupportsIndex, *, seed: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex = 0) -> numpy.typing.NDArray[numpy.int64]:
        """
        `count` delays (int64 microseconds) from stream `stream` of the portable RNG seeded by `seed`.
        """
    @property
    def kind(self) -> str:
        """
        fixed, uniform, normal or pareto.
        """
class LinkRules:
    """
    How one direction of a link treats each message (use edgeswarm.net.LinkRules).
    """
    def __init__(self, *, latency: LatencyModel | None = None, loss: typing.SupportsFloat | typing.SupportsIndex = 0.0, duplicate: typing.SupportsFloat | typing.SupportsIndex = 0.0, reorder: typing.SupportsFloat | typing.SupportsIndex = 0.0, reorder_delay: LatencyModel | None = None) -> None:
        """
        Rules with loss, duplicate and reorder probabilities in [0, 1] (ValueError naming the field otherwise); latency defaults to fixed 1000 us, reorder_delay to uniform 0..10000 us.
        """
    def draw(self, count: typing.SupportsInt | typing.SupportsIndex, *, seed: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex = 0, loss: typing.Any = None, extra_delay_us: typing.Any = None) -> dict:
        """
        Fates of `count` messages sent under these rules, drawn like the network simulator draws them (streams of (seed, stream)). `loss` (float64, one per message) replaces the rules' loss per message; `extra_delay_us` (int64, one per message, in [0, 2^50]) is added to the delay of each surviving copy. Returns a dict of arrays over copies (a duplicated message has two, adjacent): message (int64 index of the message), lost (bool), reordered (bool), delay_us (int64, -1 when lost).
        """
    @property
    def duplicate(self) -> float:
        """
        Probability that a second copy is sent.
        """
    @property
    def latency(self) -> LatencyModel:
        """
        One-way delay of every copy.
        """
    @property
    def loss(self) -> float:
        """
        Probability that a copy is lost.
        """
    @property
    def reorder(self) -> float:
        """
        Probability that a copy gets reorder_delay extra.
        """
    @property
    def reorder_delay(self) -> LatencyModel:
        """
        Extra delay of a reordered copy.
        """
class RaftCluster:
    """
    Simulated Raft cluster (use edgeswarm.RaftCluster).
    """
    def __init__(self, *, n: typing.SupportsInt | typing.SupportsIndex = 5, seed: typing.SupportsInt | typing.SupportsIndex = 1, election_min_ms: typing.SupportsInt | typing.SupportsIndex = 150, election_max_ms: typing.SupportsInt | typing.SupportsIndex = 300, heartbeat_ms: typing.SupportsInt | typing.SupportsIndex = 50, latency_min_us: typing.SupportsInt | typing.SupportsIndex = 1000, latency_max_us: typing.SupportsInt | typing.SupportsIndex = 5000, loss: typing.SupportsFloat | typing.SupportsIndex = 0.0, duplicate: typing.SupportsFloat | typing.SupportsIndex = 0.0, reorder: typing.SupportsFloat | typing.SupportsIndex = 0.0, reorder_max_us: typing.SupportsInt | typing.SupportsIndex = 10000, fsync_us: typing.SupportsInt | typing.SupportsIndex = 100, snapshot_every: typing.SupportsInt | typing.SupportsIndex = 1000, pre_vote: bool = True, check_quorum: bool = True, max_entries_per_msg: typing.SupportsInt | typing.SupportsIndex = 64, max_inflight_msgs: typing.SupportsInt | typing.SupportsIndex = 256, client_retry_us: typing.SupportsInt | typing.SupportsIndex = 100000, client_timeout_us: typing.SupportsInt | typing.SupportsIndex = 5000000, check_invariants: bool = True, record_applied: bool = True) -> None:
        ...
    def add_client(self) -> int:
        """
        A new client; returns its id.
        """
    def applied(self, node: typing.SupportsInt | typing.SupportsIndex) -> list:
        """
        (index, payload) of each non-empty normal entry the node applied.
        """
    def applied_index(self, node: typing.SupportsInt | typing.SupportsIndex) -> int:
        ...
    def commit_index(self, node: typing.SupportsInt | typing.SupportsIndex) -> int:
        """
        Commit index (the persisted one while down).
        """
    def crash(self, node: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def cut(self, from_node: typing.SupportsInt | typing.SupportsIndex, to_node: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def emergencies(self, node: typing.SupportsInt | typing.SupportsIndex) -> list:
        """
        Node's emergency log: (index, client, key, value) in commit order.
        """
    def heal(self) -> None:
        ...
    def history(self) -> list:
        """
        Every client operation so far (pending ones have status unknown).
        """
    def is_up(self, node: typing.SupportsInt | typing.SupportsIndex) -> bool:
        ...
    def known_leader(self, node: typing.SupportsInt | typing.SupportsIndex) -> typing.Any:
        """
        The leader node i knows of, or None.
        """
    def kv_data(self, node: typing.SupportsInt | typing.SupportsIndex) -> dict[str, str]:
        """
        Node's key-value data.
        """
    def leader(self) -> int | None:
        """
        The running leader with the highest term, or None.
        """
    def message_counts(self, node: typing.SupportsInt | typing.SupportsIndex | None = None) -> dict:
        """
        Messages sent (by one node or all), by type name.
        """
    def partition(self, groups: collections.abc.Sequence[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]]) -> None:
        ...
    def pending(self, client: typing.SupportsInt | typing.SupportsIndex) -> bool:
        ...
    def persisted(self, node: typing.SupportsInt | typing.SupportsIndex) -> dict:
        """
        What node's disk holds: hard state, snapshot point and log length.
        """
    def propose(self, data: bytes) -> tuple[int, int] | None:
        """
        Proposes `data` at the leader: (index, term), or None without a leader.
        """
    def propose_at(self, node: typing.SupportsInt | typing.SupportsIndex, data: bytes) -> tuple[int, int] | None:
        """
        Proposes `data` at node `node`: (index, term), or None unless it is up and leads.
        """
    def restart(self, node: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def role(self, node: typing.SupportsInt | typing.SupportsIndex) -> str:
        """
        follower, pre_candidate, candidate, leader, or down.
        """
    def run_until(self, until_us: typing.SupportsInt | typing.SupportsIndex) -> None:
        """
        Runs until simulated time `until_us`.
        """
    def run_until_leader(self, timeout_us: typing.SupportsInt | typing.SupportsIndex) -> int | None:
        """
        Runs until a node leads (at most timeout_us); returns it or None.
        """
    def set_link_rules(self, *, latency_min_us: typing.SupportsInt | typing.SupportsIndex, latency_max_us: typing.SupportsInt | typing.SupportsIndex, loss: typing.SupportsFloat | typing.SupportsIndex, duplicate: typing.SupportsFloat | typing.SupportsIndex, reorder: typing.SupportsFloat | typing.SupportsIndex, reorder_max_us: typing.SupportsInt | typing.SupportsIndex) -> None:
        """
        Replaces the rules of every link.
        """
    def submit(self, client: typing.SupportsInt | typing.SupportsIndex, kind: str, key: str, value: str = '') -> int:
        """
        Starts an operation; returns its position in history().
        """
    def term(self, node: typing.SupportsInt | typing.SupportsIndex) -> int:
        """
        Current term (the persisted one while down).
        """
    def traffic(self, node: typing.SupportsInt | typing.SupportsIndex | None = None) -> tuple[int, int]:
        """
        (messages, bytes) sent, by one node or all.
        """
    def violations(self) -> list:
        """
        Safety violations found by the invariant checker (empty when all is well).
        """
    def wait(self, client: typing.SupportsInt | typing.SupportsIndex) -> dict:
        """
        Runs until the client's operation ends; returns its history record.
        """
    @property
    def checks(self) -> int:
        ...
    @property
    def now(self) -> int:
        """
        Simulated time in microseconds.
        """
    @property
    def size(self) -> int:
        ...
class EwmaZScore:
    """
    Univariate EWMA z-score detector.
    """
    def __init__(self, *, alpha: typing.SupportsFloat | typing.SupportsIndex = 0.02, threshold: typing.SupportsFloat | typing.SupportsIndex = 3.0, warmup: typing.SupportsFloat | typing.SupportsIndex = 30.0, min_std: typing.SupportsFloat | typing.SupportsIndex = 1e-09) -> None:
        ...
    def reset(self) -> None:
        """
        Back to a fresh detector with the same options.
        """
    def update_batch(self, x: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]]) -> tuple[numpy.typing.NDArray[numpy.float64], numpy.typing.NDArray[numpy.float64]]:
        """
        Scores the samples of x in order (each before learning it) and returns (scores, confidence), continuing the stream; NaN or infinity: score NaN, confidence 0, not learned.
        """
    @property
    def mean(self) -> float:
        """
        Weighted mean learned so far.
        """
    @property
    def stats(self) -> dict:
        """
        Counters: seen, invalid, learned.
        """
    @property
    def variance(self) -> float:
        """
        Weighted variance learned so far.
        """
class RobustMad:
    """
    Univariate sliding-window median / MAD detector.
    """
    def __init__(self, *, window: typing.SupportsInt | typing.SupportsIndex = 101, threshold: typing.SupportsFloat | typing.SupportsIndex = 3.0, warmup: typing.SupportsFloat | typing.SupportsIndex = 30.0, min_scale: typing.SupportsFloat | typing.SupportsIndex = 1e-09, range_floor: typing.SupportsFloat | typing.SupportsIndex = 0.01) -> None:
        ...
    def reset(self) -> None:
        """
        Back to a fresh detector with the same options.
        """
    def update_batch(self, x: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]]) -> tuple[numpy.typing.NDArray[numpy.float64], numpy.typing.NDArray[numpy.float64]]:
        """
        Scores the samples of x in order (each before learning it) and returns (scores, confidence), continuing the stream; NaN or infinity: score NaN, confidence 0, not learned.
        """
    @property
    def mad(self) -> float:
        """
        Median absolute deviation of the window (unscaled).
        """
    @property
    def median(self) -> float:
        """
        Median of the window.
        """
    @property
    def scale(self) -> float:
        """
        Scale of the next robust z: max(1.4826 * MAD, range_floor * range, min_scale).
        """
    @property
    def stats(self) -> dict:
        """
        Counters: seen, invalid, learned.
        """
class HalfSpaceTrees:
    """
    Multivariate Half-Space Trees detector.
    """
    def __init__(self, *, dim: typing.SupportsInt | typing.SupportsIndex = 1, n_trees: typing.SupportsInt | typing.SupportsIndex = 25, depth: typing.SupportsInt | typing.SupportsIndex = 8, window: typing.SupportsInt | typing.SupportsIndex = 250, size_limit: typing.SupportsFloat | typing.SupportsIndex = 0.02, seed: typing.SupportsInt | typing.SupportsIndex = 0, warmup: typing.SupportsFloat | typing.SupportsIndex = 250.0, threshold: typing.SupportsFloat | typing.SupportsIndex = 24.0) -> None:
        ...
    def reset(self) -> None:
        """
        Back to a fresh detector with the same options.
        """
    def update_batch(self, x: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]]) -> tuple[numpy.typing.NDArray[numpy.float64], numpy.typing.NDArray[numpy.float64]]:
        """
        Scores the samples of x in order (each before learning it) and returns (scores, confidence), continuing the stream; NaN or infinity: score NaN, confidence 0, not learned.
        """
    @property
    def dim(self) -> int:
        """
        Features per sample.
        """
    @property
    def stats(self) -> dict:
        """
        Counters: seen, invalid, learned.
        """
class Mahalanobis:
    """
    Multivariate Mahalanobis detector with an online covariance.
    """
    def __init__(self, *, dim: typing.SupportsInt | typing.SupportsIndex = 2, alpha: typing.SupportsFloat | typing.SupportsIndex = 0.01, threshold: typing.SupportsFloat | typing.SupportsIndex = 3.0, ridge: typing.SupportsFloat | typing.SupportsIndex = 0.001, refresh: typing.SupportsInt | typing.SupportsIndex = 256, warmup: typing.SupportsFloat | typing.SupportsIndex = 50.0, clip: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> None:
        ...
    def reset(self) -> None:
        """
        Back to a fresh detector with the same options.
        """
    def update_batch(self, x: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]]) -> tuple[numpy.typing.NDArray[numpy.float64], numpy.typing.NDArray[numpy.float64]]:
        """
        Scores the samples of x in order (each before learning it) and returns (scores, confidence), continuing the stream; NaN or infinity: score NaN, confidence 0, not learned.
        """
    @property
    def dim(self) -> int:
        """
        Features per sample.
        """
    @property
    def mean(self) -> list[float]:
        """
        Weighted mean learned so far.
        """
    @property
    def stats(self) -> dict:
        """
        Counters: seen, invalid, learned.
        """
class Ensemble:
    """
    Calibrated ensemble: members' scores through their running empirical CDFs (with a fitted upper tail), combined as 1 - min(1, m * smallest tail probability).
    """
    def __init__(self, *, dim: typing.SupportsInt | typing.SupportsIndex = 1, seed: typing.SupportsInt | typing.SupportsIndex = 0, bins: typing.SupportsInt | typing.SupportsIndex = 1024, warmup: typing.SupportsFloat | typing.SupportsIndex = 100.0, ewma_alpha: typing.SupportsFloat | typing.SupportsIndex = 0.02, mad_window: typing.SupportsInt | typing.SupportsIndex = 101, hst_trees: typing.SupportsInt | typing.SupportsIndex = 25, hst_depth: typing.SupportsInt | typing.SupportsIndex = 8, hst_window: typing.SupportsInt | typing.SupportsIndex = 250, mahalanobis_alpha: typing.SupportsFloat | typing.SupportsIndex = 0.01, tail_fit: typing.SupportsFloat | typing.SupportsIndex = 0.05) -> None:
        ...
    def reset(self) -> None:
        """
        Back to a fresh detector with the same options.
        """
    def update_batch(self, x: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]]) -> tuple[numpy.typing.NDArray[numpy.float64], numpy.typing.NDArray[numpy.float64]]:
        """
        Scores the samples of x in order (each before learning it) and returns (scores, confidence), continuing the stream; NaN or infinity: score NaN, confidence 0, not learned.
        """
    @property
    def dim(self) -> int:
        """
        Features per sample.
        """
    @property
    def members(self) -> int:
        """
        Number of members (3 for dim 1, else 2).
        """
    @property
    def stats(self) -> dict:
        """
        Counters: seen, invalid, learned.
        """
class NeighbourRarity:
    """
    Univariate detector on the fraction of recent values near the new one.
    """
    def __init__(self, *, window: typing.SupportsInt | typing.SupportsIndex = 4000, radius: typing.SupportsFloat | typing.SupportsIndex = 0.03125, rare_fraction: typing.SupportsFloat | typing.SupportsIndex = 0.004, warmup: typing.SupportsFloat | typing.SupportsIndex = 30.0) -> None:
        ...
    def neighbours(self, x: typing.SupportsFloat | typing.SupportsIndex) -> int:
        """
        Values of the window within x's neighbourhood (nothing is learned).
        """
    def reset(self) -> None:
        """
        Back to a fresh detector with the same options.
        """
    def update_batch(self, x: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]]) -> tuple[numpy.typing.NDArray[numpy.float64], numpy.typing.NDArray[numpy.float64]]:
        """
        Scores the samples of x in order (each before learning it) and returns (scores, confidence), continuing the stream; NaN or infinity: score NaN, confidence 0, not learned.
        """
    @property
    def stats(self) -> dict:
        """
        Counters: seen, invalid, learned.
        """
class AnomalyLikelihood:
    """
    Post-processor: raw anomaly scores to a log-scale likelihood of their recent mean.
    """
    def __init__(self, *, average: typing.SupportsInt | typing.SupportsIndex = 10, learning: typing.SupportsInt | typing.SupportsIndex = 288, estimate_every: typing.SupportsInt | typing.SupportsIndex = 100, history: typing.SupportsInt | typing.SupportsIndex = 8640, mean_floor: typing.SupportsFloat | typing.SupportsIndex = 0.03, variance_floor: typing.SupportsFloat | typing.SupportsIndex = 0.0003, warmup: typing.SupportsFloat | typing.SupportsIndex = 388.0) -> None:
        ...
    def reset(self) -> None:
        """
        Back to a fresh detector with the same options.
        """
    def update_batch(self, x: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]]) -> tuple[numpy.typing.NDArray[numpy.float64], numpy.typing.NDArray[numpy.float64]]:
        """
        Scores the samples of x in order (each before learning it) and returns (scores, confidence), continuing the stream; NaN or infinity: score NaN, confidence 0, not learned.
        """
    @property
    def fitted(self) -> bool:
        """
        Whether a distribution has been fitted.
        """
    @property
    def fitted_mean(self) -> float:
        """
        Fitted mean of the short means.
        """
    @property
    def fitted_std(self) -> float:
        """
        Fitted standard deviation of the short means.
        """
    @property
    def stats(self) -> dict:
        """
        Counters: seen, invalid, learned.
        """
class LikelihoodAlarm:
    """
    Univariate detector: base detector, anomaly likelihood, range break, hold-off.
    """
    def __init__(self, *, base: str = 'rarity', rarity_window: typing.SupportsInt | typing.SupportsIndex = 4000, rarity_radius: typing.SupportsFloat | typing.SupportsIndex = 0.03125, rarity_fraction: typing.SupportsFloat | typing.SupportsIndex = 0.004, ewma_alpha: typing.SupportsFloat | typing.SupportsIndex = 0.02, average: typing.SupportsInt | typing.SupportsIndex = 10, learning: typing.SupportsInt | typing.SupportsIndex = 288, estimate_every: typing.SupportsInt | typing.SupportsIndex = 100, history: typing.SupportsInt | typing.SupportsIndex = 8640, range_break: bool = True, range_tolerance: typing.SupportsFloat | typing.SupportsIndex = 0.05, holdoff: typing.SupportsInt | typing.SupportsIndex = 100, warmup: typing.SupportsFloat | typing.SupportsIndex = 388.0) -> None:
        ...
    def reset(self) -> None:
        """
        Back to a fresh detector with the same options.
        """
    def update_batch(self, x: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]]) -> tuple[numpy.typing.NDArray[numpy.float64], numpy.typing.NDArray[numpy.float64]]:
        """
        Scores the samples of x in order (each before learning it) and returns (scores, confidence), continuing the stream; NaN or infinity: score NaN, confidence 0, not learned.
        """
    @property
    def quiet(self) -> int:
        """
        Valid samples still silenced by the hold-off.
        """
    @property
    def stats(self) -> dict:
        """
        Counters: seen, invalid, learned.
        """
class FleetEngine:
    """
    A device fleet whose parameters and readings are pure functions of (seed, device id, time). Codes index DEVICE_TYPES, SENSOR_TYPES and FAULT_LABELS.
    """
    def __init__(self, n_devices: typing.SupportsInt | typing.SupportsIndex, *, seed: int, device_mix: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex] = [0.7, 0.04, 0.08, 0.08, 0.06, 0.04], sensor_mix: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex] = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], sensor: str | None = None, area_m: typing.SupportsFloat | typing.SupportsIndex = 1000.0, fault_rate_per_day: typing.SupportsFloat | typing.SupportsIndex = 0.5, wear_fraction: typing.SupportsFloat | typing.SupportsIndex = 0.05, wear_horizon_days: typing.SupportsFloat | typing.SupportsIndex = 30.0, outage_rate_per_day: typing.SupportsFloat | typing.SupportsIndex = 1.0, report_interval_s: typing.SupportsFloat | typing.SupportsIndex = 10.0, buffer_capacity: typing.SupportsInt | typing.SupportsIndex = 1000, flush_rate_per_s: typing.SupportsFloat | typing.SupportsIndex = 20.0, offline_dbm: typing.SupportsFloat | typing.SupportsIndex = -95.0) -> None:
        """
        n_devices devices drawn from `seed`; `sensor` fixes every device's sensor type (else sensor_mix).
        """
    def __len__(self) -> int:
        ...
    def __repr__(self) -> str:
        ...
    def devices(self, t_us: typing.SupportsInt | typing.SupportsIndex) -> dict:
        """
        Per-device columns at t_us (dict of arrays): id, type and sensor codes, x, y, battery (%), health, signal_strength (dBm), online, buffered, buffer_utilisation, dropped, noise_sd, wear_onset_us and failure_us (INT64_MAX when the device does not wear).
        """
    def generate(self, t0_us: typing.SupportsInt | typing.SupportsIndex, steps: typing.SupportsInt | typing.SupportsIndex, dt_us: typing.SupportsInt | typing.SupportsIndex) -> tuple[numpy.typing.NDArray[numpy.float64], numpy.typing.NDArray[numpy.uint8]]:
        """
        (values float64 (n, steps), labels uint8 (n, steps)) at t0_us + k * dt_us; NaN for dropout, failure and empty battery.
        """
    @property
    def seed(self) -> int:
        """
        The seed the fleet was built from.
        """
    @property
    def size(self) -> int:
        """
        Number of devices.
        """
class ControlChart:
    """
    Phase II control chart: individuals chart with the Western Electric rules, EWMA with exact limits, and tabular CUSUM in sigma units.
    """
    def __init__(self, *, mean: typing.SupportsFloat | typing.SupportsIndex = 0.0, sigma: typing.SupportsFloat | typing.SupportsIndex = 1.0, ewma_lambda: typing.SupportsFloat | typing.SupportsIndex = 0.2, ewma_width: typing.SupportsFloat | typing.SupportsIndex = 3.0, cusum_k: typing.SupportsFloat | typing.SupportsIndex = 0.5, cusum_h: typing.SupportsFloat | typing.SupportsIndex = 5.0, signals: typing.SupportsInt | typing.SupportsIndex = 63) -> None:
        ...
    def reset(self) -> None:
        """
        Back to a fresh chart with the same options.
        """
    def update_batch(self, x: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]]) -> dict:
        """
        Monitors the samples of x in order, continuing the stream; returns a dict of arrays: ewma, ewma_lcl, ewma_ucl, cusum_upper, cusum_lower, signals (uint8 bits), confidence. NaN or infinity: NaN statistics, no signal, confidence 0, state unchanged.
        """
    @property
    def cusum_lower(self) -> float:
        """
        Current C- in sigma units.
        """
    @property
    def cusum_upper(self) -> float:
        """
        Current C+ in sigma units.
        """
    @property
    def ewma(self) -> float:
        """
        Current EWMA.
        """
    @property
    def stats(self) -> dict:
        """
        Counters: seen, invalid, defects, and samples on which each signal fired.
        """
def aggregate(values: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], *, aggregator: str, trim: typing.SupportsFloat | typing.SupportsIndex = 0.2, trim_count: typing.SupportsInt | typing.SupportsIndex = -1, weights: typing.Any = None, center: typing.Any = None, krum_f: typing.SupportsInt | typing.SupportsIndex = -1, multi_krum_m: typing.SupportsInt | typing.SupportsIndex = -1, clip_tau: typing.SupportsFloat | typing.SupportsIndex = 0.1, clip_iters: typing.SupportsInt | typing.SupportsIndex = 3) -> numpy.typing.NDArray[numpy.int32]:
    """
    Aggregates n reports of d raw Q16.16 values (int32 array (n, d)) into one int32 array (d,).
    
    aggregator: mean, trimmed_mean, median, reputation_trimmed_mean, krum, multi_krum or
    centered_clipping. Every rule is exact integer arithmetic with the project rounding
    rule (nearest, ties away from zero) and gives the same result for any row order.
    trim / trim_count: values dropped per side (trim_count >= 0 overrides floor(trim * n)).
    weights: int32 (n,) Q16.16 reputations in [0, 65536], required by reputation_trimmed_mean.
    center: int32 (d,) start of centered clipping (default: the coordinate-wise median).
    krum_f: Byzantine reports assumed by Krum (-1: the trim count); needs n > 2 krum_f + 2.
    multi_krum_m: reports averaged by multi_krum (-1: n - krum_f).
    clip_tau, clip_iters: clipping radius in real units and iteration count.
    Raises ValueError naming the parameter on bad input.
    """
def alie_z(n: typing.SupportsInt | typing.SupportsIndex, m: typing.SupportsInt | typing.SupportsIndex) -> float:
    """
    The ALIE z for n reports of which m are Byzantine: s = floor(n/2 + 1) - m, z = Phi^-1((n - s) / n), with the probability clamped to [1/(2n), 1 - 1/(2n)].
    """
def apply_attack(reports: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], *, attack: str, node_ids: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], honest_mean: typing.Any, honest_sd: typing.Any, n_total: typing.SupportsInt | typing.SupportsIndex, n_byzantine: typing.SupportsInt | typing.SupportsIndex, epoch: typing.SupportsInt | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex, mimic: typing.Any = None, bias: typing.SupportsFloat | typing.SupportsIndex = 0.9, jitter: typing.SupportsFloat | typing.SupportsIndex = 0.01, scale: typing.SupportsFloat | typing.SupportsIndex = 1.0, sigma: typing.SupportsFloat | typing.SupportsIndex = 1.0, alie_z: typing.SupportsFloat | typing.SupportsIndex = -1.0, ipm_epsilon: typing.SupportsFloat | typing.SupportsIndex = 0.5, on_epochs: typing.SupportsInt | typing.SupportsIndex = 5, off_epochs: typing.SupportsInt | typing.SupportsIndex = 5) -> numpy.ndarray[typing.Any, numpy.dtype[typing.Any]]:
    """
    Returns the attackers' reports (int32 raw Q16.16, k x d) for `epoch`: a new array; `reports` holds each attacker's own honest reading on entry and is not modified. node_ids (uint32, k) name the rows' nodes, whose (seed, node, epoch) streams drive the random attacks. honest_mean / honest_sd (float64, d) and mimic (int32, d) may be None when the attack does not use them. Bad input raises ValueError.
    """
def attack_active(epoch: typing.SupportsInt | typing.SupportsIndex, *, attack: str, on_epochs: typing.SupportsInt | typing.SupportsIndex = 5, off_epochs: typing.SupportsInt | typing.SupportsIndex = 5) -> bool:
    """
    Whether `attack` is active at `epoch`: always, except in the honest phase of intermittent (epoch mod (on_epochs + off_epochs) >= on_epochs).
    """
def build_topology(n: typing.SupportsInt | typing.SupportsIndex, *, topology: str = 'complete', degree: typing.SupportsInt | typing.SupportsIndex = 4, radius: typing.SupportsFloat | typing.SupportsIndex = 0.0, rewire: typing.SupportsFloat | typing.SupportsIndex = 0.1, seed: typing.SupportsInt | typing.SupportsIndex = 0) -> dict:
    """
    Builds the `topology` graph on n nodes and returns a dict: offsets (uint64, n + 1) and neighbours (uint32) in CSR form with sorted symmetric lists (empty for the centralised complete and star), positions (float64, n x 2) in the unit square, centralised (bool), edge_count (int) and topology (str). The arrays are read-only views. Random kinds (k_regular, random_geometric, small_world) are deterministic for `seed`. Bad parameters raise ValueError naming the parameter.
    """
def column_sum(values: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]]) -> numpy.typing.NDArray[numpy.int64]:
    """
    Exact int64 column sums of an int32 (n, d) array: one streaming pass, the baseline of the trimmed mean benchmark.
    """
def decode_message(data: bytes) -> dict:
    """
    Parses a gossip message; ValueError on a bad length or CRC.
    """
def encode_message(node: typing.SupportsInt | typing.SupportsIndex, epoch: typing.SupportsInt | typing.SupportsIndex, values: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], flags: typing.SupportsInt | typing.SupportsIndex = 0) -> bytes:
    """
    Serialises a gossip message (wire.hpp layout).
    """
def estimate_in_control(x: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], *, method: str = 'moving_range') -> dict:
    """
    Phase I: mean and sigma of the finite values of x (dict: mean, sigma, n, invalid). method 'moving_range': mean moving range / d2 (individuals chart); 'std': sample standard deviation.
    """
def evaluate_alerts(values: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], metrics: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], *, temperature_low: typing.SupportsFloat | typing.SupportsIndex = 15.0, temperature_high: typing.SupportsFloat | typing.SupportsIndex = 35.0, humidity_low: typing.SupportsFloat | typing.SupportsIndex = 20.0, humidity_high: typing.SupportsFloat | typing.SupportsIndex = 80.0, battery_low: typing.SupportsFloat | typing.SupportsIndex = 10.0, battery_high: typing.SupportsFloat | typing.SupportsIndex = 100.0, vibration_low: typing.SupportsFloat | typing.SupportsIndex = 0.0, vibration_high: typing.SupportsFloat | typing.SupportsIndex = 5.0, warning_band: typing.SupportsFloat | typing.SupportsIndex = 0.1) -> tuple[numpy.typing.NDArray[numpy.uint8], numpy.typing.NDArray[numpy.uint8]]:
    """
    (alert type codes, severity codes), uint8 (rows, cols), for float64 values (rows, cols) whose row r holds metric code metrics[r] (ALERT_METRICS). Warning up to warning_band * (high - low) beyond a limit.
    """
def fit_rul_model(x: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], starts: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], *, window: typing.SupportsInt | typing.SupportsIndex, model: str, seed: typing.SupportsInt | typing.SupportsIndex, n_features: typing.SupportsInt | typing.SupportsIndex, alpha: typing.SupportsFloat | typing.SupportsIndex, cap: typing.SupportsInt | typing.SupportsIndex) -> dict:
    """
    Fits a RUL model ('ridge' or 'random_features') on run-to-failure histories: window features, targets min(cycles left, cap), normalisation, seeded random ReLU features (portable RNG streams 0 and 1) and the ridge normal equations solved by Eigen LDLT. Returns a dict: mean, std, projection, offset, weights, skipped. GIL released.
    """
def fl_bytes_per_node_day(dim: typing.SupportsInt | typing.SupportsIndex, epoch_ms: typing.SupportsInt | typing.SupportsIndex) -> float:
    """
    Federated-learning baseline: 2 * (16 + 4 * dim) * (86,400,000 / epoch_ms) bytes per client per day.
    """
def from_q16(raw: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]]) -> numpy.typing.NDArray[numpy.float64]:
    """
    Converts raw Q16.16 (int32) to float64, exactly.
    """
def grid_clusters(positions: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], *, cell_size: typing.SupportsFloat | typing.SupportsIndex) -> dict:
    """
    Square grid cells of side cell_size anchored at the origin, numbered by first device; same dict as kmeans.
    """
def health_index(rul: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], cap: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float64]:
    """
    Health in [0, 1]: rul / cap clipped; rul must be finite, cap >= 1.
    """
def kmeans(positions: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], k: typing.SupportsInt | typing.SupportsIndex, *, seed: int, max_iter: typing.SupportsInt | typing.SupportsIndex = 100) -> dict:
    """
    Seeded k-means (k-means++ then Lloyd) of float64 (n, d) positions: dict with labels, centroids, heads (member nearest each centroid, ties to the lower id), sizes, iterations, converged, inertia.
    """
def message_bytes(dim: typing.SupportsInt | typing.SupportsIndex) -> int:
    """
    Bytes of one gossip message: 16-byte header + 4 bytes per Q16.16 coordinate.
    """
def predict_rul(x: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], starts: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], *, window: typing.SupportsInt | typing.SupportsIndex, mean: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], std: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], projection: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], offset: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], weights: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], cap: typing.SupportsInt | typing.SupportsIndex) -> dict:
    """
    Predicted RUL at each engine's last finite cycle, clipped to [0, cap], from a fitted model's arrays (an empty projection means 'ridge'). Returns a dict: rul, skipped. GIL released.
    """
def process_capability(*, mean: typing.SupportsFloat | typing.SupportsIndex, sigma: typing.SupportsFloat | typing.SupportsIndex, lsl: typing.SupportsFloat | typing.SupportsIndex, usl: typing.SupportsFloat | typing.SupportsIndex) -> dict:
    """
    Cp = (usl - lsl) / 6 sigma, Cpu, Cpl, Cpk = min(Cpu, Cpl) as a dict.
    """
def q16_add(a: typing.SupportsInt | typing.SupportsIndex, b: typing.SupportsInt | typing.SupportsIndex) -> int:
    """
    Saturating Q16.16 sum of two raw values.
    """
def q16_div(a: typing.SupportsInt | typing.SupportsIndex, b: typing.SupportsInt | typing.SupportsIndex) -> int:
    """
    Saturating Q16.16 quotient of two raw values (division by zero saturates by the sign of a).
    """
def q16_mul(a: typing.SupportsInt | typing.SupportsIndex, b: typing.SupportsInt | typing.SupportsIndex) -> int:
    """
    Saturating Q16.16 product of two raw values.
    """
def q16_sub(a: typing.SupportsInt | typing.SupportsIndex, b: typing.SupportsInt | typing.SupportsIndex) -> int:
    """
    Saturating Q16.16 difference of two raw values.
    """
def residual_entropy(residuals: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], *, residual_range: typing.SupportsFloat | typing.SupportsIndex, bins: typing.SupportsInt | typing.SupportsIndex = 16) -> float:
    """
    Normalised Shannon entropy in [0, 1] of the histogram of |residuals| / residual_range over `bins` equal bins of [0, residual_range). Residuals at or beyond the range are saturated: their mass is spread evenly over the bins (maximal disorder), so all-saturated gives 1. NaN is skipped; no values give 0. The array may have any shape; all its values are used.
    """
def rng_normal(seed: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex, count: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float64]:
    """
    `count` standard normal draws from stream `stream` of the portable RNG seeded by `seed`.
    """
def rng_uniform(seed: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex, count: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float64]:
    """
    `count` uniform [0, 1) draws from stream `stream` of the portable RNG seeded by `seed`.
    """
def rul_window_features(x: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], starts: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], window: typing.SupportsInt | typing.SupportsIndex) -> dict:
    """
    Window features of sensor histories `x` (n_rows, n_sensors); engine e is rows [starts[e], starts[e + 1]) in cycle order. Returns a dict: features (n_kept, 3 * n_sensors + 1: values, trailing-window means and slopes, age / 100), source_row, remaining_cycles, last_row (feature row of each engine's last finite cycle, -1 if none) and skipped (cycles with a NaN or infinite reading: no feature row, never part of a window). GIL released.
    """
def stream_id(a: typing.SupportsInt | typing.SupportsIndex, b: typing.SupportsInt | typing.SupportsIndex = 0, c: typing.SupportsInt | typing.SupportsIndex = 0) -> int:
    """
    Combines identifiers into one 64-bit stream id (order matters): the engine's one derivation of independent streams and seeds (core::stream_id, SplitMix64 steps).
    """
def to_q16(x: typing.Annotated[numpy.typing.ArrayLike, numpy.float64]) -> numpy.typing.NDArray[numpy.int32]:
    """
    Converts real numbers to raw Q16.16 (int32): round to nearest, ties away from zero; saturates at the range limits; NaN raises ValueError.
    """
def trimmed_mean(values: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], f: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.int32]:
    """
    Coordinate-wise trimmed mean of an int32 (n, d) raw Q16.16 array: drops the f smallest and f largest values of each column and averages the rest with the rounding rule; needs 2f < n. The fast path (AVX-512 when the CPU has it, single-threaded).
    """
def trimmed_mean_portable(values: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], f: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.int32]:
    """
    trimmed_mean computed by the portable std::nth_element path (no SIMD); same result, for checks and benchmarks.
    """
def trimmed_mean_uses_simd() -> bool:
    """
    True when trimmed_mean runs the AVX-512 kernel on this CPU.
    """
ALERT_METRICS: tuple = ('temperature', 'humidity', 'battery', 'vibration')
ALERT_SEVERITIES: tuple = ('none', 'warning', 'critical')
ALERT_TYPES: tuple = ('none', 'temperature_low', 'temperature_high', 'humidity_low', 'humidity_high', 'battery_low', 'vibration_high')
ATTACKS: tuple = ('bias', 'sign_flip', 'gaussian', 'alie', 'ipm', 'mimic', 'intermittent')
DEVICE_TYPES: tuple = ('sensor', 'gateway', 'controller', 'camera', 'robot', 'drone')
FAULT_LABELS: tuple = ('none', 'spike', 'stuck', 'drift', 'dropout', 'failure', 'battery_empty')
HUB_ID: int = 4294967295
NET_MAX_DELAY_US: int = 1125899906842624
NET_MAX_NODES: int = 1024
Q16_MAX: int = 2147483647
Q16_MAX_REAL: float = 32767.99998474121
Q16_MIN: int = -2147483648
Q16_MIN_REAL: float = -32768.0
Q16_ONE: int = 65536
RAFT_ROLES: tuple = ('follower', 'pre_candidate', 'candidate', 'leader', 'down')
REGIMES: tuple = ('Calm', 'PreStorm', 'Storm')
SENSOR_TYPES: tuple = ('temperature', 'humidity', 'vibration', 'power', 'pressure', 'light', 'sound', 'motion', 'air_quality', 'rfid')
SENSOR_UNITS: tuple = ('degC', '%RH', 'g', 'W', 'hPa', 'lux', 'dBA', 'activity', 'ppm', 'reads/min')
SLEEP_ROLES: tuple = ('sentinel', 'on_demand', 'scheduled')
TOPOLOGIES: tuple = ('complete', 'star', 'ring', 'k_regular', 'grid', 'torus', 'random_geometric', 'small_world')
