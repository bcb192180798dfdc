"""A lab-side MQTT client (a fleet's receiver, the service's $SYS reader): connects, reconnects
while the broker is away, and gives up only when the broker refuses it (bad credentials).

Subclasses say what to subscribe to on every connection (:meth:`ServiceClient.subscribed_on`) and
handle messages (``_message``); the connection's life cycle is here once.
"""

from __future__ import annotations

from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from edgeswarm.mqtt.backoff import Backoff
from edgeswarm.mqtt.buffered_client import BufferedClient
from edgeswarm.mqtt.client_loop import ClientLoop

__all__ = ["ServiceClient"]

_KEEPALIVE_S = 30


class ServiceClient:
    """One MQTT 3.1.1 client on ``client_loop``, reconnecting after ``backoff``'s delays."""

    def __init__(
        self,
        client_loop: ClientLoop,
        host: str,
        port: int,
        *,
        client_id: str,
        backoff: Backoff,
        username: str | None = None,
        password: str | None = None,
        clean_session: bool = True,
    ) -> None:
        self._loop = client_loop
        self._host, self._port = host, port
        self._backoff = backoff
        self._stopped = False
        self.connected = False
        self.connects = 0
        self.connection_losses = 0
        self.refused: str | None = None  #: the broker's reason, when it refused the connection
        client = BufferedClient(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean_session,
            protocol=paho.MQTTv311,
        )
        if username is not None:
            client.username_pw_set(username, password)
        client.on_connect = self._connected
        client.on_disconnect = self._disconnected
        client.on_message = self._message
        client_loop.attach(client)
        self.client = client

    def start(self) -> None:
        """Connects (and keeps reconnecting while the broker is away)."""
        self.client.connect(self._host, self._port, keepalive=_KEEPALIVE_S)

    def stop(self) -> None:
        self._stopped = True
        self.client.disconnect()

    def subscribed_on(self, client: paho.Client) -> None:
        """Subscribes on a new connection (every one: a clean session forgets)."""
        raise NotImplementedError

    def _message(self, _c: paho.Client, _u: Any, message: paho.MQTTMessage) -> None:
        raise NotImplementedError

    def _connected(self, client: paho.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            self.refused = str(reason)  # bad credentials: retrying would not help
            self._stopped = True
            return
        self.connects += 1
        self.connected = True
        self._backoff.reset()
        self.subscribed_on(client)

    def _disconnected(self, _c: paho.Client, _u: Any, _f: Any, _reason: Any, _p: Any) -> None:
        self.connected = False
        if self._stopped:
            return
        self.connection_losses += 1
        self._loop.loop.call_later(self._backoff.next_delay(), self._reconnect)

    def _reconnect(self) -> None:
        if self._stopped or self.connected:
            return
        try:
            self.client.reconnect()
        except OSError:
            self._loop.loop.call_later(self._backoff.next_delay(), self._reconnect)
