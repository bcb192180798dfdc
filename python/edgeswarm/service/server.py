"""`serve(settings)`: run the service under uvicorn, with a clear message when the port is taken."""

from __future__ import annotations

import errno
import socket
import sys

import uvicorn

from edgeswarm.service.app import create_app
from edgeswarm.service.settings import Settings


class PortInUseError(OSError):
    """The address the service should listen on is taken."""


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on (host, port); PortInUseError with a readable message if taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise PortInUseError(
                errno.EADDRINUSE,
                f"port {port} on {host} is already in use (another edgeswarm serve?); "
                "choose another with --port or EDGESWARM_PORT",
            ) from None
        raise OSError(error.errno, f"cannot listen on {host}:{port}: {error.strerror}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(settings: Settings | None = None, *, access_log: bool = False) -> int:
    """Serves until interrupted; returns the exit code (2 when the address cannot be bound)."""
    settings = settings if settings is not None else Settings()
    try:
        sock = bind_socket(settings.host, settings.port)
    except OSError as error:
        print(f"edgeswarm: error: {error.strerror}", file=sys.stderr, flush=True)
        return 2
    host, port = sock.getsockname()[:2]
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    print(f"edgeswarm: serving the dashboard at http://{shown}:{port}/ (API docs at /docs)", flush=True)
    config = uvicorn.Config(
        create_app(settings),
        log_level="info",
        access_log=access_log,
        lifespan="on",
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C after its graceful shutdown
        pass
    finally:
        sock.close()
    return 0
