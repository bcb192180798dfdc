"""A broker's address as the command line and the API spell it: ``mqtt://HOST:PORT`` or ``mqtts://HOST:PORT``."""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["BrokerAddress", "parse_broker_url"]

_URL = re.compile(r"(?P<scheme>mqtts?)://(?P<host>\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):(?P<port>\d{1,5})/?")


class BrokerAddress(NamedTuple):
    host: str
    port: int
    tls: bool


def parse_broker_url(url: object, *, name: str = "broker") -> BrokerAddress:
    """The address in ``url``; anything else is a ValueError naming ``name`` and what is allowed."""
    match = _URL.fullmatch(url.strip()) if isinstance(url, str) else None
    if match is None or not 1 <= int(match["port"]) <= 65535:
        raise ValueError(
            f"{name}: {url!r} is not a broker address; allowed mqtt://HOST:PORT or mqtts://HOST:PORT (port 1-65535)"
        )
    return BrokerAddress(match["host"].strip("[]"), int(match["port"]), match["scheme"] == "mqtts")
