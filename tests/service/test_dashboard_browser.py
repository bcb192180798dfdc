"""The dashboard in a real browser: headless Chromium (Debian's `chromium` package) driven by
Playwright for Python, against the real service started with uvicorn in a subprocess.

The page loads, the convergence chart gains points from the live WebSocket, an operator signs
in through the page and injects Byzantine nodes with the page's controls, and the node grid
shows them. A screenshot is saved to `test-artifacts/dashboard.png` at the top of the repo
(gitignored; `EDGESWARM_TEST_ARTIFACTS` overrides the folder).

Skipped, saying why, when Playwright or the chromium binary is missing (`make test` installs
both: chromium from OS_PACKAGES, playwright from the dev extra; never `playwright install`,
no browser is downloaded). `EDGESWARM_CHROMIUM` names another chromium binary.
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Debian installs the browser as /usr/bin/chromium (a wrapper script around /usr/lib/chromium);
# EDGESWARM_CHROMIUM points elsewhere.
CHROMIUM = os.environ.get("EDGESWARM_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ADMIN_PASSWORD = "admin-password-for-tests"
OPERATOR = ("ops", "operator-password-1")
EPOCH_MS = 100  # a quick live loop so the charts fill within a second or two
NODES = 100
STARTUP_DEADLINE_S = 60.0
BROWSER_TIMEOUT_MS = 30_000
REPO = Path(__file__).resolve().parents[2]

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright for Python is not installed (it is in the dev extra)"
)
if not Path(CHROMIUM).is_file():
    pytest.skip(
        f"no chromium binary at {CHROMIUM}: install Debian's 'chromium' package (make test does)",
        allow_module_level=True,
    )


def artifacts_dir() -> Path:
    folder = Path(os.environ.get("EDGESWARM_TEST_ARTIFACTS", REPO / "test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class LiveServer:
    base_url: str
    port: int
    process: subprocess.Popen[str]
    reader: threading.Thread
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.reader.join(timeout=5)  # the pipe ends with the process
        self.process.stdout.close()


def http(
    method: str,
    url: str,
    *,
    form: dict[str, str] | None = None,
    json_body: Any = None,
    token: str | None = None,
) -> tuple[int, Any]:
    """One request with the standard library; returns (status, parsed JSON body)."""
    headers = {"Accept": "application/json"}
    data = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif json_body is not None:
        data = json.dumps(json_body).encode()
        headers["Content-Type"] = "application/json"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def _read_lines(stream: Any, lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


def start_server(folder: Path, port: int = 0, seed: int = 3) -> LiveServer:
    """`edgeswarm.service.serve` (uvicorn) on 127.0.0.1 in a subprocess, ready when it has run an
    epoch. Port 0: the OS picks a free port, which serve() prints."""
    # No EDGESWARM_* variable of the caller leaks into the server; these are its settings.
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDGESWARM_")}
    env.update(
        EDGESWARM_HOST="127.0.0.1",
        EDGESWARM_PORT=str(port),
        EDGESWARM_DB_PATH=str(folder / "edgeswarm.db"),
        EDGESWARM_ADMIN_PASSWORD=ADMIN_PASSWORD,
        EDGESWARM_NODES=str(NODES),
        EDGESWARM_EPOCH_MS=str(EPOCH_MS),
        EDGESWARM_SEED=str(seed),
        EDGESWARM_REALTIME="true",
    )
    log_path = folder / "server.log"
    code = "import sys; from edgeswarm.service import serve; sys.exit(serve())"
    with open(log_path, "a") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", code], cwd=folder, env=env, stdout=subprocess.PIPE, stderr=log, text=True
        )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True)
    reader.start()
    server = LiveServer("", 0, process, reader, log_path)
    try:
        deadline = time.monotonic() + STARTUP_DEADLINE_S
        # serve() prints the address it bound.
        while not server.base_url:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the server did not announce its address:\n{server.log()}")
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            match = re.search(r"http://[^\s:/]+:(\d+)/", line)
            if match:
                server.port = int(match.group(1))
                server.base_url = f"http://127.0.0.1:{server.port}"
        # Ready when the API answers and the live loop has run an epoch.
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the server did not become ready:\n{server.log()}")
            try:
                status, body = http("GET", server.base_url + "/api/status")
            except (urllib.error.URLError, ConnectionError):
                status, body = 0, None
            if status == 200 and body.get("epoch", 0) >= 1:
                return server
            time.sleep(0.05)
    except BaseException:
        server.stop()
        raise


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(tmp_path_factory.mktemp("dashboard-server"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def operator(live_server: LiveServer) -> tuple[str, str]:
    """An operator account created through the API by the admin."""
    status, body = http(
        "POST",
        live_server.base_url + "/api/auth/token",
        form={"username": "admin", "password": ADMIN_PASSWORD},
    )
    assert status == 200, body
    admin_token = body["access_token"]
    username, password = OPERATOR
    status, body = http(
        "POST",
        live_server.base_url + "/api/users",
        json_body={"username": username, "password": password, "role": "operator"},
        token=admin_token,
    )
    assert status == 201, body
    return username, password


@dataclass
class BrowserPage:
    page: Any
    errors: list[str]  # uncaught exceptions in the page's scripts, and Content-Security-Policy violations


def _keep_csp_violation(text: str, errors: list[str]) -> None:
    """Chromium logs each resource or inline code the page's CSP refused as a console error naming the policy."""
    if "Content Security Policy" in text:
        errors.append(text)


