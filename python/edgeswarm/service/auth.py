"""Users, roles, password hashing (scrypt) and access tokens (JWT, HS256)."""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import os
import secrets
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jwt
from starlette.types import Scope

from edgeswarm.service.settings import Settings
from edgeswarm.service.store import PRIVATE_MODE, Store, make_private

USER_ROLES: tuple[str, ...] = ("viewer", "operator", "admin")  # each role may do what the ones before it may
ADMIN = "admin"
_SECRET_KEY = "jwt_secret"  # where versions before issue 14 kept the key, in the database
_log = logging.getLogger("edgeswarm.service")
# scrypt cost: about 16 MiB and a few tens of ms per hash.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


@dataclass(frozen=True)
class User:
    username: str
    role: str
    generation: int = 0  # the user's token generation when read; a token carries it (claim "gen")

    def has(self, role: str) -> bool:
        """True if this user's role is `role` or above it."""
        return USER_ROLES.index(self.role) >= USER_ROLES.index(role)


def hash_password(password: str, salt: bytes | None = None) -> tuple[bytes, bytes]:
    """(salt, hash) for `password`; a fresh random salt unless one is given."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    return salt, hashlib.scrypt(password.encode("utf-8"), salt=salt, **_SCRYPT)


@functools.cache
def _dummy() -> tuple[bytes, bytes]:
    return hash_password("no such user")


def authenticate(store: Store, username: str, password: str) -> User | None:
    """The user if the password matches, else None (same work either way)."""
    row = store.user(username)
    salt, expected = (row["salt"], row["password_hash"]) if row else _dummy()
    _, actual = hash_password(password, salt)
    if row is None or not hmac.compare_digest(actual, expected):
        return None
    return User(row["username"], row["role"], row["token_generation"])


def create_user(store: Store, username: str, password: str, role: str) -> bool:
    """Adds a user; False if the name is taken."""
    if role not in USER_ROLES:
        raise ValueError(f"role: {role!r} is not one of {', '.join(USER_ROLES)}")
    salt, digest = hash_password(password)
    return store.add_user(username, role, salt, digest)


def ensure_admin(store: Store, settings: Settings) -> str | None:
    """Makes sure the 'admin' user exists; returns a generated password to show once, else None.

    A password given in the settings (EDGESWARM_ADMIN_PASSWORD) always wins and is applied
    at every start; without one, a password is generated only when no admin exists yet.
    """
    existing = store.user(ADMIN)
    if settings.admin_password is not None:
        if existing is None:
            create_user(store, ADMIN, settings.admin_password, ADMIN)
        elif authenticate(store, ADMIN, settings.admin_password) is None:  # changed: earlier tokens revoked
            store.set_password(ADMIN, *hash_password(settings.admin_password))
        return None
    if existing is not None:
        return None
    password = secrets.token_urlsafe(12)
    create_user(store, ADMIN, password, ADMIN)
    return password


def announce_admin_password(password: str) -> None:
    print(
        f"edgeswarm: created user 'admin' with password {password} (shown once; "
        "set EDGESWARM_ADMIN_PASSWORD to choose it)",
        file=sys.stderr,
        flush=True,
    )


def key_file(settings: Settings) -> Path:
    """The JWT key file: settings.jwt_key_file, else `<db_path>.key`."""
    if settings.jwt_key_file is not None:
        return settings.jwt_key_file
    return settings.db_path.with_name(settings.db_path.name + ".key")


def signing_key(store: Store, settings: Settings) -> str:
    """The JWT key: settings.jwt_secret, else the key file (mode 0600), created once (tokens survive
    restarts). A key an older version kept in the database is moved into the file and removed from it,
    so a copy of the database alone cannot forge a token."""
    if settings.jwt_secret:
        return settings.jwt_secret
    path = key_file(settings)
    if path.exists():
        make_private(path)
        key = path.read_text(encoding="ascii").strip()
        if key:
            if store.pop_setting(_SECRET_KEY) is not None:
                _log.warning("removed the old JWT key from the database; %s holds the key", path)
            return key
    key = store.get_setting(_SECRET_KEY) or secrets.token_bytes(32).hex()
    _write_private(path, key)
    if store.pop_setting(_SECRET_KEY) is not None:
        _log.warning("moved the JWT key from the database into %s", path)
    return key


def _write_private(path: Path, text: str) -> None:
    # Written to a 0600 temporary file, then renamed: never readable by others, never half written.
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, PRIVATE_MODE)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(text + "\n")
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


def issue_token(key: str, user: User, minutes: int) -> str:
    now = datetime.now(timezone.utc)
    claims = {
        "sub": user.username,
        "role": user.role,
        "gen": user.generation,
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
    }
    return jwt.encode(claims, key, algorithm="HS256")


def decode_token(key: str, token: str) -> dict | None:
    """The token's claims if its signature and expiry are good, else None."""
    try:
        claims = jwt.decode(token, key, algorithms=["HS256"], options={"require": ["sub", "exp", "gen"]})
    except jwt.PyJWTError:
        return None
    gen = claims.get("gen")
    ok = isinstance(claims.get("sub"), str) and isinstance(gen, int) and not isinstance(gen, bool)
    return claims if ok else None


def user_from_token(store: Store, key: str, token: str) -> User | None:
    """The token's user as stored now: a deleted user's token stops working, the role is the current one,
    and a token of an earlier generation (issued before a password or role change) is refused."""
    claims = decode_token(key, token)
    if claims is None:
        return None
    row = store.user(claims["sub"])
    if row is None or row["token_generation"] != claims["gen"]:
        return None
    return User(row["username"], row["role"], row["token_generation"])


def change_password(store: Store, username: str, password: str) -> bool:
    """Sets a new password (fresh salt) and revokes the user's earlier tokens; False if no such user."""
    return store.set_password(username, *hash_password(password))


def change_role(store: Store, username: str, role: str) -> bool:
    """Sets a new role and revokes the user's earlier tokens; False if no such user."""
    if role not in USER_ROLES:
        raise ValueError(f"role: {role!r} is not one of {', '.join(USER_ROLES)}")
    return store.set_role(username, role)


_SUBJECT = "edgeswarm.token_subject"  # the scope key that keeps the answer for the layers below


def token_subject(scope: Scope) -> str | None:
    """The `sub` of the request's bearer token if its signature and expiry are good (no database), else None.
    Checked once per request: the rate limit, the request limits and the audit all ask."""
    if _SUBJECT in scope:
        return scope[_SUBJECT]
    subject = None
    key = getattr(getattr(scope.get("app"), "state", None), "jwt_key", None)
    for name, value in scope.get("headers", []):
        if name == b"authorization" and key:
            scheme, _, token = value.decode("latin-1").partition(" ")
            claims = decode_token(key, token.strip()) if scheme.lower() == "bearer" else None
            subject = str(claims["sub"]) if claims is not None else None
            break
    scope[_SUBJECT] = subject
    return subject
