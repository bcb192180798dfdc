"""Broker(bind=...) and `edgeswarm broker --bind`: the address the listener binds (0.0.0.0 in a container),
while clients on this machine keep connecting through 127.0.0.1."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from edgeswarm.mqtt import Broker, PortInUseError

_LISTEN = "0A"  # TCP state LISTEN in /proc/net/tcp


def _listening_addresses(port: int) -> set[str]:
    """The IPv4 addresses with a socket listening on `port`, read from /proc/net/tcp (hex, little endian)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, port_hex = local.split(":")
        if state == _LISTEN and int(port_hex, 16) == port:
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


def _listener_line(broker: Broker) -> str:
    (line,) = [text for text in broker.config_path.read_text().splitlines() if text.startswith("listener ")]
    return line


def test_default_listens_on_loopback_only(tmp_path):
    with Broker(tmp_path / "run") as broker:
        assert broker.bind == broker.host == "127.0.0.1"
        assert _listener_line(broker) == f"listener {broker.port} 127.0.0.1"
        assert _listening_addresses(broker.port) == {"127.0.0.1"}


def test_bind_all_interfaces_listens_on_0000_and_clients_use_loopback(tmp_path, peers):
    with Broker(tmp_path / "run", bind="0.0.0.0") as broker:
        assert _listener_line(broker) == f"listener {broker.port} 0.0.0.0"
        assert _listening_addresses(broker.port) == {"0.0.0.0"}
        assert broker.host == "127.0.0.1" and broker.url == f"mqtt://127.0.0.1:{broker.port}"
        subscriber, publisher = peers(broker, "sub"), peers(broker, "pub")
        assert not subscriber.connect().is_failure and not publisher.connect().is_failure
        subscriber.subscribe("edgeswarm/f/d1/telemetry", 1)
        publisher.publish("edgeswarm/f/d1/telemetry", b"through 0.0.0.0", 1)
        subscriber.wait_for(lambda: len(subscriber.messages) == 1, "the message")
        assert subscriber.messages[0].payload == b"through 0.0.0.0"


def test_bind_all_interfaces_refuses_a_port_taken_on_loopback(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        broker = Broker(tmp_path / "run", port=port, bind="0.0.0.0")
        with pytest.raises(PortInUseError, match=f"^port: {port} is already in use on 0.0.0.0"):
            broker.start()
        assert not broker.running


@pytest.mark.parametrize("bind", ["localhost", "::1", "256.0.0.1", "", 127, None])
def test_bad_bind_is_refused_naming_the_parameter(tmp_path, bind):
    with pytest.raises(ValueError, match=r"^bind: .* allowed an IPv4 address"):
        Broker(tmp_path / "run", bind=bind)


def test_cli_bind_says_where_it_listens_and_stops_on_sigterm(tmp_path):
    command = [sys.executable, "-c", "from edgeswarm.cli import main; raise SystemExit(main())"]
    with subprocess.Popen(
        [*command, "broker", "--bind", "0.0.0.0", "--dir", str(tmp_path / "run")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()  # blocks until the broker is ready (or the CLI exits)
            url = line.split()[0]
            port = int(url.rsplit(":", 1)[1])
            assert url == f"mqtt://127.0.0.1:{port}" and f"listening on 0.0.0.0:{port};" in line, line
            assert _listening_addresses(port) == {"0.0.0.0"}
            client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="cli-bind")
            assert client.connect("127.0.0.1", port) == mqtt.MQTT_ERR_SUCCESS
            client.disconnect()
        finally:
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=10)
    assert code == 0
    assert _listening_addresses(port) == set()


def test_cli_refuses_a_bad_bind_in_one_line(capsys):
    from edgeswarm.cli import main

    code = main(["broker", "--bind", "every"])
    error = capsys.readouterr().err
    assert code == 2 and "argument --bind: 'every' is not allowed" in error and error.count("\n") == 1, error