@pytest.fixture
def browser_page(live_server: LiveServer) -> Iterator[BrowserPage]:  # noqa: ARG001 - the page needs the server up
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1700})
            context.set_default_timeout(BROWSER_TIMEOUT_MS)
            held = BrowserPage(context.new_page(), [])
            held.page.on("pageerror", lambda error: held.errors.append(str(error)))
            held.page.on("console", lambda message: _keep_csp_violation(message.text, held.errors))
            yield held
        finally:
            browser.close()


# [epoch, consensus] pairs the convergence chart has drawn.
DRAWN = "() => { const d = document.getElementById('convergence-chart').data[0]; return d.x.map((x, i) => [x, d.y[i]]); }"
CHART_POINTS = (
    "id => { const gd = document.getElementById(id); return gd && gd.data ? gd.data[0].x.length : -1; }"
)
GRID = "() => ({...document.getElementById('node-grid').dataset})"


def message_of(page: Any, kind: str) -> str:
    """Waits for the controls' message to be of `kind` ("ok" / "error") and returns its text."""
    page.wait_for_function(
        "kind => document.getElementById('control-message').dataset.kind === kind", arg=kind
    )
    return page.inner_text("#control-message")


def clear_message(page: Any) -> None:
    """Forgets the controls' message kind, so message_of waits for the next answer."""
    page.evaluate("() => { const m = document.getElementById('control-message'); m.dataset.kind = ''; }")


def submit_byzantine(page: Any, count: int, bias: float, attack: str) -> None:
    clear_message(page)
    page.fill("#byz-count", str(count))
    page.fill("#byz-bias", str(bias))
    page.select_option("#byz-attack", attack)
    page.click("#byz-submit")


