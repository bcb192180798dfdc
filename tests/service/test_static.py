"""The dashboard at /, plotly.min.js from the plotly wheel, OpenAPI at /docs, the edge placeholder."""

from __future__ import annotations

import re

from edgeswarm.service import create_app
from edgeswarm.service.app import plotly_js_path
from fastapi.testclient import TestClient

from tests.service.conftest import make_settings


def test_dashboard_page_and_plotly_are_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert client.get("/index.html").text == page.text
    assert client.get("/static/index.html").text == page.text
    js = client.get("/static/vendor/plotly.min.js")
    assert js.status_code == 200
    assert "javascript" in js.headers["content-type"]
    assert js.content == plotly_js_path().read_bytes()
    assert client.get("/no-such-file.js").status_code == 404


def test_static_dir_override(tmp_path) -> None:
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "index.html").write_text("<p>custom board</p>")
    with TestClient(create_app(make_settings(tmp_path / "s.db", static_dir=tmp_path / "web"))) as client:
        assert client.get("/").text == "<p>custom board</p>"


def test_openapi_lists_every_endpoint(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/status",
        "/api/history",
        "/api/history/runs",
        "/api/inject_byzantine",
        "/api/inject_noise",
        "/api/auth/token",
        "/api/users",
        "/api/audit",
    ):
        assert path in paths, path
    assert client.get("/docs").status_code == 200


def test_edge_routes_answer_503_when_the_fleet_is_empty(tmp_path) -> None:
    app = create_app(make_settings(tmp_path / "s.db", devices=0))
    with TestClient(app) as client:
        assert app.state.edge is None
        for path in ("/api/edge/devices", "/api/edge/clusters", "/api/edge/analytics"):
            response = client.get(path)
            assert response.status_code == 503, path
            assert response.json() == {"detail": "edge runtime not loaded"}
        assert client.get("/api/status").json()["edge"] == {"loaded": False}
        app.state.swarm_loop.step()  # the swarm runs on without the edge runtime
        assert client.get("/api/status").json()["epoch"] == 1


def test_edge_runtime_loads_with_a_fleet(client) -> None:
    assert client.app.state.edge is not None
    assert client.get("/api/status").json()["edge"]["loaded"] is True
    assert client.get("/api/edge/devices").status_code == 200


def test_api_docs_are_served_from_local_files(client) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    scripts = re.findall(r'<script src="([^"]+)"', page.text)
    styles = re.findall(r'<link type="text/css" rel="stylesheet" href="([^"]+)"', page.text)
    assert scripts and styles
    for url in scripts + styles:
        assert url.startswith("/static/vendor/swagger-ui/"), url  # no CDN
        assert client.get(url).status_code == 200, url
    assert "http://" not in page.text.replace("http://localhost", "") and "https://" not in page.text
