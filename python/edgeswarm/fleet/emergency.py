"""Emergency coordination: device clusters, one Raft group each, emergencies recorded on commit.

An :class:`EmergencyCoordinator` groups devices into clusters (an explicit mapping device →
cluster, or from device positions with :func:`edgeswarm.fleet.cluster`, the engine's seeded
k-means or grid, so the same positions, k and seed give the same clusters everywhere), runs one
:class:`~edgeswarm.raft.RaftCluster` per cluster, and proposes each :class:`Emergency` as a
JSON payload to its cluster's replicated emergency log through a key-value client. An
emergency is *recorded* only once committed: :meth:`EmergencyCoordinator.emergencies` reads
the applied emergency logs of the cluster's up nodes; :meth:`EmergencyCoordinator.pending`
lists the ones proposed but not yet seen committed, with their status (one of
:data:`EMERGENCY_STATUSES`).

Head and leader (one meaning each, as everywhere in the project). The *head* of a cluster is
its device nearest the centroid (:attr:`edgeswarm.fleet.Clusters.heads`); it is fixed by the
positions. The *leader* is the device currently leading the cluster's Raft group; it changes
with elections and is None during one.

Raft members. A cluster's Raft group has ``min(devices in the cluster, group_size)``
voters. With positions, they are the devices nearest to the cluster's centroid, ranked by
:func:`edgeswarm.fleet.devices.rank_by_centroid` (the head first; ties go to the lower
device index); without, the cluster's first devices in the order given (the first is then
the head). The other devices of the cluster are coordinated by the group but do not vote.
Raft node ``i`` of a cluster is ``members[i]``.

Simulated time (tests, notebooks, batch runs)::

    >>> import edgeswarm as es
    >>> co = es.EmergencyCoordinator(positions=es.Swarm(n_nodes=30, seed=1).topology()["positions"],
    ...                              n_clusters=3, group_size=3, seed=1)
    >>> co.run_until_leaders(timeout_ms=5_000)         # {cluster_id: Raft leader device}
    >>> e = co.report(type="fire", severity="high", zone="north", affected_devices=[4, 7],
    ...               action="evacuate")
    >>> co.emergencies()                               # [] : proposed, not committed yet
    >>> co.advance(100)                                # every cluster runs 100 simulated ms
    >>> co.emergencies() == [e]
    True

Real time (a service loop owns the loop; nothing here sleeps or starts threads)::

    driver = es.fleet.RealTimeDriver(co, max_step_ms=200)
    while serving:
        driver.tick(time.monotonic())   # simulated time follows elapsed wall time
        ...                             # answer requests: co.report(...), co.status()
        await asyncio.sleep(0.05)

Each :meth:`RealTimeDriver.tick` advances every cluster by the wall time elapsed since the
previous tick (times ``speed``), at most ``max_step_ms`` per call; time beyond the cap is
dropped, not owed, so a slow loop never falls into an unbounded catch-up (it is counted in
:attr:`RealTimeDriver.dropped_ms`). ``co.tick_realtime(now)`` does the same with a driver of
default options.

Times: the simulation runs in integer microseconds; :attr:`EmergencyCoordinator.now_ms`
is the clusters' common simulated time. ``Emergency.time`` is seconds on the reporter's
clock; when left out it is the coordinator's simulated time in seconds.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgeswarm import _seeds
from edgeswarm._validate import require_float, require_int
from edgeswarm.fleet.devices import Clusters, cluster, rank_by_centroid
from edgeswarm.raft import MAX_NODES, KVClient, RaftCluster

__all__ = [
    "EMERGENCY_STATUSES",
    "LIVE_STATUSES",
    "PENDING_STATUSES",
    "SEVERITIES",
    "Emergency",
    "EmergencyCoordinator",
    "RealTimeDriver",
]

#: Allowed Emergency.severity values, least to most severe.
SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")

#: Every state of a proposed emergency, one word each; the coordinator, the edge runtime's
#: records (:mod:`edgeswarm.fleet.runtime`) and the REST API use these words and no others.
#: ``proposed``: the client is still retrying; ``acknowledged``: a leader applied it (so it is
#: committed) but no up node's applied log shows it yet; ``unknown``: the client gave up after
#: some leader accepted it, so it may still commit; ``failed``: no leader accepted it before
#: the client timeout, so it will not commit unless retried (:meth:`EmergencyCoordinator.retry`);
#: ``committed``: an up node's applied log shows it, so it is recorded
#: (:meth:`EmergencyCoordinator.emergencies`); ``abandoned``: its Raft group was lost before
#: it was seen committed (the edge runtime's records proposed by an earlier process).
EMERGENCY_STATUSES: tuple[str, ...] = (
    "proposed",
    "acknowledged",
    "unknown",
    "failed",
    "committed",
    "abandoned",
)

#: Statuses :meth:`EmergencyCoordinator.pending` reports: proposed, not yet seen committed.
PENDING_STATUSES: tuple[str, ...] = EMERGENCY_STATUSES[:4]

#: Statuses of an emergency that is committed or may still commit.
LIVE_STATUSES: tuple[str, ...] = ("proposed", "acknowledged", "unknown", "committed")

DeviceId = int | str
ClusterId = int | str


def _device_id(name: str, value: object) -> DeviceId:
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, str)):
        raise ValueError(f"{name}: expected an int or str device id, got {value!r}")
    return int(value) if isinstance(value, numbers.Integral) else value


def _text(name: str, value: object, *, empty: bool) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name}: expected a str, got {type(value).__name__}")
    if not empty and not value.strip():
        raise ValueError(f"{name}: {value!r} is empty; allowed a non-empty string")
    return value


@dataclass(frozen=True)
class Emergency:
    """One emergency as recorded in a cluster's replicated log.

    ``id`` and ``type`` are non-empty strings; ``severity`` is one of :data:`SEVERITIES`;
    ``zone`` and ``action`` are strings (may be empty); ``affected_devices`` distinct device
    ids (int or str; a list is stored as a tuple); ``time`` finite seconds >= 0.
    """

    id: str
    type: str
    severity: str
    zone: str
    affected_devices: tuple[DeviceId, ...]
    action: str
    time: float

    def __post_init__(self) -> None:
        _text("id", self.id, empty=False)
        _text("type", self.type, empty=False)
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity: {self.severity!r} is not one of {', '.join(SEVERITIES)}")
        _text("zone", self.zone, empty=True)
        _text("action", self.action, empty=True)
        devices = self.affected_devices
        if isinstance(devices, (str, bytes)) or not isinstance(devices, Sequence):
            raise ValueError(f"affected_devices: expected a list of device ids, got {devices!r}")
        checked = tuple(_device_id("affected_devices", d) for d in devices)
        if len(set(checked)) != len(checked):
            raise ValueError(f"affected_devices: {list(checked)!r} lists a device twice")
        object.__setattr__(self, "affected_devices", checked)
        object.__setattr__(self, "time", require_float("time", self.time, minimum=0.0))

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict (affected_devices as a list)."""
        return {
            "id": self.id,
            "type": self.type,
            "severity": self.severity,
            "zone": self.zone,
            "affected_devices": list(self.affected_devices),
            "action": self.action,
            "time": self.time,
        }

    def to_json(self) -> str:
        """Compact JSON with sorted keys: the payload proposed to the Raft log."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Emergency:
        """The emergency in ``data`` (as :meth:`to_dict` gives); ValueError when malformed."""
        if not isinstance(data, Mapping):
            raise ValueError(f"data: expected a mapping, got {type(data).__name__}")
        names = ("id", "type", "severity", "zone", "affected_devices", "action", "time")
        missing = [k for k in names if k not in data]
        extra = sorted(set(data) - set(names))
        if missing or extra:
            raise ValueError(f"data: missing fields {missing}, unexpected fields {extra}")
        return cls(**{k: data[k] for k in names})

    @classmethod
    def from_json(cls, text: str) -> Emergency:
        """The emergency in ``text`` (as :meth:`to_json` gives); ValueError when malformed."""
        try:
            data = json.loads(text)
        except (TypeError, json.JSONDecodeError) as err:
            raise ValueError(f"text: not JSON ({err})") from None
        return cls.from_dict(data)


# --------------------------------------------------------------------------- coordinator


@dataclass
class _Proposal:
    emergency: Emergency
    client: KVClient
    proposed_us: int
    attempts: int = 1


@dataclass
class _Group:
    id: ClusterId
    devices: list[DeviceId]
    members: list[DeviceId]  # ranked: nearest the centroid first (the given order without positions)
    raft: RaftCluster
    centroid: list[float] | None  # mean position of the devices; None without positions
    clients: list[KVClient] = field(default_factory=list)
    pending: dict[str, _Proposal] = field(default_factory=dict)
    committed: list[tuple[int, Emergency]] = field(default_factory=list)
    committed_ids: set[str] = field(default_factory=set)
    last_index: int = 0


class EmergencyCoordinator:
    """Device clusters, one Raft group per cluster, and the emergencies they commit.

    Give either ``clusters`` (a mapping device id → cluster id; ``positions`` optional, used
    to pick Raft members near the centroid) or ``positions`` (an (n, d) array for devices
    0..n-1, or a mapping device id → position) with exactly one of ``n_clusters`` (k-means
    with ``seed``, at most as many clusters as devices) or ``cell_size`` (grid): derived
    clusters are those of :func:`edgeswarm.fleet.cluster` with the same arguments, numbered
    as it numbers them (0..k-1), and their heads are its heads.
    ``group_size`` caps the Raft voters per cluster; cluster ``k`` (in cluster order) runs
    with seed ``_seeds.derive(seed, EMERGENCY_RAFT, k)``; ``raft_options`` are passed to
    every :class:`~edgeswarm.raft.RaftCluster` (anything but ``n`` and ``seed``).
    """

    def __init__(
        self,
        *,
        clusters: Mapping[DeviceId, ClusterId] | None = None,
        positions: Any = None,
        n_clusters: int | None = None,
        cell_size: float | None = None,
        group_size: int = 5,
        seed: int = 1,
        raft_options: Mapping[str, Any] | None = None,
    ) -> None:
        group_size = require_int("group_size", group_size, minimum=1, maximum=MAX_NODES)
        seed = require_int("seed", seed, minimum=0, maximum=2**64 - 1)
        options = dict(raft_options or {})
        for bad in ("n", "seed"):
            if bad in options:
                raise ValueError(f"raft_options: {bad!r} is set by the coordinator; leave it out")

        devices, points = self._devices_and_points(clusters, positions)
        found: Clusters | None = None
        if clusters is not None:
            if n_clusters is not None or cell_size is not None:
                raise ValueError("clusters: give either clusters or n_clusters/cell_size, not both")
            if len(clusters) == 0:
                raise ValueError("clusters: expected at least one device")
            labels = []
            for d, c in clusters.items():
                if isinstance(c, bool) or not isinstance(c, (numbers.Integral, str)):
                    raise ValueError(f"clusters: cluster id of device {d!r} must be an int or str, got {c!r}")
                labels.append(int(c) if isinstance(c, numbers.Integral) else c)
        else:
            if points is None:
                raise ValueError("positions: give clusters or positions")
            found = self._cluster(points, n_clusters, cell_size, seed)
            labels = found.labels.tolist()

        # Cluster order: the order of first appearance of a given mapping; 0..k-1 when derived.
        by_cluster: dict[ClusterId, list[int]] = {}
        for label in labels if found is None else range(found.k):
            by_cluster.setdefault(label, [])
        for row, label in enumerate(labels):
            by_cluster[label].append(row)
        if points is None:
            centroids, ranked = None, list(by_cluster.values())
        else:
            # Raft voters are the members nearest the centroid: the rule of es.fleet.cluster's heads.
            code = {label: j for j, label in enumerate(by_cluster)}
            centroids, ranked_rows = rank_by_centroid(
                points, [code[label] for label in labels], heads=None if found is None else found.heads
            )
            ranked = [r.tolist() for r in ranked_rows]

        self._devices = devices
        self._cluster_of: dict[DeviceId, ClusterId] = {devices[r]: label for r, label in enumerate(labels)}
        self._groups: dict[ClusterId, _Group] = {}
        self._group_size = group_size
        self._seed = seed
        self._next_id = 1
        self._driver: RealTimeDriver | None = None
        for k, (label, rows) in enumerate(by_cluster.items()):
            rows_by_nearness = ranked[k]
            members = [devices[r] for r in rows_by_nearness[:group_size]]
            raft = RaftCluster(n=len(members), seed=_seeds.derive(seed, _seeds.EMERGENCY_RAFT, k), **options)
            centroid = None if centroids is None else [float(v) for v in centroids[k]]
            self._groups[label] = _Group(label, [devices[r] for r in rows], members, raft, centroid)

    @staticmethod
    def _cluster(points: np.ndarray, n_clusters: int | None, cell_size: float | None, seed: int) -> Clusters:
        """es.fleet.cluster of the positions: the one clustering (and numbering) of the project."""
        if (n_clusters is None) == (cell_size is None):
            raise ValueError("n_clusters: give exactly one of n_clusters (k-means) or cell_size (grid)")
        if n_clusters is None:
            return cluster(points, cell_size=cell_size)
        k = require_int("n_clusters", n_clusters, minimum=1)
        return cluster(points, k=min(k, len(points)), seed=seed)

    @staticmethod
    def _devices_and_points(
        clusters: Mapping[DeviceId, ClusterId] | None, positions: Any
    ) -> tuple[list[DeviceId], np.ndarray | None]:
        if clusters is not None and not isinstance(clusters, Mapping):
            raise ValueError(
                f"clusters: expected a mapping device id -> cluster id, got {type(clusters).__name__}"
            )
        if positions is None:
            if clusters is None:
                raise ValueError("positions: give clusters or positions")
            return [_device_id("clusters", d) for d in clusters], None
        if isinstance(positions, Mapping):
            devices = [_device_id("positions", d) for d in positions]
            try:
                points = np.array([np.asarray(positions[d], dtype=np.float64) for d in positions])
            except ValueError:
                raise ValueError("positions: every position must have the same dimension") from None
        else:
            points = np.asarray(positions, dtype=np.float64)
            devices = list(range(len(points))) if points.ndim >= 1 else []
        if points.ndim != 2 or points.shape[0] == 0 or points.shape[1] == 0:
            raise ValueError(f"positions: expected a non-empty (n, d) array, got shape {points.shape}")
        if not np.isfinite(points).all():
            raise ValueError("positions: contains NaN or infinite values")
        if clusters is not None:
            if set(clusters) != set(devices):
                raise ValueError("positions: must cover exactly the devices of clusters")
            index = {d: r for r, d in enumerate(devices)}
            devices = [_device_id("clusters", d) for d in clusters]
            points = points[[index[d] for d in devices]]
        return devices, points

    @classmethod
    def from_swarm(cls, swarm: Any, **options: Any) -> EmergencyCoordinator:
        """A coordinator over the swarm's nodes (device ids 0..n-1) clustered by their positions."""
        return cls(positions=swarm.topology()["positions"], **options)

    # ------------------------------------------------------------------ structure

    @property
    def cluster_ids(self) -> list[ClusterId]:
        """Cluster ids, in cluster order."""
        return list(self._groups)

    @property
    def devices(self) -> list[DeviceId]:
        """Every device id, in the order given."""
        return list(self._devices)

    def cluster_of(self, device: DeviceId) -> ClusterId:
        """The cluster ``device`` belongs to."""
        return self._cluster_of[self._device(device)]

    def devices_of(self, cluster_id: ClusterId) -> list[DeviceId]:
        """The devices of a cluster, in the order given."""
        return list(self._group(cluster_id).devices)

    def members(self, cluster_id: ClusterId) -> list[DeviceId]:
        """The cluster's Raft voters; Raft node i is members[i]."""
        return list(self._group(cluster_id).members)

    def clusters(self) -> dict[ClusterId, list[DeviceId]]:
        """Cluster id → its devices, in cluster order."""
        return {g.id: list(g.devices) for g in self._groups.values()}

    def raft(self, cluster_id: ClusterId) -> RaftCluster:
        """The cluster's RaftCluster (node i is members(cluster_id)[i]), for inspection."""
        return self._group(cluster_id).raft

    def head(self, cluster_id: ClusterId) -> DeviceId:
        """The cluster head: its device nearest the centroid (``es.fleet.cluster``'s head rule),
        which is ``members(cluster_id)[0]``; without positions, the cluster's first device."""
        return self._group(cluster_id).members[0]

    def heads(self) -> dict[ClusterId, DeviceId]:
        """Cluster id → head (see :meth:`head`)."""
        return {c: g.members[0] for c, g in self._groups.items()}

    def centroid(self, cluster_id: ClusterId) -> list[float] | None:
        """The mean position of the cluster's devices; None when no positions were given."""
        g = self._group(cluster_id)
        return None if g.centroid is None else list(g.centroid)

    def leader(self, cluster_id: ClusterId) -> DeviceId | None:
        """The device leading the cluster's Raft group, or None during an election."""
        g = self._group(cluster_id)
        leader = g.raft.leader()
        return None if leader is None else g.members[leader]

    def leaders(self) -> dict[ClusterId, DeviceId | None]:
        """Cluster id → Raft leader (None without a leader)."""
        return {c: self.leader(c) for c in self._groups}

    # ------------------------------------------------------------------ time

    @property
    def now_ms(self) -> float:
        """The clusters' common simulated time in milliseconds."""
        return self._now_us() / 1000

    def _now_us(self) -> int:
        return next(iter(self._groups.values())).raft.now_us

    def advance(self, ms: float) -> None:
        """Runs every cluster's simulation for ``ms`` simulated milliseconds (>= 0)."""
        ms = require_float("ms", ms, minimum=0.0)
        self._advance_us(round(ms * 1000))

    def _advance_us(self, us: int) -> None:
        if us <= 0:
            return
        for g in self._groups.values():
            g.raft.run(ms=us / 1000)
        for g in self._groups.values():
            self._refresh(g)

    def run_until_leaders(
        self, *, timeout_ms: float = 5000, step_ms: float = 5
    ) -> dict[ClusterId, DeviceId | None]:
        """Advances in ``step_ms`` steps until every cluster has a Raft leader (at most
        ``timeout_ms``); returns :meth:`leaders`."""
        timeout_us = round(require_float("timeout_ms", timeout_ms, minimum=0.0) * 1000)
        step_us = round(require_float("step_ms", step_ms, minimum=0.0) * 1000)
        if step_us <= 0:
            raise ValueError(f"step_ms: {step_ms} is out of range; allowed > 0")
        end = self._now_us() + timeout_us
        while any(h is None for h in self.leaders().values()) and self._now_us() < end:
            self._advance_us(min(step_us, end - self._now_us()))
        return self.leaders()

    def tick_realtime(self, now_s: float) -> int:
        """Follows wall time with a default :class:`RealTimeDriver`; returns simulated µs advanced."""
        if self._driver is None:
            self._driver = RealTimeDriver(self)
        return self._driver.tick(now_s)

    # ------------------------------------------------------------------ emergencies

    def report(
        self,
        *,
        type: str,
        severity: str,
        zone: str,
        affected_devices: Sequence[DeviceId],
        action: str = "",
        time: float | None = None,
        id: str | None = None,
        cluster_id: ClusterId | None = None,
    ) -> Emergency:
        """Builds an :class:`Emergency` (id generated, time = simulated seconds, when left out)
        and proposes it (see :meth:`propose`); returns it."""
        if id is None:
            while True:
                id = f"em-{self._next_id:06d}"
                self._next_id += 1
                if not self._known_id(id):
                    break
        if time is None:
            time = self._now_us() / 1e6
        e = Emergency(
            id=id,
            type=type,
            severity=severity,
            zone=zone,
            affected_devices=affected_devices,
            action=action,
            time=time,
        )
        return self.propose(e, cluster_id=cluster_id)

    def propose(self, emergency: Emergency, *, cluster_id: ClusterId | None = None) -> Emergency:
        """Proposes ``emergency`` to a cluster's Raft log; it is recorded once committed.

        The cluster is ``cluster_id``, or else the one all affected devices belong to. The
        proposal goes through a key-value client that retries until the client timeout of
        the cluster's ``raft_options``; follow it in :meth:`pending`. Ids must be unique.
        """
        if not isinstance(emergency, Emergency):
            raise ValueError(f"emergency: expected an Emergency, got {type(emergency).__name__}")
        for d in emergency.affected_devices:
            if d not in self._cluster_of:
                raise ValueError(f"affected_devices: {d!r} is not a known device")
        if cluster_id is None:
            owners = {self._cluster_of[d] for d in emergency.affected_devices}
            if len(owners) != 1:
                raise ValueError(
                    "cluster_id: the affected devices belong to "
                    f"{len(owners)} clusters; give cluster_id to choose one"
                )
            cluster_id = owners.pop()
        g = self._group(cluster_id)
        if self._known_id(emergency.id):
            raise ValueError(f"id: {emergency.id!r} was already proposed; ids must be unique")
        client = self._submit(g, emergency)
        g.pending[emergency.id] = _Proposal(emergency, client, self._now_us())
        return emergency

    def retry(self, emergency_id: str) -> None:
        """Proposes again an emergency whose status is ``failed`` or ``unknown``.

        Should both attempts commit, the log holds it twice; the coordinator records the first.
        """
        self._refresh_all()
        for g in self._groups.values():
            p = g.pending.get(emergency_id)
            if p is None:
                continue
            status = self._status(p)
            if status not in ("failed", "unknown"):
                raise ValueError(
                    f"emergency_id: {emergency_id!r} is {status}; only failed or unknown ones are retried"
                )
            p.client = self._submit(g, p.emergency)
            p.attempts += 1
            return
        raise ValueError(f"emergency_id: {emergency_id!r} is not pending")

    def emergencies(self, cluster_id: ClusterId | None = None) -> list[Emergency]:
        """Committed emergencies in commit order (cluster by cluster, in cluster order)."""
        return [e for _, _, e in self._records(cluster_id)]

    def records(self, cluster_id: ClusterId | None = None) -> list[dict[str, Any]]:
        """Committed emergencies as JSON-ready dicts with their ``cluster_id`` and Raft log ``index``."""
        return [{"cluster_id": c, "index": i, **e.to_dict()} for c, i, e in self._records(cluster_id)]

    def pending(self, cluster_id: ClusterId | None = None) -> list[dict[str, Any]]:
        """Proposed emergencies not yet seen committed: dicts with cluster_id, status (one of
        :data:`PENDING_STATUSES`), proposed_ms (simulated), attempts and emergency."""
        groups = self._selected(cluster_id)
        for g in groups:
            self._refresh(g)
        return [
            {
                "cluster_id": g.id,
                "status": self._status(p),
                "proposed_ms": p.proposed_us / 1000,
                "attempts": p.attempts,
                "emergency": p.emergency,
            }
            for g in groups
            for p in g.pending.values()
        ]

    # ------------------------------------------------------------------ status and faults

    def status(self) -> dict[ClusterId, dict[str, Any]]:
        """Per cluster: devices, members, head (nearest the centroid), centroid, leader (of the
        Raft group; None during an election), term, commit_index, roles, up, down and the
        numbers of committed and pending emergencies (JSON-ready apart from the key types)."""
        self._refresh_all()
        out: dict[ClusterId, dict[str, Any]] = {}
        for g in self._groups.values():
            r = g.raft
            n = len(g.members)
            leader = r.leader()
            out[g.id] = {
                "devices": list(g.devices),
                "members": list(g.members),
                "head": g.members[0],
                "centroid": None if g.centroid is None else list(g.centroid),
                "leader": None if leader is None else g.members[leader],
                "term": max(r.term(i) for i in range(n)),
                "commit_index": r.commit_index(leader)
                if leader is not None
                else max(r.commit_index(i) for i in range(n)),
                "roles": {g.members[i]: r.role(i) for i in range(n)},
                "up": [g.members[i] for i in range(n) if r.is_up(i)],
                "down": [g.members[i] for i in range(n) if not r.is_up(i)],
                "committed": len(g.committed),
                "pending": len(g.pending),
                "now_ms": r.now_us / 1000,
            }
        return out

    def crash(self, cluster_id: ClusterId, device: DeviceId) -> None:
        """Crashes a Raft member of the cluster (see RaftCluster.crash)."""
        g = self._group(cluster_id)
        g.raft.crash(self._member(g, device))

    def restart(self, cluster_id: ClusterId, device: DeviceId) -> None:
        """Restarts a crashed Raft member from its disk."""
        g = self._group(cluster_id)
        g.raft.restart(self._member(g, device))

    def partition(self, cluster_id: ClusterId, groups: Sequence[Sequence[DeviceId]]) -> None:
        """Splits the cluster's members into groups that cannot talk; unlisted members are alone.

        Clients reach the nodes directly, so a proposal reaches whichever side has a leader.
        """
        g = self._group(cluster_id)
        if isinstance(groups, (str, bytes)) or not isinstance(groups, Sequence):
            raise ValueError(f"groups: expected a list of lists of devices, got {groups!r}")
        nodes = []
        for part in groups:
            if isinstance(part, (str, bytes)) or not isinstance(part, Sequence):
                raise ValueError(f"groups: each group must be a list of devices, got {part!r}")
            nodes.append([self._member(g, d, "groups") for d in part])
        g.raft.partition(nodes)

    def heal(self, cluster_id: ClusterId) -> None:
        """Removes the cluster's partitions and cuts."""
        self._group(cluster_id).raft.heal()

    def violations(self) -> list[dict[str, Any]]:
        """Raft safety violations of every cluster (each dict with its cluster_id); must stay empty."""
        return [{"cluster_id": g.id, **v} for g in self._groups.values() for v in g.raft.violations()]

    # ------------------------------------------------------------------ internals

    def _group(self, cluster_id: object) -> _Group:
        try:
            return self._groups[cluster_id]  # type: ignore[index]
        except (KeyError, TypeError):
            raise ValueError(f"cluster_id: {cluster_id!r} is not one of {list(self._groups)}") from None

    def _device(self, device: object, name: str = "device") -> DeviceId:
        d = _device_id(name, device)
        if d not in self._cluster_of:
            raise ValueError(f"{name}: {device!r} is not a known device")
        return d

    def _member(self, g: _Group, device: object, name: str = "device") -> int:
        d = self._device(device, name)
        if d not in g.members:
            raise ValueError(
                f"{name}: {device!r} is not a Raft member of cluster {g.id!r}; members {g.members}"
            )
        return g.members.index(d)

    def _selected(self, cluster_id: ClusterId | None) -> list[_Group]:
        return list(self._groups.values()) if cluster_id is None else [self._group(cluster_id)]

    def _known_id(self, emergency_id: str) -> bool:
        return any(
            emergency_id in g.pending or emergency_id in g.committed_ids for g in self._groups.values()
        )

    def _submit(self, g: _Group, e: Emergency) -> KVClient:
        client = next((c for c in g.clients if not c.pending), None)
        if client is None:
            client = g.raft.client()
            g.clients.append(client)
        client.emergency(e.id, e.to_json(), wait=False)
        return client

    def _status(self, p: _Proposal) -> str:
        if p.client.pending:
            return "proposed"
        status = p.client.wait()["status"]  # returns at once: the client is idle
        return "acknowledged" if status == "ok" else status

    def _records(self, cluster_id: ClusterId | None) -> list[tuple[ClusterId, int, Emergency]]:
        groups = self._selected(cluster_id)
        for g in groups:
            self._refresh(g)
        return [(g.id, index, e) for g in groups for index, e in g.committed]

    def _refresh_all(self) -> None:
        for g in self._groups.values():
            self._refresh(g)

    def _refresh(self, g: _Group) -> None:
        # Every up node's applied emergency log is a prefix of the committed one (State
        # Machine Safety), so the longest is the freshest; what was seen committed stays
        # recorded here even while every node is down.
        longest: list[tuple[int, int, str, str]] = []
        for i in range(len(g.members)):
            if g.raft.is_up(i):
                log = g.raft.emergencies(i)
                if len(log) > len(longest):
                    longest = log
        for index, _client, key, payload in longest:
            if index <= g.last_index:
                continue
            g.last_index = index
            try:
                e = Emergency.from_json(payload)
            except ValueError:
                continue  # not one of ours (a raw KV client wrote to this cluster)
            if e.id != key or e.id in g.committed_ids:
                continue  # a retried proposal committed twice: the first one counts
            g.committed.append((index, e))
            g.committed_ids.add(e.id)
            g.pending.pop(e.id, None)

    def __repr__(self) -> str:
        return (
            f"EmergencyCoordinator(devices={len(self._devices)}, clusters={len(self._groups)}, "
            f"group_size={self._group_size}, seed={self._seed}, now_ms={self.now_ms})"
        )