def test_dashboard_live_charts_login_and_byzantine_injection(
    live_server: LiveServer, operator: tuple[str, str], browser_page: BrowserPage
) -> None:
    import edgeswarm as es

    page = browser_page.page
    page.goto(live_server.base_url + "/")

    # The WebSocket is up and the convergence chart gains points epoch by epoch.
    page.wait_for_function("() => document.getElementById('conn-state').textContent === 'live'")
    page.wait_for_function(f"() => ({CHART_POINTS})('convergence-chart') > 0")
    first = page.evaluate(CHART_POINTS, "convergence-chart")
    page.wait_for_function(f"n => ({CHART_POINTS})('convergence-chart') >= n + 5", arg=first)
    for chart in ("entropy-chart", "bandwidth-chart", "energy-chart"):
        assert page.evaluate(CHART_POINTS, chart) > 0, chart
    epoch_shown = int(page.inner_text("#sb-epoch").replace(",", ""))
    assert epoch_shown >= first

    # One cell per node; no Byzantine node before the injection.
    page.wait_for_function("() => Number(document.getElementById('node-grid').dataset.epoch) >= 0")
    grid = page.evaluate(GRID)
    assert int(grid["nodes"]) == NODES
    assert sum(int(grid[k]) for k in ("honest", "byzantine", "sleeping", "banned")) == NODES
    assert grid["byzantine"] == "0" and grid["banned"] == "0"

    # The attack list comes from the server's OpenAPI schema, which matches the engine.
    page.wait_for_function("() => document.getElementById('byz-attack').dataset.source !== undefined")
    options = page.eval_on_selector_all("#byz-attack option", "os => os.map(o => o.value)")
    assert page.eval_on_selector("#byz-attack", "e => e.dataset.source") == "openapi"
    assert options == list(es.ATTACKS)

    # Without signing in the server refuses, and the page shows its 401 message.
    status, body = http("POST", live_server.base_url + "/api/inject_byzantine", json_body={"count": 5})
    assert status == 401
    submit_byzantine(page, 5, 0.9, "bias")
    refused = message_of(page, "error")
    assert "401" in refused and body["detail"] in refused

    # Wrong password: the sign-in error from the server is shown.
    clear_message(page)  # else the error above would pass for this one while the login is in flight
    page.fill("#login-username", operator[0])
    page.fill("#login-password", "not-the-password")
    page.click("#login-button")
    failed = message_of(page, "error")
    assert "Sign-in failed" in failed and "401" in failed

    # Sign in as the operator through the form.
    page.fill("#login-username", operator[0])
    page.fill("#login-password", operator[1])
    page.click("#login-button")
    page.wait_for_selector("#signed-in", state="visible")
    assert page.inner_text("#signed-in-role") == "operator"

    # More attackers than honest nodes: a 422 naming the field, shown on the page.
    submit_byzantine(page, NODES + 1, 0.9, "bias")
    rejected = message_of(page, "error")
    assert "422" in rejected and "count" in rejected

    # Inject 20 attackers running ALIE ("a little is enough": they stay inside the honest spread,
    # so reputation does not ban them and the grid keeps showing them as byzantine).
    injected = 20
    submit_byzantine(page, injected, 0.9, "alie")
    assert "Injected 20 Byzantine nodes (attack alie" in message_of(page, "ok")
    status, body = http("GET", live_server.base_url + "/api/status")
    assert status == 200 and body["byzantine"] == injected
    page.wait_for_function(
        "n => Number(document.getElementById('node-grid').dataset.byzantine) === n", arg=injected
    )
    grid = page.evaluate(GRID)
    assert sum(int(grid[k]) for k in ("honest", "byzantine", "sleeping", "banned")) == NODES
    assert int(grid["epoch"]) >= body["epoch"]  # drawn from an epoch after the injection

    # Noise through the page: the swarm leaves Calm, and the entropy chart shades the new regime.
    page.fill("#noise-intensity", "0.2")
    page.fill("#noise-duration", "30")
    clear_message(page)
    page.click("#noise-submit")
    assert "Noise of intensity 0.2" in message_of(page, "ok")
    page.wait_for_function(
        "() => (document.getElementById('entropy-chart').layout.shapes || []).some(s => s.name !== 'Calm')"
    )
    drawn = page.evaluate(
        """() => { const gd = document.getElementById('entropy-chart');
                   return {bands: gd.layout.shapes.map(s => [s.name, s.x0, s.x1]), epochs: gd.data[0].x}; }"""
    )
    bands, epochs = drawn["bands"], drawn["epochs"]
    # The bands tile the epochs drawn: from the first to the last, without gaps or overlaps.
    assert bands[0][1] == epochs[0] - 0.5 and bands[-1][2] == epochs[-1] + 0.5
    assert all(a[2] == b[1] for a, b in itertools.pairwise(bands))
    assert {name for name, _, _ in bands} <= set(es.REGIMES)

    # The edge section says what the server has: panels when loaded, a plain notice when not.
    _, status_body = http("GET", live_server.base_url + "/api/status")
    loaded = bool(status_body.get("edge", {}).get("loaded"))
    page.wait_for_function(
        "want => document.getElementById('edge-state').dataset.loaded === want", arg=str(loaded).lower()
    )
    if loaded:
        # Devices listed, and one ML row per model the server runs.
        _, analytics = http("GET", live_server.base_url + "/api/edge/analytics")
        page.wait_for_selector("#edge-devices tbody tr")
        page.wait_for_function(
            "n => document.querySelectorAll('#edge-ml tbody tr').length === n", arg=len(analytics["models"])
        )
        models = page.eval_on_selector_all(
            "#edge-ml tbody tr td:first-child", "cells => cells.map(c => c.textContent)"
        )
        assert sorted(models) == sorted(analytics["models"])
    else:
        assert "not loaded" in page.inner_text("#edge-state")
        assert page.is_hidden("#edge-panels")

    page.screenshot(path=str(artifacts_dir() / "dashboard.png"), full_page=True)
    assert browser_page.errors == [], browser_page.errors


