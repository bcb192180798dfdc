"""Swarm consensus over MQTT: every epoch's gossip carried by a real broker, each node an MQTT client.

The engine's split epoch (:meth:`edgeswarm.Swarm.begin_epoch` / ``finish_epoch``) leaves the
transport outside: :class:`MqttGossip` is the ``deliver`` of ``Swarm.run(epochs, deliver=...)``.
Each epoch:

1. every sending node publishes its wire message (``swarm/wire.hpp``: node id, epoch, Q16.16
   report, CRC-32) to ``edgeswarm/<name>/<node>/gossip`` (the device topic scheme, kind
   ``gossip``; ``name`` defaults to ``swarm``);
2. in a mesh every node is subscribed to its neighbours' topics; in a centralised swarm
   (complete, star) one more client, the aggregator ``edgeswarm-<name>-hub``, subscribes to
   ``edgeswarm/<name>/+/gossip``;
3. each receiver decodes what arrives (the CRC, length and header are checked; the message must
   carry the node id of its topic, the epoch under way and exactly the report that node sent) and
   marks the gossip link delivered; the epoch ends when every report that can arrive has arrived,
   or at ``deadline_ms`` after it started, and ``finish_epoch`` aggregates only what was delivered.

With no faults the broker delivers everything and the history is bit-identical to the in-process
engine for the same seed. With :class:`~edgeswarm.mqtt.faults.LinkFaults` each node's sends
(loss, duplication, latency, reorder) and each receiver's drops are drawn from the fault streams
of :class:`~edgeswarm.mqtt.faults.DeviceFaults` (device = node id, ``"hub"`` for the
aggregator), seeded by ``seed``; the draws of an epoch are made when it begins, in node and link
order, so they do not depend on arrival order. Per epoch :attr:`MqttGossip.counters` records what
was sent, dropped on send, dropped on receive, delivered, late (could arrive but missed the
deadline), duplicated, malformed (failed decoding or validation: counted, never used) and stale
(an earlier epoch's message arriving now). Loss alone is reproducible bit for bit; latency makes
"late" depend on the clock, as it does on a real network.

Not carried over MQTT: the aggregator's broadcast of the consensus back to the nodes of a
centralised swarm (the engine applies it as in-process).

All clients share one asyncio loop (:class:`ClientLoop`, no thread per client) that runs on one
thread owned by the :class:`MqttGossip`, from ``connect`` to ``close``: the clients stay serviced
between epochs (keepalive, late messages counted as they arrive), and the caller may itself be
inside a running loop, as a notebook is. The engine is only called from the caller's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

import numpy as np
import paho.mqtt.client as paho
import pandas as pd
from paho.mqtt.enums import CallbackAPIVersion

from edgeswarm import _core
from edgeswarm._validate import require_int
from edgeswarm.mqtt.broker import TOPIC_ROOT, Broker
from edgeswarm.mqtt.broker_url import parse_broker_url
from edgeswarm.mqtt.client_loop import ClientLoop
from edgeswarm.mqtt.device import device_topic
from edgeswarm.mqtt.faults import DeviceFaults, LinkFaults

if TYPE_CHECKING:
    from edgeswarm.swarm import Swarm

T = TypeVar("T")

__all__ = [
    "COUNTERS",
    "GossipRun",
    "MqttGossip",
    "gossip_over",
    "run_over_mqtt",
]

#: Per-epoch counters of :attr:`MqttGossip.counters`, in column order.
COUNTERS: tuple[str, ...] = (
    "epoch",
    "sent",  # copies published
    "send_dropped",  # copies the senders' fault draws dropped
    "expected",  # gossip links whose receiver aggregates this epoch and whose sender reports
    "delivered",  # of those, the links whose report arrived intact before the deadline
    "receive_dropped",  # copies the receivers' fault draws dropped
    "late",  # links that could be delivered but missed the deadline
    "duplicates",  # extra intact copies on a link already delivered
    "malformed",  # payloads that failed decoding or validation
    "stale",  # intact messages of an earlier epoch
    "wait_ms",  # wall time the exchange took
)

_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)  # Linux only
HUB_DEVICE = "hub"  # the aggregator's device id for its fault stream and client id


def _broker_address(broker: Broker | str) -> tuple[str, int]:
    if isinstance(broker, Broker):
        if broker.tls:
            raise ValueError(f"broker: {broker.url} uses TLS; swarm gossip runs over plain mqtt://")
        return broker.host, broker.port
    address = parse_broker_url(broker)
    if address.tls:
        raise ValueError(f"broker: {broker} uses TLS; swarm gossip runs over plain mqtt://")
    return address.host, address.port


@dataclass(frozen=True)
class GossipRun:
    """What :func:`run_over_mqtt` returns: ``metrics`` is ``Swarm.run``'s DataFrame (same columns,
    same values for the same seed on a fault-free broker); ``gossip`` has one row of
    :data:`COUNTERS` per epoch."""

    metrics: pd.DataFrame
    gossip: pd.DataFrame


class _Epoch:
    """What one epoch's exchange is waiting for and what it has counted."""

    def __init__(self, number: int, links: int) -> None:
        self.number = number
        self.delivered = np.zeros(links, dtype=bool)
        self.sent_bytes: dict[int, bytes] = {}  # sender -> its wire message this epoch
        self.receive_drops: dict[int, list[bool]] = {}  # link -> drop draw per arriving copy
        self.arrivals: dict[int, int] = {}  # link -> copies arrived
        self.expected = np.zeros(0, dtype=np.int64)  # links whose sender reports and receiver aggregates
        self.awaited: set[int] = set()  # links that can still be delivered
        self.counts = dict.fromkeys(COUNTERS, 0)
        self.counts["epoch"] = number + 1
        self.done = asyncio.Event()


