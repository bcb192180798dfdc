"""History rows kept by an older version (the API's former names) are renamed once when the store opens."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import edgeswarm as es
from edgeswarm.service.loop import history_row
from edgeswarm.service.store import Store
from fastapi.testclient import TestClient

from tests.service.conftest import make_settings

OLD_NAMES = {
    "drift": "relative_drift",
    "bytes_per_node_day": "bandwidth_bytes_per_node_day",
    "fl_bytes_per_node_day": "fl_baseline_bytes_per_node_day",
    "energy_mj": "energy_mj_per_node",
    "byzantine": "nodes_byzantine",
    "banned": "nodes_banned",
    "awake": "nodes_awake",
}


def _old_row(row: dict) -> dict:
    """`row` as the service wrote it before the rename (with its nodes_honest and nodes_sleeping)."""
    old = {OLD_NAMES.get(k, k): v for k, v in row.items() if k not in ("reporting", "invalid")}
    old["nodes_honest"] = 40 - row["byzantine"]
    old["nodes_sleeping"] = 40 - row["awake"]
    return old


def _write_old_database(path: Path, rows: list[dict]) -> int:
    store = Store(path)
    run = store.start_run({"nodes": 40, "seed": 1})
    for row in rows:
        store.add_history(run, _old_row(row))
    store.close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 0")  # as an older version left it
    return run


def test_old_history_rows_get_the_dataframe_names(tmp_path: Path) -> None:
    swarm = es.Swarm(40, seed=1)
    swarm.inject_byzantine(count=5)
    rows = [history_row(swarm.step()) for _ in range(4)]
    rows[0]["drift"] = None  # a NaN figure is stored as null and stays null
    path = tmp_path / "old.db"
    run = _write_old_database(path, rows)

    store = Store(path)
    migrated = store.history(run, 10)
    expected = [{k: v for k, v in row.items() if k not in ("reporting", "invalid")} for row in rows]
    assert migrated == expected
    assert not any(
        key in r for r in migrated for key in (*OLD_NAMES.values(), "nodes_honest", "nodes_sleeping")
    )
    store.close()

    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1
        before = db.execute("SELECT data FROM history ORDER BY epoch").fetchall()
    Store(path).close()  # reopening migrates nothing again
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT data FROM history ORDER BY epoch").fetchall() == before


def test_the_api_serves_an_old_run_under_the_new_names(tmp_path: Path) -> None:
    swarm = es.Swarm(40, seed=1)
    rows = [history_row(swarm.step()) for _ in range(3)]
    path = tmp_path / "service.db"
    run = _write_old_database(path, rows)
    with TestClient(es.service.create_app(make_settings(path))) as client:
        kept = client.get("/api/history", params={"run": run}).json()
    assert [r["drift"] for r in kept] == [r["drift"] for r in rows]
    assert [r["bytes_per_node_day"] for r in kept] == [r["bytes_per_node_day"] for r in rows]
    assert [r["awake"] for r in kept] == [r["awake"] for r in rows]
