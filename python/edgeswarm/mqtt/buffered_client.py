"""paho's MQTT client, reading its socket in large chunks.

paho reads a packet a few bytes at a time — the one-byte header, each length byte, then the body
— with one ``recv`` system call each, and one packet per ``loop_read``. A device agent receives
a PUBACK per message and a receiver a PUBLISH per message, so at thousands of messages a second
those calls dominate. :class:`BufferedClient` serves paho's small reads from a 64 KiB buffer
filled by one ``recv``, and :meth:`BufferedClient.pending_input` tells the event loop that whole
packets are already buffered, so one readable event handles all of them (and the PUBACKs they
cause go out in one write). Nothing else about the protocol changes: paho still parses and
handles every packet.

This overrides two of paho's private methods (``_sock_recv``, ``_sock_close``); pyproject pins
paho-mqtt to major version 2, and tests/mqtt/test_buffered_client.py checks the hooks exist.
"""

from __future__ import annotations

import paho.mqtt.client as paho

__all__ = ["READ_CHUNK", "BufferedClient"]

READ_CHUNK = 65536


class BufferedClient(paho.Client):
    """A paho ``Client`` whose socket reads go through an input buffer."""

    _rx: bytes = b""
    _rx_at: int = 0

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._rx_at >= len(self._rx):
            data = super()._sock_recv(READ_CHUNK)  # BlockingIOError when nothing is there: paho expects it
            if not data:
                return data  # the peer closed the connection
            self._rx, self._rx_at = data, 0
        chunk = self._rx[self._rx_at : self._rx_at + bufsize]
        self._rx_at += len(chunk)
        return chunk

    def _sock_close(self) -> None:
        self._rx, self._rx_at = b"", 0  # bytes of a closed connection never reach the next one
        super()._sock_close()

    def pending_input(self) -> bool:
        """Whether bytes already read from the socket wait to be parsed."""
        return self._rx_at < len(self._rx)