class MqttGossip:
    """Carries a swarm's gossip over an MQTT broker: ``swarm.run(epochs, deliver=gossip)``.

    ``broker``: a running :class:`~edgeswarm.mqtt.Broker` or ``mqtt://host:port``. ``faults``: a
    :class:`LinkFaults` for every node's link (None: fault-free), drawn from ``seed`` (None: the
    swarm's seed). ``deadline_ms``: how long an epoch waits for its messages. ``qos``: 0 (default:
    gossip is best effort, a loss is counted, not retried), 1 or 2.
    Use as a context manager (connects every client, subscribes, and disconnects at exit).
    """

    def __init__(
        self,
        swarm: Swarm,
        broker: Broker | str,
        *,
        faults: LinkFaults | None = None,
        seed: int | None = None,
        deadline_ms: float = 1000.0,
        qos: int = 0,
        name: str = "swarm",
        connect_timeout_s: float = 10.0,
    ) -> None:
        from edgeswarm.swarm import Swarm

        if not isinstance(swarm, Swarm):
            raise ValueError(f"swarm: expected an edgeswarm.Swarm, got {swarm!r}")
        self.swarm = swarm
        self.host, self.port = _broker_address(broker)
        if faults is not None and not isinstance(faults, LinkFaults):
            raise ValueError(f"faults: expected an edgeswarm.mqtt.faults.LinkFaults or None, got {faults!r}")
        self.faults = faults
        self.seed = swarm.seed if seed is None else require_int("seed", seed, minimum=0, maximum=2**64 - 1)
        if isinstance(deadline_ms, bool) or not isinstance(deadline_ms, int | float) or not deadline_ms > 0:
            raise ValueError(f"deadline_ms: {deadline_ms!r} is out of range; allowed a number > 0")
        if deadline_ms > 3_600_000:
            raise ValueError(f"deadline_ms: {deadline_ms!r} is out of range; allowed at most 3600000 (1 h)")
        self.deadline_ms = float(deadline_ms)
        if isinstance(qos, bool) or qos not in (0, 1, 2):
            raise ValueError(f"qos: {qos!r} is not an MQTT QoS; allowed 0, 1 or 2")
        self.qos = int(qos)
        if not isinstance(name, str) or not name or any(c in name for c in "/+#\0") or len(name) > 64:
            raise ValueError(f"name: {name!r} is not allowed; use 1-64 characters without / + # or NUL")
        self.name = name
        if isinstance(connect_timeout_s, bool) or not isinstance(connect_timeout_s, int | float):
            raise ValueError(f"connect_timeout_s: expected a number, got {connect_timeout_s!r}")
        if not 0 < connect_timeout_s <= 600:
            raise ValueError(f"connect_timeout_s: {connect_timeout_s!r} is out of range; allowed (0, 600]")
        self.connect_timeout_s = float(connect_timeout_s)

        self._dim, self._n_nodes = (
            swarm.dim,
            swarm.n_nodes,
        )  # read here: the loop thread never calls the swarm
        links = swarm.gossip_links()
        self._senders = links["sender"].astype(np.int64)
        self._receivers = links["receiver"].astype(np.int64)
        self._centralised = bool(swarm.topology()["centralised"])  # every link ends at the aggregator
        # receiver -> {sender: link}, to find the link of an arriving message.
        self._inbound: dict[int | str, dict[int, int]] = {}
        for link, (sender, receiver) in enumerate(zip(self._senders, self._receivers, strict=True)):
            key: int | str = HUB_DEVICE if self._centralised else int(receiver)
            self._inbound.setdefault(key, {})[int(sender)] = link
        self._topic_node = re.compile(rf"{re.escape(TOPIC_ROOT)}/{re.escape(name)}/(\d+)/gossip")

        #: One dict of :data:`COUNTERS` per epoch exchanged, oldest first.
        self.counters: list[dict[str, int | float]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client_loop: ClientLoop | None = None
        self._clients: dict[int | str, paho.Client] = {}
        self._send_faults: dict[int, DeviceFaults] = {}
        self._receive_faults: dict[int | str, DeviceFaults] = {}
        self._epoch: _Epoch | None = None
        self._pending: set[asyncio.TimerHandle] = set()  # delayed publishes not yet made
        self._connected: set[int | str] = set()
        self._subscribed: set[int | str] = set()
        self._progress: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._refused: str | None = None
        # Counts of messages that arrive between two epochs, added to the next epoch's.
        self._between: dict[str, int | float] = {"malformed": 0, "stale": 0}

    # -- life cycle -----------------------------------------------------------------------

    def __enter__(self) -> Self:
        self.connect()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def connect(self) -> None:
        """Starts the loop thread, connects one client per node (and the aggregator's in a centralised
        swarm), subscribes the receivers and waits for every CONNACK and SUBACK (``connect_timeout_s``)."""
        if self._loop is not None:
            raise RuntimeError("connect: already connected")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"mqtt-gossip-{self.name}", daemon=True
        )
        self._thread.start()
        try:
            self._call(self._connect())
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Disconnects every client and stops the loop thread (idempotent)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            self._call(self._shutdown())
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()
            self._loop = self._thread = None

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Runs ``coroutine`` on the loop thread and waits for its result."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def gossip_frame(self) -> pd.DataFrame:
        """:attr:`counters` as a DataFrame, one row per epoch."""
        return pd.DataFrame(self.counters, columns=list(COUNTERS))

    # -- one epoch ------------------------------------------------------------------------

    def __call__(self, swarm: Swarm) -> np.ndarray:
        """Exchanges the epoch under way's messages over the broker; returns the delivered-link mask."""
        if swarm is not self.swarm:
            raise ValueError("swarm: this MqttGossip carries the gossip of the swarm it was made for")
        if self._loop is None:
            raise RuntimeError("MqttGossip: not connected; use it as a context manager or call connect()")
        if not swarm.in_epoch:
            raise RuntimeError("MqttGossip: no epoch under way (Swarm.run(deliver=...) begins one)")
        return self._call(self._exchange(swarm.epoch, swarm.outgoing_messages()))

    async def _exchange(self, number: int, outgoing: dict[str, Any]) -> np.ndarray:
        loop = asyncio.get_running_loop()
        started = loop.time()
        epoch = _Epoch(number, len(self._senders))
        for name, count in self._between.items():  # what arrived since the last epoch ended
            epoch.counts[name] += count
        self._between = dict.fromkeys(self._between, 0)
        self._epoch = epoch
        size = _core.message_bytes(self._dim)
        data = outgoing["data"]
        for k, node in enumerate(outgoing["node"].tolist()):
            epoch.sent_bytes[node] = data[k * size : (k + 1) * size]
        copies = self._plan_sends(epoch)
        self._plan_receives(epoch, copies)
        for node in sorted(epoch.sent_bytes):
            self._send(epoch, node, copies[node])
        if epoch.awaited:
            with contextlib.suppress(TimeoutError):  # what has not arrived by then is late
                await asyncio.wait_for(epoch.done.wait(), timeout=self.deadline_ms / 1000.0)
        epoch.counts["late"] = len(epoch.awaited)
        epoch.counts["delivered"] = int(epoch.delivered[epoch.expected].sum())
        epoch.counts["wait_ms"] = (loop.time() - started) * 1000.0
        self.counters.append(epoch.counts)
        self._epoch = None
        return epoch.delivered

    def _expected_links(self, epoch: _Epoch) -> np.ndarray:
        """Links whose sender reports and whose receiver aggregates this epoch."""
        senders = np.fromiter(epoch.sent_bytes, dtype=np.int64, count=len(epoch.sent_bytes))
        sending = np.isin(self._senders, senders)
        if self._centralised:
            return np.flatnonzero(sending)
        return np.flatnonzero(sending & np.isin(self._receivers, senders))

    def _plan_sends(self, epoch: _Epoch) -> dict[int, tuple[float, ...]]:
        """Each sender's surviving copies (their delays in ms), drawn in node order."""
        copies: dict[int, tuple[float, ...]] = {}
        for node in sorted(epoch.sent_bytes):
            if self.faults is None:
                copies[node] = (0.0,)
                continue
            fate = self._device_faults(self._send_faults, node).next_send()
            epoch.counts["send_dropped"] += fate.dropped
            copies[node] = fate.delays_ms
        return copies

    def _plan_receives(self, epoch: _Epoch, copies: dict[int, tuple[float, ...]]) -> None:
        """The receive draw of every copy that will arrive, in link order, and the links awaited."""
        epoch.expected = self._expected_links(epoch)
        epoch.counts["expected"] = len(epoch.expected)
        for link in epoch.expected.tolist():
            sender = int(self._senders[link])
            arriving = len(copies[sender])
            if self.faults is None:
                drops = [False] * arriving
            else:
                receiver = HUB_DEVICE if self._centralised else int(self._receivers[link])
                stream = self._device_faults(self._receive_faults, receiver)
                drops = [stream.next_receive() for _ in range(arriving)]
            epoch.counts["receive_dropped"] += sum(drops)
            epoch.receive_drops[link] = drops
            if not all(drops):
                epoch.awaited.add(link)

    def _device_faults(self, streams: dict[Any, DeviceFaults], device: int | str) -> DeviceFaults:
        if device not in streams:
            assert self.faults is not None
            streams[device] = DeviceFaults(self.faults, seed=self.seed, device=device)
        return streams[device]

    def _send(self, epoch: _Epoch, node: int, delays_ms: tuple[float, ...]) -> None:
        """Publishes each surviving copy of the node's message, now or after its drawn delay."""
        payload = epoch.sent_bytes[node]
        topic = device_topic(self.name, node, "gossip")
        client = self._clients[node]
        for delay_ms in delays_ms:
            epoch.counts["sent"] += 1
            if delay_ms <= 0.0:
                client.publish(topic, payload, qos=self.qos)
            else:
                self._publish_later(client, topic, payload, delay_ms)

    def _publish_later(self, client: paho.Client, topic: str, payload: bytes, delay_ms: float) -> None:
        assert self._loop is not None

        def publish() -> None:
            self._pending.discard(handle)
            client.publish(topic, payload, qos=self.qos)

        handle = self._loop.call_later(delay_ms / 1000.0, publish)
        self._pending.add(handle)

    # -- receiving ------------------------------------------------------------------------

    def _on_message(self, receiver: int | str, message: paho.MQTTMessage) -> None:
        epoch = self._epoch
        counts = epoch.counts if epoch is not None else self._between
        payload = bytes(message.payload)
        match = self._topic_node.fullmatch(message.topic)
        sender = int(match[1]) if match else -1
        link = self._inbound.get(receiver, {}).get(sender)
        try:
            decoded = _core.decode_message(payload)  # checks the length, the header and the CRC-32
        except ValueError:
            counts["malformed"] += 1
            return
        if link is None or decoded["node"] != sender or len(decoded["values"]) != self._dim:
            counts["malformed"] += 1  # not a gossip message of this topic's node
            return
        if epoch is None or decoded["epoch"] < (epoch.number & 0xFFFFFFFF):
            counts["stale"] += 1  # an earlier epoch's message, arriving after its epoch ended
            return
        if epoch.sent_bytes.get(sender) != payload:
            counts["malformed"] += 1  # a valid CRC over a report its node did not send this epoch
            return
        drops = epoch.receive_drops.get(link)
        if drops is None:  # a receiver that does not aggregate this epoch
            return
        copy = epoch.arrivals.get(link, 0)
        epoch.arrivals[link] = copy + 1
        if copy < len(drops) and drops[copy]:
            return  # dropped on receive (counted when drawn)
        if epoch.delivered[link]:
            counts["duplicates"] += 1
            return
        epoch.delivered[link] = True
        epoch.awaited.discard(link)
        if not epoch.awaited:
            epoch.done.set()

    # -- connecting -----------------------------------------------------------------------

    async def _connect(self) -> None:
        self._client_loop = ClientLoop(asyncio.get_running_loop())
        self._progress = asyncio.Event()
        nodes: list[int | str] = list(range(self._n_nodes))
        if self._centralised:
            nodes.append(HUB_DEVICE)
        for node in nodes:
            self._clients[node] = self._make_client(node)
        for client in self._clients.values():
            try:
                client.connect(self.host, self.port, keepalive=60)
                # Gossip is a few small messages per client and epoch: Nagle's algorithm would hold the
                # second until the first is acknowledged (40 ms of delayed ACK on Linux).
                client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError as err:
                raise ConnectionError(
                    f"broker: cannot connect to mqtt://{self.host}:{self.port}: {err}"
                ) from err
        await self._until(lambda: len(self._connected) == len(self._clients), "CONNACK from every client")
        for node, client in self._clients.items():
            topics = self._subscriptions(node)
            if not topics:
                self._subscribed.add(node)
                continue
            result, _mid = client.subscribe([(t, self.qos) for t in topics])
            if result != paho.MQTT_ERR_SUCCESS:
                raise ConnectionError(f"subscribe: client {node} could not subscribe ({result})")
        await self._until(lambda: len(self._subscribed) == len(self._clients), "SUBACK from every receiver")

    def _subscriptions(self, node: int | str) -> list[str]:
        if node == HUB_DEVICE:
            return [f"{TOPIC_ROOT}/{self.name}/+/gossip"]
        if self._centralised:
            return []
        return [device_topic(self.name, sender, "gossip") for sender in sorted(self._inbound.get(node, {}))]

    async def _until(self, condition: Any, what: str) -> None:
        assert self._progress is not None
        loop = asyncio.get_running_loop()
        end = loop.time() + self.connect_timeout_s
        while not condition():
            if self._refused is not None:
                raise ConnectionError(f"broker refused the connection: {self._refused}")
            remaining = end - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"{what}: not within {self.connect_timeout_s} s (mqtt://{self.host}:{self.port})"
                )
            self._progress.clear()
            try:
                await asyncio.wait_for(self._progress.wait(), timeout=remaining)
            except TimeoutError:
                continue

    async def _shutdown(self) -> None:
        for handle in self._pending:
            handle.cancel()
        self._pending.clear()
        for client in self._clients.values():
            if client.is_connected():
                client.disconnect()
        if self._progress is not None and self._connected:
            with contextlib.suppress(TimeoutError):  # sockets are closed below regardless
                await self._until(lambda: not self._connected, "DISCONNECT of every client")
        if self._client_loop is not None:
            self._client_loop.close()
            self._client_loop = None
        for client in self._clients.values():
            sock = client.socket()
            if sock is not None:
                sock.close()
        self._clients.clear()

    def _make_client(self, node: int | str) -> paho.Client:
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"{TOPIC_ROOT}-{self.name}-{node}",
            protocol=paho.MQTTv311,
            clean_session=True,
        )

        def on_connect(_c: Any, _u: Any, _flags: Any, reason_code: Any, _p: Any) -> None:
            if reason_code.is_failure:
                self._refused = f"client {node}: {reason_code}"
            else:
                self._connected.add(node)
            self._notify()

        def on_disconnect(_c: Any, _u: Any, _flags: Any, _reason_code: Any, _p: Any) -> None:
            self._connected.discard(node)
            self._notify()

        def on_subscribe(_c: Any, _u: Any, _mid: int, reason_codes: Any, _p: Any) -> None:
            if not any(code.is_failure for code in reason_codes):
                self._subscribed.add(node)
            self._notify()

        client.on_connect = on_connect
        client.on_disconnect = on_disconnect
        client.on_subscribe = on_subscribe

        def on_message(_c: Any, _u: Any, message: Any) -> None:
            # The broker does not set TCP_NODELAY (mosquitto's set_tcp_nodelay is off by default), so its
            # second message to us waits for our ACK of the first: acknowledge at once, not 40 ms later.
            sock = client.socket()
            if _QUICKACK is not None and sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
            self._on_message(node, message)

        client.on_message = on_message
        assert self._client_loop is not None
        self._client_loop.attach(client)
        return client

    def _notify(self) -> None:
        if self._progress is not None:
            self._progress.set()


