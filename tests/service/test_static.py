"""The dashboard at /, plotly.min.js from the plotly wheel, OpenAPI at /docs, the edge placeholder."""

from __future__ import annotations

from edgeswarm.service import create_app
from edgeswarm.service.app import plotly_js_path
from edgeswarm.service.deps import get_edge
from fastapi import APIRouter, Depends
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


def test_edge_routes_answer_503_while_the_edge_runtime_is_not_loaded(tmp_path) -> None:
    app = create_app(make_settings(tmp_path / "s.db"))
    probe = APIRouter()

    @probe.get("/api/edge-probe")
    def edge_probe(edge: object = Depends(get_edge)) -> dict:
        return {"edge": str(edge)}

    app.router.routes.insert(0, probe.routes[0])  # before the dashboard mount at /
    with TestClient(app) as client:
        if app.state.edge is not None:  # the edge runtime is installed: the dependency hands it out
            assert client.get("/api/edge-probe").status_code == 200
        else:
            response = client.get("/api/edge-probe")
            assert response.status_code == 503
            assert response.json() == {"detail": "edge runtime not loaded"}
            assert client.get("/api/status").json()["edge"] == {"loaded": False}
