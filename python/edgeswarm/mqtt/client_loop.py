"""Many paho-mqtt clients on one asyncio event loop, with no thread per client.

paho's external-loop API: a client tells us when its socket opens or closes and when it has
bytes to write; we call ``loop_read`` when the socket is readable, ``loop_write`` when it has
something to send, and ``loop_misc`` (keepalive pings, timeouts) about once a second. One
``ClientLoop`` serves thousands of clients: sockets are watched by the loop's selector, and a
single ticker calls ``loop_misc`` on a tenth of the serviced clients every 100 ms instead of one
task each.

Writes are coalesced: a publish asks for a write, the write runs once on the next loop
iteration for everything queued since, and only a write that could not finish (a full socket
buffer) waits on the selector for writability.

:meth:`ClientLoop.freeze` models a device whose network stack stops: its socket stays open but
is neither read, written nor kept alive, so the broker sees silence and, after 1.5 × keepalive,
drops the connection and publishes the client's will. :meth:`ClientLoop.thaw` services it again.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import paho.mqtt.client as paho

__all__ = ["ClientLoop"]

MISC_PERIOD_S = 1.0  # how often keepalive and timeouts are checked (paho's own loop: 1 s)
_MAX_PACKETS_PER_READ = 1000  # then other clients get their turn
_MISC_SLICES = 10  # the ticker visits a tenth of the clients every MISC_PERIOD_S / 10


class ClientLoop:
    """Services attached paho clients from ``loop`` (the running loop by default)."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.loop = loop or asyncio.get_running_loop()
        self._serviced: dict[paho.Client, socket.socket] = {}  # clients with an open, serviced socket
        self._frozen: set[paho.Client] = set()
        self._pending_write: set[paho.Client] = set()
        self._writing: set[paho.Client] = set()  # waiting on the selector for writability
        self._ticker: asyncio.Handle | None = None
        self._misc_queue: list[paho.Client] = []  # clients the ticker has yet to visit this period

    def attach(self, client: paho.Client) -> None:
        """Service ``client`` from now on (call before ``connect``)."""
        client.on_socket_open = self._opened
        client.on_socket_close = self._closed
        client.on_socket_register_write = self._want_write
        client.on_socket_unregister_write = self._done_writing

    def freeze(self, client: paho.Client) -> None:
        """Stop servicing ``client`` without closing its socket (a silent network failure)."""
        self._frozen.add(client)
        sock = self._serviced.pop(client, None)
        if sock is not None:
            self._unwatch(client, sock)

    def thaw(self, client: paho.Client) -> None:
        """Service ``client`` again; a socket opened since (a reconnect) is watched already."""
        self._frozen.discard(client)
        sock = client.socket()
        if sock is not None and client not in self._serviced:
            self._watch(client, sock)

    def serviced(self) -> int:
        """Number of clients whose socket is open and serviced."""
        return len(self._serviced)

    async def drain(self, timeout_s: float = 5.0) -> bool:
        """Waits until every socket is closed (after DISCONNECTs are written), at most
        ``timeout_s``; returns whether they all closed."""
        deadline = self.loop.time() + timeout_s
        while self._serviced and self.loop.time() < deadline:
            await asyncio.sleep(0.01)
        return not self._serviced

    def close(self) -> None:
        """Stop the ticker and watch no socket (clients are left as they are)."""
        for client, sock in list(self._serviced.items()):
            self._unwatch(client, sock)
        self._serviced.clear()
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    # paho's socket callbacks -----------------------------------------------------------------

    def _opened(self, client: paho.Client, _userdata: Any, sock: Any) -> None:
        if client in self._frozen:
            return
        self._watch(client, sock)

    def _closed(self, client: paho.Client, _userdata: Any, sock: Any) -> None:
        if self._serviced.get(client) is sock:
            del self._serviced[client]
            self._unwatch(client, sock)

    def _want_write(self, client: paho.Client, _userdata: Any, _sock: Any) -> None:
        if client in self._serviced and client not in self._pending_write:
            if not self._pending_write:
                self.loop.call_soon(self._write_pending)
            self._pending_write.add(client)

    def _done_writing(self, client: paho.Client, _userdata: Any, sock: Any) -> None:
        self._pending_write.discard(client)
        if client in self._writing:
            self._writing.discard(client)
            self.loop.remove_writer(sock)

    # servicing -------------------------------------------------------------------------------

    def _watch(self, client: paho.Client, sock: socket.socket) -> None:
        self._serviced[client] = sock
        self.loop.add_reader(sock, self._read, client)
        if client.want_write():
            self._want_write(client, None, sock)
        if self._ticker is None:
            self._ticker = self.loop.call_later(MISC_PERIOD_S / _MISC_SLICES, self._tick)

    def _unwatch(self, client: paho.Client, sock: socket.socket) -> None:
        self.loop.remove_reader(sock)
        if client in self._writing:
            self._writing.discard(client)
            self.loop.remove_writer(sock)
        self._pending_write.discard(client)

    def _read(self, client: paho.Client) -> None:
        # A BufferedClient may hold many packets from one recv: handle them all now.
        pending = getattr(client, "pending_input", None)
        for _ in range(_MAX_PACKETS_PER_READ):
            if client.loop_read() != paho.MQTT_ERR_SUCCESS or pending is None or not pending():
                return
        if client in self._serviced:  # more is buffered: the socket may not signal again for it
            self.loop.call_soon(self._read, client)

    def _write_pending(self) -> None:
        clients, self._pending_write = self._pending_write, set()
        for client in clients:
            self._write(client)

    def _write(self, client: paho.Client) -> None:
        sock = self._serviced.get(client)
        if sock is None:
            return
        client.loop_write()
        # paho keeps its "write registered" flag while bytes remain, so it will not ask again:
        # wait for writability ourselves.
        if client.want_write() and client in self._serviced and client not in self._writing:
            self._writing.add(client)
            self.loop.add_writer(sock, self._write, client)

    def _tick(self) -> None:
        # One slice of the clients per tick, so that each is looked at about once per MISC_PERIOD_S
        # without a burst of thousands of loop_misc calls holding the loop (50 ms at 5,000 clients).
        if not self._misc_queue:
            self._misc_queue = list(self._serviced)
        share = -(-len(self._misc_queue) // _MISC_SLICES) if self._misc_queue else 0
        for client in self._misc_queue[-share:] if share else ():
            if client in self._serviced:
                client.loop_misc()
        del self._misc_queue[len(self._misc_queue) - share :]
        self._ticker = (
            self.loop.call_later(MISC_PERIOD_S / _MISC_SLICES, self._tick) if self._serviced else None
        )
