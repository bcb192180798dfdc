"""What the service keeps across restarts, in one SQLite file (no server).

Users, the audit log, runs and their downsampled epoch history, small settings (the JWT
secret), and the edge runtime's devices and emergencies. Dict payloads are JSON text columns.
One connection shared by the epoch loop's thread and the request handlers, behind a lock.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS settings_kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
  username TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  salt BLOB NOT NULL,
  password_hash BLOB NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  who TEXT NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  what TEXT NOT NULL,
  outcome INTEGER NOT NULL  -- the status code, or 'pending' while (or if never) answered
);
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  started_at TEXT NOT NULL,
  config TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS history (
  run INTEGER NOT NULL REFERENCES runs(id),
  epoch INTEGER NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (run, epoch)
);
CREATE TABLE IF NOT EXISTS devices (
  id TEXT PRIMARY KEY,
  data TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS emergencies (
  id TEXT PRIMARY KEY,
  data TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
"""


# (table, column, declaration) of columns added since the first schema; see Store._add_missing_columns.
_ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("audit", "address", "TEXT NOT NULL DEFAULT ''"),  # the client's address
    ("users", "token_generation", "INTEGER NOT NULL DEFAULT 0"),  # tokens carry it; a change revokes them
    ("audit", "count", "INTEGER NOT NULL DEFAULT 1"),  # requests this row stands for (aggregated failures)
    ("audit", "last_at", "TEXT"),  # the last of them (NULL: the only one, at `at`)
)
# The lookup of the row a repeated anonymous failure is added to.
_AUDIT_INDEX = "CREATE INDEX IF NOT EXISTS audit_repeats ON audit (who, address, method, path, outcome, id)"
ANONYMOUS = "anonymous"
AUDIT_MAX_ROWS = 100_000
AUDIT_AGGREGATE_WINDOW_S = 60.0
_PRUNE_EVERY = 1_000  # audit inserts between two retention checks
PRIVATE_MODE = 0o600  # the database, its -wal/-shm and the key file: readable by their owner only
_log = logging.getLogger("edgeswarm.service")
PENDING = "pending"  # the outcome of an audit entry whose request has not been answered


# Epoch history rows stored before the API took the DataFrame's names (README "Names"): old key -> new
# key, or None for a count the API no longer sends (honest = n_nodes - byzantine, sleeping = n_nodes - awake).
_RENAMED_HISTORY_KEYS: dict[str, str | None] = {
    "relative_drift": "drift",
    "bandwidth_bytes_per_node_day": "bytes_per_node_day",
    "fl_baseline_bytes_per_node_day": "fl_bytes_per_node_day",
    "energy_mj_per_node": "energy_mj",
    "nodes_byzantine": "byzantine",
    "nodes_banned": "banned",
    "nodes_awake": "awake",
    "nodes_honest": None,
    "nodes_sleeping": None,
}
# PRAGMA user_version once the history rows carry the DataFrame's names.
_SCHEMA_VERSION = 1


def _renamed_history_row(row: dict[str, Any]) -> dict[str, Any]:
    """An old history row under the current names, in the same key order."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        new = _RENAMED_HISTORY_KEYS.get(key, key)
        if new is not None:
            out[new] = value
    return out


def make_private(path: Path) -> None:
    """Creates `path` empty with mode 0600 if it does not exist; an existing file readable or writable by
    others is chmod-ed to 0600 (one log line)."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_MODE))
        return
    except FileExistsError:
        pass
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & 0o077:
        os.chmod(path, PRIVATE_MODE)
        _log.warning("%s was mode %o (others could read it); now %o", path, mode, PRIVATE_MODE)