class RealTimeDriver:
    """Advances a coordinator's simulated time to follow a wall clock the caller reads.

    The first :meth:`tick` sets the origin; each later tick advances every cluster by
    ``speed`` × (wall time elapsed since the origin) minus what was already advanced or
    dropped, at most ``max_step_ms`` per call (the rest is dropped and counted in
    :attr:`dropped_ms`). No threads, no sleeps: the service owns the loop.
    """

    def __init__(
        self, coordinator: EmergencyCoordinator, *, speed: float = 1.0, max_step_ms: float = 100.0
    ) -> None:
        if not isinstance(coordinator, EmergencyCoordinator):
            raise ValueError(
                f"coordinator: expected an EmergencyCoordinator, got {type(coordinator).__name__}"
            )
        self._co = coordinator
        self._speed = require_float("speed", speed, minimum=0.0)
        if self._speed <= 0.0:
            raise ValueError(f"speed: {speed} is out of range; allowed > 0")
        step = require_float("max_step_ms", max_step_ms, minimum=0.0)
        self._max_step_us = round(step * 1000)
        if self._max_step_us <= 0:
            raise ValueError(f"max_step_ms: {max_step_ms} is out of range; allowed > 0")
        self._origin_us: int | None = None
        self._last_us: int | None = None
        self._advanced_us = 0
        self._dropped_us = 0

    @property
    def advanced_ms(self) -> float:
        """Simulated milliseconds advanced by this driver."""
        return self._advanced_us / 1000

    @property
    def dropped_ms(self) -> float:
        """Simulated milliseconds skipped because a tick hit ``max_step_ms``."""
        return self._dropped_us / 1000

    def tick(self, now_s: float) -> int:
        """Advances to match wall time ``now_s`` (seconds, monotonic); returns simulated µs advanced."""
        now = require_float("now_s", now_s)
        now_us = round(now * 1e6)
        if self._origin_us is None:
            self._origin_us = self._last_us = now_us
            return 0
        assert self._last_us is not None
        if now_us < self._last_us:
            raise ValueError(
                f"now_s: {now} is earlier than the previous tick {self._last_us / 1e6}; allowed a monotonic clock"
            )
        self._last_us = now_us
        owed = math.floor((now_us - self._origin_us) * self._speed) - self._advanced_us - self._dropped_us
        step = min(owed, self._max_step_us)
        self._dropped_us += owed - step
        if step > 0:
            self._co._advance_us(step)
            self._advanced_us += step
        return max(step, 0)
