"""The dashboard's files are served by the app (no browser needed): GET / is the page, it loads
plotly.js from /static/vendor/plotly.min.js (the plotly wheel's copy, checked in test_static.py)
and nothing from another host, and every script, stylesheet and ES module it needs answers 200
with the right content type."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from fastapi.testclient import TestClient

# The `client` fixture (the app with realtime=False on a temporary database) is in conftest.py.
STATIC = Path(__file__).resolve().parents[2] / "python" / "edgeswarm" / "service" / "static"
# `import ... from "./x.js"` and `export ... from "./x.js"` in the dashboard's modules.
IMPORT = re.compile(r"""^\s*(?:import|export)\b[^;]*?\bfrom\s+["'](\./[\w./-]+)["']""", re.MULTILINE)


class _Assets(HTMLParser):
    """The src of each <script> and the href of each <link rel=stylesheet>."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[str, str | None]] = []  # (src, type)
        self.stylesheets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.scripts.append((a["src"], a.get("type")))
        if tag == "link" and a.get("rel") == "stylesheet" and a.get("href"):
            self.stylesheets.append(a["href"])


def test_root_serves_the_dashboard_page(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assets = _Assets()
    assets.feed(response.text)
    sources = [src for src, _ in assets.scripts]
    # plotly first (a classic script defining window.Plotly), then the dashboard as an ES module.
    assert sources == ["/static/vendor/plotly.min.js", "/static/dashboard.js"]
    assert assets.scripts[1][1] == "module"
    assert assets.stylesheets == ["/static/dashboard.css"]
    # Offline: nothing is loaded from another host.
    assert not re.search(r"""(src|href)=["']https?://""", response.text)


def test_every_module_and_stylesheet_is_served(client: TestClient) -> None:
    """Follows the ES-module imports from dashboard.js: each one must be served as JavaScript."""
    css = client.get("/static/dashboard.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    seen: set[str] = set()
    todo = ["dashboard.js"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        response = client.get(f"/static/{name}")
        assert response.status_code == 200, name
        assert "javascript" in response.headers["content-type"], (name, response.headers["content-type"])
        assert response.text == (STATIC / name).read_text(), name
        todo.extend(Path(spec).name for spec in IMPORT.findall(response.text))
    # Every module in the folder is reachable from the entry point (no dead files).
    assert seen == {p.name for p in STATIC.glob("*.js")}
    # The page's element ids that the scripts look up exist in the page.
    html = client.get("/").text
    ids = set(re.findall(r"""\bid="([\w-]+)\"""", html))
    for name in seen:
        text = (STATIC / name).read_text()
        for wanted in re.findall(r"""(?:getElementById|\$)\(["']([\w-]+)["']\)""", text):
            assert wanted in ids, (name, wanted)
