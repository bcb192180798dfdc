"""A real Mosquitto broker on loopback, started from a generated config and stopped cleanly.

`Broker` writes ``mosquitto.conf`` (and, when asked, a password file, a per-device ACL and a TLS CA with
a server certificate) into a run folder, starts ``mosquitto -c mosquitto.conf`` on 127.0.0.1, waits
until the port accepts connections and, on `stop`, sends SIGTERM, waits, and kills only after a timeout.
The run folder keeps the broker's log and its persistence file, so a stopped broker can be started
again on the same folder and port and its QoS 1 sessions are still there.

    with Broker(users={"dev-1": "pw1", "svc": "pw2"}, service_users={"svc"}) as broker:
        print(broker.url)  # mqtt://127.0.0.1:<a free port>
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import ipaddress
import math
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Collection, Mapping
from pathlib import Path
from types import TracebackType
from typing import Self

HOST = "127.0.0.1"
ALL_INTERFACES = "0.0.0.0"  # bind=ALL_INTERFACES: reachable from other machines (a container)
MAX_INFLIGHT = 1000  # QoS 1/2 messages in flight to one client
MAX_QUEUED = 200_000  # QoS 1/2 messages queued for one client (a subscriber that lags, or is away)
TOPIC_ROOT = "edgeswarm"  # devices publish under edgeswarm/<fleet>/<device>/...
INSTALL_HINT = "apt-get install mosquitto"
# Debian puts the broker in /usr/sbin, which is not on a non-root user's PATH.
_SEARCH_DIRS = ("/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin")
# Mosquitto 2.x's password hash: PBKDF2-SHA512, 101 iterations, 12-byte salt ("$7$" in the file).
_PBKDF2_ITERATIONS = 101
_SALT_BYTES = 12
_USERNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
_MAX_USERNAME = 64
_LOG_TAIL_LINES = 15
_FREE_PORT_ATTEMPTS = 3


class BrokerError(RuntimeError):
    """The broker could not be started (or found); the message is one line saying why."""


class MosquittoNotFoundError(BrokerError):
    """No mosquitto executable: the message names the Debian package to install."""


class PortInUseError(BrokerError):
    """The requested port is already taken on 127.0.0.1."""


def find_mosquitto(mosquitto_path: str | os.PathLike[str] | None = None) -> Path:
    """The mosquitto executable: `mosquitto_path` if given, else on PATH or in the sbin folders."""
    if mosquitto_path is not None:
        candidate = Path(mosquitto_path)
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
        raise MosquittoNotFoundError(
            f"mosquitto not found at {str(candidate)!r}: install the Debian package ({INSTALL_HINT})"
        )
    found = shutil.which("mosquitto") or shutil.which("mosquitto", path=os.pathsep.join(_SEARCH_DIRS))
    if found is None:
        raise MosquittoNotFoundError(
            f"mosquitto is not installed (not on PATH nor in {', '.join(_SEARCH_DIRS)}): "
            f"install the Debian package ({INSTALL_HINT})"
        )
    return Path(found)


def free_port(host: str = HOST) -> int:
    """A TCP port on `host` (default 127.0.0.1) that nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def port_is_free(port: int, host: str = HOST) -> bool:
    """Whether mosquitto could bind `port` on `host` (default 127.0.0.1; it sets SO_REUSEADDR, so do we)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def password_hash(password: str, *, salt: bytes | None = None) -> str:
    """`password` in Mosquitto 2's password-file format ($7$: PBKDF2-SHA512), with a random salt.
    The salt is a secret's salt, not simulation randomness: it comes from the OS, never from a seed."""
    salt = secrets.token_bytes(_SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, _PBKDF2_ITERATIONS)
    return f"$7${_PBKDF2_ITERATIONS}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def _check_int(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name}: {value!r} is out of range; allowed integers [{low}, {high}]")
    return value


