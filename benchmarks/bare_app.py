"""The baseline for bench_service.py: a bare FastAPI app whose /api/status returns a constant dict."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/api/status")
def status() -> dict[str, object]:
    return {"epoch": 0, "consensus": 0.5, "regime": "Calm"}
