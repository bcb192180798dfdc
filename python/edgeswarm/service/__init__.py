"""The edgeswarm service: a live swarm behind a REST / WebSocket API and a web dashboard.

    >>> from edgeswarm.service import Settings, create_app, serve
    >>> app = create_app(Settings(nodes=100, epoch_ms=500, seed=0))   # an ASGI app
    >>> serve(Settings(port=8080))                                     # or: edgeswarm serve

Settings come from `EDGESWARM_*` environment variables (see `Settings`).
"""

from __future__ import annotations

from edgeswarm.service.app import create_app
from edgeswarm.service.server import PortInUseError, serve
from edgeswarm.service.settings import Settings

__all__ = ["PortInUseError", "Settings", "create_app", "serve"]
