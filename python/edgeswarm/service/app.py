"""`create_app(settings)`: the FastAPI application of the live swarm, its API and dashboard.

The lifespan opens the SQLite store, makes sure the admin user exists, loads the JWT key,
builds the live swarm (`app.state.swarm_loop`) and, when its module is installed, the edge
runtime (`app.state.edge`), and runs the epoch loop in real time unless
`settings.realtime` is False (tests then call `app.state.swarm_loop.step()`).

With `settings.mqtt` other than 'off' the edge fleet runs over MQTT for the service's lifetime
(`app.state.mqtt`, a `MqttBridge`): 'embedded' starts a Mosquitto broker in `<db_path>.mqtt/`
with a service user and a password per fleet (the per-device ACL), 'mqtt://host:port' uses that
broker anonymously. Unset, it is 'embedded' when mosquitto is installed, else 'off' (one log line).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import logging
import math
import re
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pydantic
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from edgeswarm import __version__
from edgeswarm.fleet.runtime import DeviceConflict, EdgeRuntime, UnknownItem
from edgeswarm.mqtt import Broker, BrokerError, find_mosquitto
from edgeswarm.service.audit import LOGGED_FIELDS, AuditMiddleware
from edgeswarm.service.auth import announce_admin_password, ensure_admin, signing_key
from edgeswarm.service.hub import Hub
from edgeswarm.service.login_guard import LoginGuard
from edgeswarm.service.loop import SwarmLoop
from edgeswarm.service.mqtt_bridge import SERVICE_USER, MqttBridge, device_password
from edgeswarm.service.rate_limit import RateLimiter, RateLimitMiddleware
from edgeswarm.service.request_limits import RequestLimitsMiddleware
from edgeswarm.service.routes.ws import quiet_invalid_utf8_tracebacks
from edgeswarm.service.security_headers import (
    CSP_HEADER,
    SecurityHeadersMiddleware,
    content_security_policy,
    inline_script_hashes,
)
from edgeswarm.service.settings import Settings, mqtt_address
from edgeswarm.service.store import Store

_log = logging.getLogger("edgeswarm.service")

# Router modules under edgeswarm.service.routes, each with a `router`, included in this order.
ROUTER_MODULES: tuple[str, ...] = (
    "status",
    "swarm",
    "history",
    "auth",
    "users",
    "audit",
    "ws",
    "edge",
    "devices",
    "broker",
)

STATIC_DIR = Path(__file__).with_name("static")
_FIELD = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*): ")


def load_edge_runtime(
    settings: Settings, store: Store, hub: Hub, *, uplink: MqttBridge | None = None
) -> EdgeRuntime | None:
    """The edge runtime, or None when the fleet is empty (`devices=0`: /api/edge/* answer 503)."""
    if settings.devices == 0:
        return None
    return EdgeRuntime(settings, store, hub.publish, uplink=uplink)


def mqtt_mode(settings: Settings) -> str:
    """'off', 'embedded' or 'mqtt://host:port': the setting, or when unset 'embedded' if mosquitto
    is installed (else 'off', saying why in one log line)."""
    if settings.mqtt is not None:
        return settings.mqtt
    try:
        find_mosquitto()
    except BrokerError as error:
        _log.warning("mqtt: off (the in-process link), because %s", error)
        return "off"
    return "embedded"


class _Mqtt:
    """The broker (when embedded) and the bridge of the service's edge fleet."""

    def __init__(self, mode: str, settings: Settings) -> None:
        self.mode = mode
        self.broker: Broker | None = None
        self.bridge = MqttBridge(
            "127.0.0.1", 0, seed=settings.seed, wait_s=settings.epoch_ms / 1000.0
        )  # the address is set in start(), once the broker is known

    def start(self, settings: Settings) -> None:
        bridge = self.bridge
        if self.mode == "embedded":
            device_secret, service_password = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
            users = {
                SERVICE_USER: service_password,
                **{str(row): device_password(device_secret, str(row)) for row in range(bridge.n)},
            }
            run_dir = settings.db_path.with_name(settings.db_path.name + ".mqtt")
            self.broker = broker = Broker(run_dir, users=users, service_users={SERVICE_USER}).start()
            bridge.set_broker(broker.host, broker.port, device_secret, service_password)
            bridge.add_device_user = lambda name: broker.add_user(name, device_password(device_secret, name))
        else:
            bridge.set_broker(*mqtt_address(self.mode), None, None)
        _log.info("mqtt: the edge fleet's %s devices on %s (%s)", bridge.n, bridge.url, self.mode)
        bridge.start()

    def stop(self) -> None:
        try:
            self.bridge.stop()
        finally:
            if self.broker is not None:
                self.broker.stop()


def plotly_js_path() -> Path | None:
    """plotly.min.js as shipped in the installed plotly wheel (the dashboard needs no CDN)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "package_data" / "plotly.min.js"
    return path if path.is_file() else None


def swagger_ui_dir() -> Path | None:
    """Swagger UI 5's files as shipped in the `swagger-ui-py` wheel, so /docs works offline."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "static"
    return path if (path / "swagger-ui-bundle.js").is_file() else None


SWAGGER_UI_URL = "/static/vendor/swagger-ui"


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    quiet_invalid_utf8_tracebacks()  # after the server set up its loggers
    store = Store(
        settings.db_path,
        audit_max_rows=settings.audit_max_rows,
        audit_aggregate_window_s=settings.audit_aggregate_window_s,
    )
    try:
        generated = ensure_admin(store, settings)
        if generated is not None:
            announce_admin_password(generated)
        hub = Hub()
        hub.bind(asyncio.get_running_loop())
        edge, edge_error, mqtt = None, None, None
        mode = mqtt_mode(settings)
        try:
            mqtt = _Mqtt(mode, settings) if mode != "off" and settings.devices > 0 else None
            if mqtt is None:
                edge = load_edge_runtime(settings, store, hub)
            else:
                edge = load_edge_runtime(settings, store, hub, uplink=mqtt.bridge)
            if mqtt is not None:
                mqtt.start(settings)
        except Exception as error:  # noqa: BLE001 - the swarm is served even if the edge runtime cannot start
            edge, edge_error = None, f"{type(error).__name__}: {error}"
            _log.exception("the edge runtime did not start; /api/edge answers 503")
            if mqtt is not None:
                mqtt.stop()
                mqtt = None
                app.state.mqtt_error = edge_error
        if mode != "off" and settings.devices == 0:
            mode = "off"  # no edge fleet, no broker
        app.state.mqtt_mode = mode
        app.state.mqtt = mqtt.bridge if mqtt is not None else None
        run = store.start_run(
            {
                "nodes": settings.nodes,
                "seed": settings.seed,
                "epoch_ms": settings.epoch_ms,
                "byzantine": settings.byzantine,
                "history_every": settings.history_every,
            }
        )
        swarm_loop = SwarmLoop(settings, store, hub, edge, run=run, edge_error=edge_error)
        app.state.store, app.state.hub, app.state.edge, app.state.swarm_loop = store, hub, edge, swarm_loop
        app.state.jwt_key = signing_key(store, settings)
        app.state.login_guard = LoginGuard(settings)  # built in the server's event loop (its semaphore)
        if settings.realtime:
            swarm_loop.start()
        try:
            yield
        finally:
            await swarm_loop.stop()
            close = getattr(edge, "close", None)
            if callable(close):
                close()
            if mqtt is not None:
                await asyncio.to_thread(mqtt.stop)
    finally:
        store.close()


def _field_of(message: str) -> str:
    match = _FIELD.match(message)
    return match.group(1) if match else "body"


def _value_error(_request: Request, error: Exception) -> JSONResponse:
    """The engine's or a facade's ValueError ('name: value ... allowed ...') as a 422 carrying its message,
    naming the field: the error's `field` when a route set one (a body field named differently from the
    engine's parameter), else the message's leading name."""
    message = str(error)
    field = getattr(error, "field", None) or _field_of(message)
    detail = [
        {"loc": ["body", field] if field != "body" else ["body"], "msg": message, "type": "value_error"}
    ]
    return JSONResponse(status_code=422, content={"detail": detail})


def _unknown_item(_request: Request, error: Exception) -> JSONResponse:
    """An id the edge runtime does not know: 404."""
    return JSONResponse(status_code=404, content={"detail": str(error.args[0] if error.args else error)})


def _conflict(_request: Request, error: Exception) -> JSONResponse:
    """A device id already taken, an emergency already resolved: 409."""
    return JSONResponse(status_code=409, content={"detail": str(error)})


_MAX_ECHO = 64  # characters of a rejected value echoed back in a 422


def _echoable(field: object, value: object) -> bool:
    # A rejected value is echoed only for a field on the audit's allow-list and only if it is a short
    # scalar: a password, a key or a body nested 500 deep is never sent back.
    if field not in LOGGED_FIELDS:
        return False
    if isinstance(value, float):
        return math.isfinite(value)  # JSON has no Infinity/NaN: echoing one would turn the 422 into a 500
    return (
        value is None or isinstance(value, bool | int) or (isinstance(value, str) and len(value) <= _MAX_ECHO)
    )


def _redacted(errors: list[dict]) -> list[dict]:
    """Validation errors without the `input` of fields not on the allow-list (see `_echoable`)."""
    out = []
    for error in errors:
        error = {k: v for k, v in error.items() if k != "url"}
        names = [part for part in error.get("loc", ()) if isinstance(part, str)]
        if "input" in error and not _echoable(names[-1] if names else None, error["input"]):
            del error["input"]
        out.append(error)
    return jsonable_encoder(out)


def _request_validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
    return JSONResponse(status_code=422, content={"detail": _redacted(list(error.errors()))})


def _validation_error(_request: Request, error: pydantic.ValidationError) -> JSONResponse:
    """A model built in a route failed: loc, msg and type only (never the rejected `input`)."""
    detail = [
        {"loc": ["body", *map(str, e["loc"])], "msg": e["msg"], "type": e["type"]} for e in error.errors()
    ]
    return JSONResponse(status_code=422, content={"detail": detail})


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service: REST API under /api, WebSocket at /ws, OpenAPI at /docs, dashboard at /."""
    settings = settings if settings is not None else Settings()
    app = FastAPI(
        title="edgeswarm",
        version=__version__,
        description="A live Byzantine-tolerant sensor swarm and its edge fleet: status, history, "
        "attack and noise injection, users and audit. Mutating endpoints need a bearer token "
        "from POST /api/auth/token (roles viewer < operator < admin).",
        lifespan=_lifespan,
        docs_url=None,  # served below from local files (FastAPI's default page loads a CDN)
        redoc_url=None,  # ReDoc's page loads its script from a CDN; /docs covers the same ground offline
    )
    app.state.settings = settings
    app.state.edge = None
    app.state.mqtt = None
    app.state.mqtt_mode = "off"
    app.state.mqtt_error = None  # why the MQTT fleet did not start, when it did not
    app.add_middleware(AuditMiddleware)  # innermost: sees only what the outer layers let through
    # Starlette: the last added is the outermost. Bodies are bounded before audit or a handler reads them.
    app.add_middleware(RequestLimitsMiddleware, settings=settings)
    app.state.rate_limiter = RateLimiter(settings)
    app.add_middleware(RateLimitMiddleware)  # outside request limits and audit: a flood writes no rows
    app.add_middleware(SecurityHeadersMiddleware, settings=settings)  # outermost: hosts, then headers
    app.add_exception_handler(ValueError, _value_error)
    app.add_exception_handler(UnknownItem, _unknown_item)
    app.add_exception_handler(DeviceConflict, _conflict)  # a ValueError: the more specific handler wins
    app.add_exception_handler(pydantic.ValidationError, _validation_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)  # no secret echoed

    for name in ROUTER_MODULES:
        app.include_router(importlib.import_module(f"edgeswarm.service.routes.{name}").router)

    @app.get("/static/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> Response:
        path = plotly_js_path()
        if path is None:
            return JSONResponse(status_code=404, content={"detail": "plotly is not installed"})
        return FileResponse(path, media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})

    swagger = swagger_ui_dir()
    if swagger is not None:
        app.mount(SWAGGER_UI_URL, StaticFiles(directory=swagger), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        if swagger is None:  # swagger-ui-py missing: FastAPI's page, whose script comes from a CDN
            return get_swagger_ui_html(openapi_url=app.openapi_url, title="edgeswarm API")
        page = get_swagger_ui_html(
            openapi_url=app.openapi_url,
            title="edgeswarm API",
            swagger_js_url=f"{SWAGGER_UI_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_UI_URL}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER_UI_URL}/favicon-32x32.png",
        )
        # The page starts Swagger UI with one inline script: the policy allows exactly that script.
        page.headers[CSP_HEADER.decode()] = content_security_policy(
            script_hashes=inline_script_hashes(page.body)
        )
        return page

    static = settings.static_dir or STATIC_DIR
    if static.is_dir():
        # The dashboard's files, both at / (index.html) and under /static/.
        app.mount("/static", StaticFiles(directory=static), name="static")
        app.mount("/", StaticFiles(directory=static, html=True), name="dashboard")
    else:
        _log.warning("no dashboard: %s is not a directory", static)
    return app
