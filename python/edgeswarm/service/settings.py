"""The service's settings: one pydantic class, read from `EDGESWARM_*` environment variables."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from edgeswarm.mqtt.broker_url import parse_broker_url

MAX_BODY_LIMIT = 64 * 1024 * 1024  # no setting may raise a body cap past this
# pydantic-core refuses to serialize past 255 levels ("Maximum serialization depth exceeded"), and a
# published message is served back (GET /api/devices/<id>/metrics) 3 levels deeper than it came in.
MAX_JSON_DEPTH_LIMIT = 128
LOOPBACK_HOSTS: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")
_WILDCARD_ADDRESSES = ("0.0.0.0", "::", "")
_HOST_NAME = re.compile(r"^(\*|[A-Za-z0-9_.\-]{1,253}|[0-9A-Fa-f:.]{2,45})$")
_ORIGIN = re.compile(r"^https?://[^/\s?#]+$")
MQTT_MODES = ("off", "embedded")  # or mqtt://host:port
# The shortest password accepted, by the API (routes/users.py) and for EDGESWARM_ADMIN_PASSWORD alike.
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256


class Settings(BaseSettings):
    """Everything `create_app` and `edgeswarm serve` can be told.

    Each field reads `EDGESWARM_<NAME>` (e.g. `EDGESWARM_PORT=9000`); keyword arguments win.
    """

    model_config = SettingsConfigDict(env_prefix="EDGESWARM_", extra="forbid")

    host: str = Field("127.0.0.1", description="interface to bind; loopback unless told otherwise")
    port: int = Field(8080, ge=0, le=65535, description="TCP port (0: any free port)")
    db_path: Path = Field(Path("edgeswarm.db"), description="the SQLite file that persists across restarts")
    admin_password: str | None = Field(
        None, description="password of the 'admin' user; None: generated and printed once at first start"
    )
    jwt_secret: str | None = Field(
        None, description="HS256 signing key; None: generated once and kept in jwt_key_file"
    )
    token_minutes: int = Field(60, ge=1, le=60 * 24 * 365, description="lifetime of an access token")
    nodes: int = Field(100, ge=1, le=1_000_000, description="nodes in the live swarm")
    epoch_ms: int = Field(500, ge=1, le=3_600_000, description="wall-clock (and simulated) ms per epoch")
    seed: int = Field(0, ge=0, le=2**64 - 1, description="seed of the swarm and the edge fleet")
    byzantine: int = Field(0, ge=0, description="Byzantine nodes injected at start")
    realtime: bool = Field(True, description="False: the loop does not run by itself (tests step it)")
    print_epochs: bool = Field(False, description="print one '[Epoch N] ...' line per epoch")
    devices: int = Field(50, ge=0, le=1_000_000, description="edge fleet size")
    # The demo's edge fleet: a time-lapse with more wear and faults than edgeswarm.fleet.Fleet's
    # defaults, so warnings, critical alerts and a committed emergency come in the first minutes.
    edge_time_scale: float = Field(
        1200.0, gt=0, le=1e6, description="device seconds per service second (1200: 10 device-min per 500 ms)"
    )
    edge_fault_rate_per_day: float = Field(
        2.0, ge=0, le=24, description="injected faults per device per device-day (Fleet default 0.5)"
    )
    edge_wear_fraction: float = Field(
        0.5, ge=0, le=1, description="share of devices that wear out and fail (Fleet default 0.05)"
    )
    edge_wear_horizon_days: float = Field(
        3.0, gt=0, le=1e5, description="worn devices fail within this many device-days (Fleet default 30)"
    )
    mqtt: str | None = Field(
        None,
        description="the edge fleet's uplink: 'off' (the in-process simulated link), 'embedded' (a Mosquitto "
        "broker started for the service) or 'mqtt://host:port' (an existing broker); None: 'embedded' when "
        "mosquitto is installed, else 'off'",
    )
    history_every: int = Field(1, ge=1, description="keep every Nth epoch in SQLite")
    history_memory: int = Field(
        3600, ge=1, le=1_000_000, description="epochs kept in memory for /api/history"
    )
    # Logins under attack (edgeswarm.service.login_guard): each login costs a scrypt hash.
    login_failures_per_user: int = Field(
        5, ge=1, le=1_000_000, description="failed logins of one username per window before 429"
    )
    login_failures_per_address: int = Field(
        20, ge=1, le=1_000_000, description="failed logins from one client address per window before 429"
    )
    login_window_s: float = Field(
        60.0, gt=0, le=86_400, description="the sliding window of failed logins, seconds (the longest lock)"
    )
    login_hashes_at_once: int = Field(
        1, ge=1, le=64, description="password hashes computed at once (each ~16 MiB, tens of ms)"
    )
    login_wait_s: float = Field(
        2.0, ge=0, le=60, description="how long a login waits for a hash slot before 503"
    )
    static_dir: Path | None = Field(None, description="serve the dashboard from here instead of the package")
    # request edge (issue 14 part A): limits checked before any handler reads a body, browser-facing checks.
    max_body_bytes: int = Field(
        1024 * 1024,
        ge=1,
        le=MAX_BODY_LIMIT,
        description="largest request body from a caller with a valid token",
    )
    max_anonymous_body_bytes: int = Field(
        16 * 1024,
        ge=1,
        le=MAX_BODY_LIMIT,
        description="largest request body without a valid token (login form)",
    )
    max_json_depth: int = Field(
        32, ge=1, le=MAX_JSON_DEPTH_LIMIT, description="deepest nesting of arrays/objects in a JSON body"
    )
    allowed_hosts: list[str] | None = Field(
        None,
        description="Host header values served (without port); '*' serves any; None: localhost, "
        "127.0.0.1, ::1 and `host` unless it is a wildcard address",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="WebSocket Origins allowed beside the request's own host, as 'scheme://host[:port]'",
    )
    # audit, rate limits and secrets (issue 14 part B)
    jwt_key_file: Path | None = Field(
        None, description="file holding the generated JWT key (mode 0600); None: <db_path>.key"
    )
    rate_limit_anonymous_writes: int = Field(
        60, ge=1, le=1_000_000, description="write requests without a token per address per window before 429"
    )
    rate_limit_failures: int = Field(
        30, ge=1, le=1_000_000, description="401/403 answers per address per window before 429"
    )
    rate_limit_window_s: float = Field(
        60.0, gt=0, le=86_400, description="the sliding window of the rate limits, seconds"
    )
    audit_max_rows: int = Field(
        100_000, ge=1_000, le=100_000_000, description="audit entries kept; the oldest are pruned first"
    )
    audit_aggregate_window_s: float = Field(
        60.0, ge=0, le=86_400, description="repeated anonymous failures within this many seconds share a row"
    )

    @field_validator("admin_password")
    @classmethod
    def _admin_password_usable(cls, value: str | None) -> str | None:
        # The API's rule (routes/users.py): an admin whose password it would refuse, or one that is
        # empty or blank, is a mistake to refuse at start, not an account nobody can use.
        if value is None:
            return None
        if not value.strip():
            raise ValueError(
                f"admin_password: empty or whitespace only; give at least {MIN_PASSWORD_LENGTH} characters "
                "or unset it"
            )
        if len(value) < MIN_PASSWORD_LENGTH or len(value) > MAX_PASSWORD_LENGTH:
            raise ValueError(
                f"admin_password: {len(value)} characters; allowed {MIN_PASSWORD_LENGTH} to "
                f"{MAX_PASSWORD_LENGTH} (unset it to have one generated)"
            )
        return value

    @field_validator("mqtt")
    @classmethod
    def _mqtt_mode(cls, value: str | None) -> str | None:
        if value is None or value in MQTT_MODES:
            return value
        try:
            tls = parse_broker_url(value, name="mqtt").tls
        except ValueError:
            tls = None
        if tls is not False:  # the service's devices have no CA to check an mqtts:// broker with
            raise ValueError(
                f"mqtt: {value[:80]!r} is not allowed; allowed off, embedded or mqtt://host:port "
                "(port 1 to 65535)"
            )
        return value

    @model_validator(mode="after")
    def _byzantine_within_nodes(self) -> Settings:
        if self.byzantine > self.nodes:
            raise ValueError(f"byzantine: {self.byzantine} exceeds the {self.nodes} nodes")
        return self

    @model_validator(mode="after")
    def _request_edge(self) -> Settings:
        if self.max_anonymous_body_bytes > self.max_body_bytes:
            raise ValueError(
                f"max_anonymous_body_bytes: {self.max_anonymous_body_bytes} exceeds max_body_bytes "
                f"{self.max_body_bytes}; allowed at most max_body_bytes"
            )
        if self.allowed_hosts is None:
            extra = [] if self.host in _WILDCARD_ADDRESSES or self.host in LOOPBACK_HOSTS else [self.host]
            self.allowed_hosts = [*LOOPBACK_HOSTS, *extra]
        for host in self.allowed_hosts:
            if not _HOST_NAME.match(host):
                raise ValueError(
                    f"allowed_hosts: {host!r} is not a host name or address without port (or '*')"
                )
        self.allowed_hosts = [host.lower() for host in self.allowed_hosts]
        for origin in self.allowed_origins:
            if not _ORIGIN.match(origin):
                raise ValueError(f"allowed_origins: {origin!r} is not 'http(s)://host[:port]' without a path")
        self.allowed_origins = [origin.lower() for origin in self.allowed_origins]
        return self


def mqtt_address(url: str) -> tuple[str, int]:
    """(host, port) of a validated ``mqtt://host:port`` setting."""
    address = parse_broker_url(url, name="mqtt")
    return address.host, address.port