def run_over_mqtt(
    swarm: Swarm,
    epochs: int,
    broker: Broker | str,
    *,
    faults: LinkFaults | None = None,
    seed: int | None = None,
    deadline_ms: float = 1000.0,
    qos: int = 0,
    name: str = "swarm",
) -> GossipRun:
    """Runs ``epochs`` epochs of ``swarm`` with its gossip carried by the broker (see the module
    docstring); returns ``Swarm.run``'s DataFrame and the per-epoch gossip counters."""
    epochs = require_int("epochs", epochs, minimum=0)
    with MqttGossip(
        swarm, broker, faults=faults, seed=seed, deadline_ms=deadline_ms, qos=qos, name=name
    ) as gossip:
        metrics = swarm.run(epochs, deliver=gossip)
        return GossipRun(metrics=metrics, gossip=gossip.gossip_frame())


@contextlib.contextmanager
def gossip_over(
    swarm: Swarm,
    gossip: str,
    *,
    faults: LinkFaults | None = None,
    seed: int | None = None,
    deadline_ms: float = 1000.0,
    qos: int = 0,
) -> Iterator[MqttGossip]:
    """A connected :class:`MqttGossip` for ``gossip``: ``"mqtt"`` starts a broker of its own on
    loopback for the run (stopped at exit), ``"mqtt://HOST:PORT"`` uses that broker."""
    if not isinstance(gossip, str) or not (gossip == "mqtt" or gossip.startswith("mqtt://")):
        raise ValueError(f"gossip: {gossip!r} is not an MQTT transport; allowed mqtt or mqtt://HOST:PORT")
    with contextlib.ExitStack() as stack:
        broker: Broker | str = stack.enter_context(Broker()) if gossip == "mqtt" else gossip
        yield stack.enter_context(
            MqttGossip(swarm, broker, faults=faults, seed=seed, deadline_ms=deadline_ms, qos=qos)
        )