def _check_seconds(name: str, value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{name}: {value!r} is not allowed; allowed finite seconds > 0")
    return float(value)


def _check_bind(value: object) -> str:
    try:
        if not isinstance(value, str):
            raise ValueError
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise ValueError(
            f"bind: {value!r} is not allowed; allowed an IPv4 address of this machine "
            f"({HOST}: this machine only, {ALL_INTERFACES}: every interface)"
        ) from None


def _check_users(users: object, service_users: object) -> tuple[dict[str, str], frozenset[str]]:
    if users is None:
        users = {}
    if not isinstance(users, Mapping):
        raise ValueError(f"users: {type(users).__name__} is not allowed; allowed a mapping name -> password")
    checked: dict[str, str] = {}
    for name, password in users.items():
        if (
            not isinstance(name, str)
            or not 1 <= len(name) <= _MAX_USERNAME
            or not set(name) <= _USERNAME_CHARS
        ):
            # The name is a topic level in the ACL (%u) and a key in the password file.
            raise ValueError(
                f"users: the name {name!r} is not allowed; allowed 1 to {_MAX_USERNAME} characters "
                "of letters, digits, '_', '.' and '-'"
            )
        if not isinstance(password, str) or password == "" or any(c in password for c in "\n\r\0"):
            raise ValueError(
                f"users: the password of {name!r} is not allowed; allowed a non-empty string "
                "without line breaks or NUL"
            )
        checked[name] = password
    if isinstance(service_users, str) or not isinstance(service_users, Collection):
        raise ValueError(
            f"service_users: {service_users!r} is not allowed; allowed a collection of user names"
        )
    services = frozenset(service_users)
    unknown = sorted(str(name) for name in services - checked.keys())
    if unknown:
        raise ValueError(
            f"service_users: {', '.join(unknown)} not in users; allowed names among users ({len(checked)})"
        )
    return checked, services


def _run_openssl(args: list[str], cwd: Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise BrokerError(
            "tls=True needs the openssl command: install the Debian package (apt-get install openssl)"
        )
    result = subprocess.run([openssl, *args], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise BrokerError(f"openssl {args[0]} failed: {last}")


def generate_tls_files(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 / localhost signed by it, made with the openssl CLI
    (no network); returns (ca.crt, server.crt, server.key). Existing files are kept, so a restarted broker
    keeps the CA its clients trust."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_cert, server_cert, server_key = folder / "ca.crt", folder / "server.crt", folder / "server.key"
    if ca_cert.is_file() and server_cert.is_file() and server_key.is_file():
        return ca_cert, server_cert, server_key
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _run_openssl(
        ["req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "30",
         "-subj", "/CN=edgeswarm broker CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        folder,
    )  # fmt: skip
    _run_openssl(
        ["req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"], folder
    )
    (folder / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid,issuer\n"
    )
    _run_openssl(
        ["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
         "-out", "server.crt", "-days", "30", "-extfile", "server.ext"],
        folder,
    )  # fmt: skip
    for key in ("ca.key", "server.key"):
        (folder / key).chmod(0o600)
    return ca_cert, server_cert, server_key


class Broker:
    """One Mosquitto process on 127.0.0.1 with a generated config in `run_dir` (a new temporary folder
    when None). `port` 0 picks a free port at the first start and keeps it for later starts. `bind` is the
    address it listens on: 0.0.0.0 makes it reachable from other machines (a container's broker); `host`
    and `url` stay what a client on this machine connects to (127.0.0.1 for 0.0.0.0). The generated TLS
    certificate names only 127.0.0.1 and localhost.

    With `users` (name -> password) anonymous clients are refused and the ACL lets every user publish
    and subscribe only under ``edgeswarm/<fleet>/<its name>/#``; `service_users` read and write every
    topic, ``$SYS`` included. With `tls` the listener speaks TLS with a generated CA (`ca_file`).
    """

    def __init__(
        self,
        run_dir: str | os.PathLike[str] | None = None,
        *,
        port: int = 0,
        bind: str = HOST,
        users: Mapping[str, str] | None = None,
        service_users: Collection[str] = (),
        tls: bool = False,
        max_keepalive: int = 3600,
        sys_interval: int = 1,
        autosave_interval: int = 60,
        start_timeout_s: float = 10.0,
        stop_timeout_s: float = 5.0,
        mosquitto_path: str | os.PathLike[str] | None = None,
    ) -> None:
        self._requested_port = _check_int("port", port, 0, 65535)
        self.bind = _check_bind(bind)
        self.users, self.service_users = _check_users(users, service_users)
        if not isinstance(tls, bool):
            raise ValueError(f"tls: {tls!r} is not allowed; allowed True or False")
        self.tls = tls
        self.max_keepalive = _check_int("max_keepalive", max_keepalive, 1, 65535)
        self.sys_interval = _check_int("sys_interval", sys_interval, 1, 65535)  # 0 would turn $SYS off
        self.autosave_interval = _check_int("autosave_interval", autosave_interval, 1, 86400)
        self.start_timeout_s = _check_seconds("start_timeout_s", start_timeout_s)
        self.stop_timeout_s = _check_seconds("stop_timeout_s", stop_timeout_s)
        if run_dir is not None:
            if not isinstance(run_dir, (str, os.PathLike)) or str(run_dir) == "":
                raise ValueError(f"run_dir: {run_dir!r} is not allowed; allowed a folder path")
            if Path(run_dir).exists() and not Path(run_dir).is_dir():
                raise ValueError(f"run_dir: {str(run_dir)!r} is not a folder; allowed a folder path")
            if not Path(run_dir).exists() and not Path(run_dir).parent.is_dir():
                raise ValueError(
                    f"run_dir: the parent folder of {str(run_dir)!r} does not exist; allowed a folder "
                    "path whose parent exists"
                )
        self.executable = find_mosquitto(mosquitto_path)  # fails here, before any file is written
        self.run_dir = Path(tempfile.mkdtemp(prefix="edgeswarm-broker-") if run_dir is None else run_dir)
        self.config_path = self.run_dir / "mosquitto.conf"
        self.log_path = self.run_dir / "mosquitto.log"
        self.output_path = self.run_dir / "mosquitto.out"  # what mosquitto prints before its log opens
        self.ca_file: Path | None = None
        self._port: int | None = self._requested_port or None
        self._process: subprocess.Popen[bytes] | None = None
        self.exit_code: int | None = None  # of the last stopped process (-9: it had to be killed)

    # --- what clients need -------------------------------------------------------------------------
    @property
    def host(self) -> str:
        """The address a client on this machine connects to: `bind`, or 127.0.0.1 when bound to every
        interface."""
        return HOST if self.bind == ALL_INTERFACES else self.bind

    @property
    def port(self) -> int:
        """The listening port (known once the broker has been started, or when one was given)."""
        if self._port is None:
            raise BrokerError("port: not chosen yet; start() the broker first")
        return self._port

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> list[str]:
        """The last `lines` lines of the broker's output and log (for error messages)."""
        text = []
        for path in (self.output_path, self.log_path):
            if path.is_file():
                text += path.read_text(errors="replace").splitlines()
        return text[-lines:]

    # --- the generated files -----------------------------------------------------------------------
    def _write_auth_files(self) -> list[str]:
        if not self.users:
            return ["allow_anonymous true"]
        password_file, acl_file = self.run_dir / "passwords", self.run_dir / "acl"
        password_file.write_text("".join(f"{name}:{password_hash(pw)}\n" for name, pw in self.users.items()))
        password_file.chmod(0o600)
        acl = [
            "# Every user: publish and subscribe only under its own name, edgeswarm/<fleet>/<user>/#.",
            f"pattern readwrite {TOPIC_ROOT}/+/%u/#",
        ]
        for name in sorted(self.service_users):
            acl += [
                "",
                f"# {name}: a service user, reads and writes every topic and reads $SYS.",
                f"user {name}",
            ]
            acl += ["topic readwrite #", "topic read $SYS/#"]
        acl_file.write_text("\n".join(acl) + "\n")
        acl_file.chmod(0o600)
        return ["allow_anonymous false", f"password_file {password_file}", f"acl_file {acl_file}"]

    def _write_config(self, port: int) -> None:
        persistence = self.run_dir / "persistence"
        persistence.mkdir(exist_ok=True)
        lines = [
            "# Written by edgeswarm.mqtt.broker; regenerated at every start.",
            # Started as root, mosquitto would switch to the 'mosquitto' user, who cannot write here.
            f"user {pwd.getpwuid(os.geteuid()).pw_name}",
            f"max_keepalive {self.max_keepalive}",
            f"sys_interval {self.sys_interval}",
            "persistence true",
            f"persistence_location {persistence}/",  # mosquitto wants the trailing slash
            f"autosave_interval {self.autosave_interval}",
            # Without it the broker's second small packet to a client waits ~40 ms for the delayed
            # ACK of the first (Nagle): every fleet latency figure would carry that.
            "set_tcp_nodelay true",
            # A fleet's collector takes 10,000 QoS 1 messages a second: with Mosquitto's defaults
            # (20 in flight, 1,000 queued per client) a burst overflows its queue and the broker
            # drops messages it has already acknowledged to their senders. Bounded, but large.
            f"max_inflight_messages {MAX_INFLIGHT}",
            f"max_queued_messages {MAX_QUEUED}",
            f"log_dest file {self.log_path}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "log_timestamp_format %Y-%m-%dT%H:%M:%S",
            "connection_messages true",
            *self._write_auth_files(),
            "",
            f"listener {port} {self.bind}",
        ]
        if self.tls:
            ca, cert, key = generate_tls_files(self.run_dir / "tls")
            self.ca_file = ca
            lines += [f"cafile {ca}", f"certfile {cert}", f"keyfile {key}"]
        self.config_path.write_text("\n".join(lines) + "\n")

    # --- life cycle --------------------------------------------------------------------------------
    def start(self) -> Self:
        """Write the config, start mosquitto and return once its port accepts connections."""
        if self.running:
            return self
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if self._port is not None:
            return self._start_on(self._port)
        for _ in range(_FREE_PORT_ATTEMPTS - 1):
            try:  # another process may take the free port between the pick and mosquitto's bind
                return self._start_on(free_port(self.bind))
            except PortInUseError:
                self._port = None
        return self._start_on(free_port(self.bind))

    def _start_on(self, port: int) -> Self:
        if not port_is_free(port, self.bind):
            raise PortInUseError(
                f"port: {port} is already in use on {self.bind}; choose another or 0 for a free one"
            )
        self._write_config(port)
        with self.output_path.open("ab") as output:
            self._process = subprocess.Popen(
                [str(self.executable), "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in a terminal reaches us, and we stop the broker
            )
        atexit.register(self.stop)  # a broker left running would outlive the interpreter (own session)
        self._port = port
        self._wait_ready(port)
        return self

    def _wait_ready(self, port: int) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.start_timeout_s
        while True:
            code = self._process.poll()
            if code is not None:
                self._process = None
                tail = self.log_tail()
                text = " | ".join(line.strip() for line in tail) or "no output"
                error = PortInUseError if "Address already in use" in text else BrokerError
                raise error(f"mosquitto exited with code {code} at start; last lines: {text}")
            try:
                with socket.create_connection((self.host, port), timeout=0.2):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise BrokerError(
                    f"mosquitto did not accept connections on {self.host}:{port} within "
                    f"{self.start_timeout_s} s; "
                    f"last lines: {' | '.join(self.log_tail()) or 'no output'}"
                )
            time.sleep(0.02)  # a poll interval under a deadline, not a wait for readiness

    def stop(self) -> None:
        """SIGTERM (mosquitto saves its persistence file and exits), then SIGKILL after stop_timeout_s;
        the process is always reaped. Safe to call twice."""
        process, self._process = self._process, None
        if process is None:
            return
        atexit.unregister(self.stop)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=self.stop_timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.exit_code = process.wait()

    def add_user(self, name: str, password: str) -> None:
        """Adds (or re-keys) a user of a running broker: rewrites the password file and asks
        mosquitto to reload it (SIGHUP), then waits (bounded) until its log says it reloaded."""
        if not self.users:
            raise BrokerError(
                "add_user: this broker has no users (anonymous); start it with users= to add more"
            )
        self.users, _ = _check_users({**self.users, name: password}, self.service_users)
        self._write_auth_files()
        if self._process is None or self._process.poll() is not None:
            return  # read at the next start
        before = self._reloads()
        self._process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + self.start_timeout_s
        while self._reloads() == before:
            if time.monotonic() > deadline:
                raise BrokerError(f"add_user: mosquitto did not reload within {self.start_timeout_s} s")
            time.sleep(0.01)  # a poll interval under a deadline

    def _reloads(self) -> int:
        try:
            return self.log_path.read_text(errors="replace").count("Reloading config")
        except OSError:
            return 0

    def restart(self) -> Self:
        """Stop and start again on the same folder and port (persistent sessions survive)."""
        self.stop()
        return self.start()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self._port is not None else "no port yet"
        return f"Broker({where}, run_dir={str(self.run_dir)!r}, running={self.running})"