def utc_now() -> str:
    """The current time as UTC ISO 8601 with milliseconds."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _key(payload: dict[str, Any], names: Iterable[str]) -> str:
    for name in names:
        if payload.get(name) is not None:
            return str(payload[name])
    raise ValueError(f"payload: needs one of the keys {', '.join(names)}; got {sorted(payload)}")


class Store:
    """One SQLite database (WAL mode); the schema is created on open."""

    def __init__(
        self,
        path: str | Path,
        *,
        audit_max_rows: int = AUDIT_MAX_ROWS,
        audit_aggregate_window_s: float = AUDIT_AGGREGATE_WINDOW_S,
    ) -> None:
        self.path = Path(path)
        self.audit_max_rows = audit_max_rows
        self.audit_aggregate_window_s = audit_aggregate_window_s
        self._audit_inserts = 0
        self._lock = threading.Lock()
        # SQLite creates -wal and -shm with the database file's mode, so a 0600 file keeps them private.
        make_private(self.path)
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        with self._lock:
            # A deleted secret is overwritten, not left in a free page.
            self._db.execute("PRAGMA secure_delete=ON")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(_SCHEMA)
            if self._db.execute("PRAGMA user_version").fetchone()[0] < _SCHEMA_VERSION:
                self._migrate_history_names()
            self._add_missing_columns()
            self._db.execute(_AUDIT_INDEX)
            self._prune_audit()
        for suffix in ("-wal", "-shm"):  # ones left by an older version may be too open
            companion = self.path.with_name(self.path.name + suffix)
            if companion.exists():
                make_private(companion)

    def _add_missing_columns(self) -> None:
        # Columns added after the first release, added to an older database on open.
        for table, column, declaration in _ADDED_COLUMNS:
            names = {r["name"] for r in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in names:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    def _migrate_history_names(self) -> None:
        # In Python, not with SQLite's json_set: that would print floats with 15 digits and lose bits.
        with self._db:  # one transaction: every row migrated, or none
            self._db.execute("BEGIN")
            old = self._db.execute(
                "SELECT run, epoch, data FROM history WHERE json_type(data, '$.relative_drift') IS NOT NULL"
            ).fetchall()
            self._db.executemany(
                "UPDATE history SET data = ? WHERE run = ? AND epoch = ?",
                [
                    (json.dumps(_renamed_history_row(json.loads(r["data"]))), r["run"], r["epoch"])
                    for r in old
                ],
            )
            self._db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _execute(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._db.execute(sql, params)

    def _query(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # -- small settings ------------------------------------------------------------------

    def get_setting(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM settings_kv WHERE key = ?", (key,))
        return rows[0]["value"] if rows else None

    def set_setting(self, key: str, value: str) -> None:
        self._execute("INSERT OR REPLACE INTO settings_kv (key, value) VALUES (?, ?)", (key, value))

    def pop_setting(self, key: str) -> str | None:
        """Removes `key` and returns its value (None if absent), leaving no copy in the file: the row is
        overwritten (secure_delete) and the write-ahead log checkpointed and truncated."""
        with self._lock:
            rows = self._db.execute("SELECT value FROM settings_kv WHERE key = ?", (key,)).fetchall()
            if not rows:
                return None
            self._db.execute("DELETE FROM settings_kv WHERE key = ?", (key,))
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return rows[0]["value"]

    def setting_or_create(self, key: str, make: Any) -> str:
        """The stored value of `key`, or `make()` stored and returned if there is none."""
        with self._lock:
            rows = self._db.execute("SELECT value FROM settings_kv WHERE key = ?", (key,)).fetchall()
            if rows:
                return rows[0]["value"]
            value = str(make())
            self._db.execute("INSERT INTO settings_kv (key, value) VALUES (?, ?)", (key, value))
            return value

    # -- users ---------------------------------------------------------------------------

    def add_user(self, username: str, role: str, salt: bytes, password_hash: bytes) -> bool:
        """Adds a user; False if the name is taken."""
        try:
            self._execute(
                "INSERT INTO users (username, role, salt, password_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                (username, role, salt, password_hash, utc_now()),
            )
        except sqlite3.IntegrityError:
            return False
        return True

    def set_password(self, username: str, salt: bytes, password_hash: bytes) -> bool:
        """Sets the password and increments the user's token generation (earlier tokens stop working);
        False if there is no such user."""
        cursor = self._execute(
            "UPDATE users SET salt = ?, password_hash = ?, token_generation = token_generation + 1 "
            "WHERE username = ?",
            (salt, password_hash, username),
        )
        return cursor.rowcount == 1

    def set_role(self, username: str, role: str) -> bool:
        """Sets the role and increments the user's token generation; False if there is no such user."""
        cursor = self._execute(
            "UPDATE users SET role = ?, token_generation = token_generation + 1 WHERE username = ?",
            (role, username),
        )
        return cursor.rowcount == 1

    def count_role(self, role: str) -> int:
        return int(self._query("SELECT COUNT(*) AS n FROM users WHERE role = ?", (role,))[0]["n"])

    def user(self, username: str) -> dict[str, Any] | None:
        """The user's row (with salt and hash), or None."""
        rows = self._query("SELECT * FROM users WHERE username = ?", (username,))
        return dict(rows[0]) if rows else None

    def users(self) -> list[dict[str, Any]]:
        """Every user without the password fields, oldest first."""
        rows = self._query("SELECT username, role, created_at FROM users ORDER BY created_at, username")
        return [dict(r) for r in rows]

    # -- audit ---------------------------------------------------------------------------

    def add_audit(
        self,
        *,
        who: str,
        method: str,
        path: str,
        what: str,
        outcome: int | str,
        at: str | None = None,
        address: str = "",
    ) -> int:
        """Adds an audit entry (outcome PENDING before the request is answered); returns its id. Every
        _PRUNE_EVERY inserts, the oldest entries beyond `audit_max_rows` are deleted."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO audit (at, who, address, method, path, what, outcome) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (at or utc_now(), who, address, method, path, what, outcome),
            )
            self._audit_inserts += 1
            if self._audit_inserts % _PRUNE_EVERY == 0:
                self._prune_audit()
            return int(cursor.lastrowid)

    def finish_audit(self, entry: int, *, outcome: int, what: str | None = None) -> None:
        """Sets the outcome (and, if given, the body summary) of the audit entry `entry`.

        An anonymous failure (outcome >= 400) that repeats one from the same address (method, path and
        outcome alike) whose last request is within `audit_aggregate_window_s` is added to that row's
        count and last time, and `entry` is deleted: a flood of anonymous failures is a few rows."""
        with self._lock, self._db:
            self._db.execute("BEGIN")
            row = self._db.execute(
                "SELECT who, address, method, path FROM audit WHERE id = ?", (entry,)
            ).fetchone()
            if row is not None and row["who"] == ANONYMOUS and outcome >= 400:
                cutoff = (
                    datetime.now(timezone.utc) - timedelta(seconds=self.audit_aggregate_window_s)
                ).isoformat(timespec="milliseconds")
                repeated = self._db.execute(
                    "SELECT id FROM audit WHERE who = ? AND address = ? AND method = ? AND path = ? "
                    "AND outcome = ? AND id < ? AND COALESCE(last_at, at) >= ? ORDER BY id DESC LIMIT 1",
                    (ANONYMOUS, row["address"], row["method"], row["path"], outcome, entry, cutoff),
                ).fetchone()
                if repeated is not None:
                    self._db.execute(
                        "UPDATE audit SET count = count + 1, last_at = ? WHERE id = ?",
                        (utc_now(), repeated["id"]),
                    )
                    self._db.execute("DELETE FROM audit WHERE id = ?", (entry,))
                    return
            if what is None:
                self._db.execute("UPDATE audit SET outcome = ? WHERE id = ?", (outcome, entry))
            else:
                self._db.execute(
                    "UPDATE audit SET outcome = ?, what = ? WHERE id = ?", (outcome, what, entry)
                )

    def _prune_audit(self) -> None:
        # The oldest entries beyond audit_max_rows; one indexed range delete (call with the lock held).
        keep_from = self._db.execute(
            "SELECT id FROM audit ORDER BY id DESC LIMIT 1 OFFSET ?", (self.audit_max_rows - 1,)
        ).fetchone()
        if keep_from is not None:
            self._db.execute("DELETE FROM audit WHERE id < ?", (keep_from["id"],))

    def audit(self, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """Audit entries, newest first."""
        rows = self._query(
            "SELECT id, at, who, method, path, what, outcome, count, last_at FROM audit "
            "ORDER BY id DESC LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [
            {
                "id": r["id"],
                "when": r["at"],
                "who": r["who"],
                "method": r["method"],
                "path": r["path"],
                "what": r["what"],
                "outcome": r["outcome"],
                "count": r["count"],
                "last": r["last_at"] or r["at"],
            }
            for r in rows
        ]

    # -- runs and epoch history -------------------------------------------------------------

    def start_run(self, config: dict[str, Any]) -> int:
        """Records a start of the live swarm; returns its run id."""
        cursor = self._execute(
            "INSERT INTO runs (started_at, config) VALUES (?, ?)", (utc_now(), json.dumps(config))
        )
        return int(cursor.lastrowid)

    def runs(self) -> list[dict[str, Any]]:
        rows = self._query(
            "SELECT r.id, r.started_at, r.config, COUNT(h.epoch) AS epochs_kept, MAX(h.epoch) AS last_epoch "
            "FROM runs r LEFT JOIN history h ON h.run = r.id GROUP BY r.id ORDER BY r.id"
        )
        return [
            {
                "run": r["id"],
                "started_at": r["started_at"],
                "config": json.loads(r["config"]),
                "epochs_kept": r["epochs_kept"],
                "last_epoch": r["last_epoch"],
            }
            for r in rows
        ]

    def add_history(self, run: int, row: dict[str, Any]) -> None:
        self._execute(
            "INSERT OR REPLACE INTO history (run, epoch, data) VALUES (?, ?, ?)",
            (run, int(row["epoch"]), json.dumps(row)),
        )

    def history(self, run: int, limit: int) -> list[dict[str, Any]]:
        """The last `limit` kept epochs of `run`, oldest first."""
        rows = self._query(
            "SELECT data FROM (SELECT epoch, data FROM history WHERE run = ? ORDER BY epoch DESC LIMIT ?) "
            "ORDER BY epoch",
            (run, limit),
        )
        return [json.loads(r["data"]) for r in rows]

    # -- edge: devices and emergencies ---------------------------------------------------

    def upsert_device(self, device: dict[str, Any]) -> str:
        """Inserts or replaces a device keyed by its `id` (or `device_id`); returns the key."""
        key = _key(device, ("id", "device_id"))
        self._execute(
            "INSERT OR REPLACE INTO devices (id, data, updated_at) VALUES (?, ?, ?)",
            (key, json.dumps(device), utc_now()),
        )
        return key

    def devices(self) -> list[dict[str, Any]]:
        """Every stored device, in insertion order."""
        return [json.loads(r["data"]) for r in self._query("SELECT data FROM devices ORDER BY rowid")]

    def device(self, device_id: object) -> dict[str, Any] | None:
        rows = self._query("SELECT data FROM devices WHERE id = ?", (str(device_id),))
        return json.loads(rows[0]["data"]) if rows else None

    def add_emergency(self, emergency: dict[str, Any]) -> str:
        """Stores an emergency keyed by its `id` (or `emergency_id`); returns the key."""
        key = _key(emergency, ("id", "emergency_id"))
        now = utc_now()
        self._execute(
            "INSERT OR REPLACE INTO emergencies (id, data, created_at, updated_at) VALUES (?, ?, ?, ?)",
            (key, json.dumps(emergency), now, now),
        )
        return key

    def update_emergency(self, emergency_id: object, changes: dict[str, Any]) -> dict[str, Any] | None:
        """Merges `changes` into the stored emergency; returns it, or None if there is none."""
        with self._lock:
            rows = self._db.execute(
                "SELECT data FROM emergencies WHERE id = ?", (str(emergency_id),)
            ).fetchall()
            if not rows:
                return None
            data = {**json.loads(rows[0]["data"]), **changes}
            self._db.execute(
                "UPDATE emergencies SET data = ?, updated_at = ? WHERE id = ?",
                (json.dumps(data), utc_now(), str(emergency_id)),
            )
            return data

    def emergencies(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest `limit` emergencies, newest first."""
        rows = self._query("SELECT data FROM emergencies ORDER BY rowid DESC LIMIT ?", (limit,))
        return [json.loads(r["data"]) for r in rows]