def test_dashboard_reconnects_after_the_server_restarts(tmp_path: Path, browser_page: BrowserPage) -> None:
    """The status bar shows the lost connection and the retry; after the restart the page is live
    again and its charts show the new run (the hello's history), not the old one continued."""
    page = browser_page.page
    server = start_server(tmp_path)
    try:
        page.goto(server.base_url + "/")
        page.wait_for_function("() => document.getElementById('conn-dot').dataset.state === 'live'")
        page.wait_for_function(f"() => ({CHART_POINTS})('convergence-chart') >= 10")
        old_first = page.evaluate(f"() => ({DRAWN})()[0]")
        server.stop()
        page.wait_for_function("() => document.getElementById('conn-dot').dataset.state === 'reconnecting'")
        assert "retrying in" in page.inner_text("#conn-state")

        # Same address (the page finds it by itself), another seed: a run that looks different.
        server = start_server(tmp_path, server.port, seed=4)
        page.wait_for_function("() => document.getElementById('conn-dot').dataset.state === 'live'")
        # Redrawn from the new run's hello (its epoch 1 differs from the old run's).
        page.wait_for_function(f"old => ({DRAWN})()[0][1] !== old[1]", arg=old_first)
        drawn = page.evaluate(f"() => ({DRAWN})()")
        status, history = http("GET", server.base_url + "/api/history?limit=100000")
        assert status == 200
        consensus = {row["epoch"]: row["consensus"] for row in history}
        # The chart starts over with the new run: its epochs from 1, contiguous, its values.
        assert [epoch for epoch, _ in drawn] == list(range(1, len(drawn) + 1))
        assert all(value == consensus[epoch] for epoch, value in drawn)
        assert browser_page.errors == [], browser_page.errors
    finally:
        server.stop()


def test_api_docs_render_offline(live_server: LiveServer, browser_page: BrowserPage) -> None:
    """/docs renders the API with every request but the service's own blocked (no CDN)."""
    page = browser_page.page
    outside: list[str] = []

    def only_local(route: Any) -> None:
        if route.request.url.startswith(live_server.base_url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto(f"{live_server.base_url}/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "edgeswarm" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector('.opblock-summary-path[data-path="/api/inject_byzantine"]')
    assert outside == []
    assert browser_page.errors == []
