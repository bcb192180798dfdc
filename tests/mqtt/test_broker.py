"""edgeswarm.mqtt.Broker against real paho-mqtt 2.x clients: delivery, retain, $SYS, auth and ACL, TLS,
persistent sessions across a restart, clean stop, and its one-line refusals."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from edgeswarm.mqtt import Broker, BrokerError, MosquittoNotFoundError, PortInUseError

WAIT_S = 5.0


def _gone(pid: int) -> bool:
    """True when no process (not even a zombie) has this pid."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.parametrize("qos", [0, 1, 2])
def test_publish_subscribe_round_trip(broker, peers, qos):
    subscriber, publisher = peers(broker, "sub"), peers(broker, "pub")
    assert not subscriber.connect().is_failure and not publisher.connect().is_failure
    assert subscriber.subscribe("edgeswarm/f/d1/telemetry", qos) == [
        mqtt.ReasonCode(mqtt.PacketTypes.SUBACK, identifier=qos)
    ]
    publisher.publish("edgeswarm/f/d1/telemetry", f"reading at qos {qos}".encode(), qos)
    subscriber.wait_for(lambda: len(subscriber.messages) == 1, "the message")
    (message,) = subscriber.messages
    assert (message.topic, message.payload, message.qos) == (
        "edgeswarm/f/d1/telemetry",
        f"reading at qos {qos}".encode(),
        qos,
    )


def test_retained_message_reaches_a_late_subscriber(broker, peers):
    publisher = peers(broker, "pub")
    publisher.connect()
    publisher.publish("edgeswarm/f/d1/status", b"online", 1, retain=True)
    late = peers(broker, "late")
    late.connect()
    late.subscribe("edgeswarm/f/+/status", 1)
    late.wait_for(lambda: late.messages, "the retained status")
    assert [(m.payload, m.retain) for m in late.messages] == [(b"online", True)]


def test_sys_topics_count_connected_clients(broker, peers):
    watcher = peers(broker, "watcher")
    watcher.connect()
    watcher.subscribe("$SYS/broker/clients/connected", 0)
    peers(broker, "second").connect()
    # $SYS is republished every sys_interval (1 s): the count comes to the two clients now connected
    # (the retained value first delivered may be older).
    watcher.wait_for(lambda: b"2" in watcher.payloads("$SYS/broker/clients/connected"), "$SYS count of 2")
    assert all(int(count) <= 2 for count in watcher.payloads("$SYS/broker/clients/connected"))


@pytest.mark.parametrize(
    ("username", "password"),
    [("dev-1", "wrong"), ("nobody", "pw-dev-1"), (None, None)],
    ids=["bad-password", "unknown-user", "anonymous"],
)
def test_bad_credentials_are_refused(auth_broker, peers, username, password):
    refused = peers(auth_broker, "intruder", username=username, password=password)
    reason = refused.connect()
    assert reason.is_failure, reason
    good = peers(auth_broker, "dev-1", username="dev-1", password=auth_broker.users["dev-1"])
    assert not good.connect().is_failure


def test_acl_a_device_publishes_only_under_its_own_topic(auth_broker, peers):
    users = auth_broker.users
    service = peers(auth_broker, "svc", username="svc", password=users["svc"])
    victim = peers(auth_broker, "dev-2", username="dev-2", password=users["dev-2"])
    device = peers(auth_broker, "dev-1", username="dev-1", password=users["dev-1"])
    for peer in (service, victim, device):
        assert not peer.connect().is_failure
    service.subscribe("edgeswarm/#", 1)
    victim.subscribe("edgeswarm/f/dev-2/#", 1)
    # Acknowledged (MQTT 3.1.1 cannot say "denied" in a PUBACK) but dropped by the broker: by the time the
    # second, allowed message arrives the first would have been delivered before it.
    device.publish("edgeswarm/f/dev-2/telemetry", b"spoofed", 1)
    device.publish("edgeswarm/f/dev-1/telemetry", b"own", 1)
    service.wait_for(lambda: service.payloads("edgeswarm/f/dev-1/telemetry"), "dev-1's own message")
    assert [(m.topic, m.payload) for m in service.messages] == [("edgeswarm/f/dev-1/telemetry", b"own")]
    service.publish("edgeswarm/f/dev-2/inbox", b"marker", 1)
    victim.wait_for(lambda: victim.payloads("edgeswarm/f/dev-2/inbox"), "the service's marker")
    assert [(m.topic, m.payload) for m in victim.messages] == [("edgeswarm/f/dev-2/inbox", b"marker")]


def test_acl_a_device_does_not_read_another_devices_topics(auth_broker, peers):
    users = auth_broker.users
    service = peers(auth_broker, "svc", username="svc", password=users["svc"])
    device = peers(auth_broker, "dev-1", username="dev-1", password=users["dev-1"])
    service.connect()
    device.connect()
    # Mosquitto 2.0 grants the SUBACK and checks read access per message at delivery.
    device.subscribe("edgeswarm/f/+/inbox", 1)
    service.publish("edgeswarm/f/dev-2/inbox", b"for dev-2", 1)
    service.publish("edgeswarm/f/dev-1/inbox", b"for dev-1", 1)
    device.wait_for(lambda: device.payloads("edgeswarm/f/dev-1/inbox"), "dev-1's own inbox")
    assert [(m.topic, m.payload) for m in device.messages] == [("edgeswarm/f/dev-1/inbox", b"for dev-1")]


def test_tls_client_with_the_generated_ca_connects(tls_broker, peers):
    assert tls_broker.url.startswith("mqtts://127.0.0.1:") and tls_broker.ca_file is not None
    trusted = peers(tls_broker, "trusted", ca_file=tls_broker.ca_file)
    assert not trusted.connect().is_failure
    trusted.subscribe("edgeswarm/f/d1/telemetry", 1)
    trusted.publish("edgeswarm/f/d1/telemetry", b"over tls", 1)
    trusted.wait_for(lambda: trusted.messages, "the message over TLS")
    assert trusted.payloads("edgeswarm/f/d1/telemetry") == [b"over tls"]


def test_tls_client_without_the_ca_is_refused(tls_broker):
    # paho leaves its socket open when the handshake fails (a ResourceWarning), so the refusal is shown
    # with the ssl module: a client that trusts only the system's CAs, then one that trusts ca_file.
    untrusted = ssl.create_default_context()
    with (
        socket.create_connection((tls_broker.host, tls_broker.port), timeout=WAIT_S) as raw,
        pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"),
    ):
        untrusted.wrap_socket(raw, server_hostname="127.0.0.1")
    trusted = ssl.create_default_context(cafile=str(tls_broker.ca_file))
    with (
        socket.create_connection((tls_broker.host, tls_broker.port), timeout=WAIT_S) as raw,
        trusted.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        assert tls.version() is not None


def test_persistent_session_gets_what_was_published_while_away_even_across_a_restart(broker, peers):
    topic = "edgeswarm/f/d1/inbox"
    first = peers(broker, "keeper", clean_session=False)
    first.connect()
    first.subscribe(topic, 1)
    first.close()
    publisher = peers(broker, "pub")
    publisher.connect()
    publisher.publish(topic, b"while away", 1)
    back = peers(broker, "keeper", clean_session=False)
    back.connect()
    assert back.session_present is True
    back.wait_for(lambda: back.payloads(topic), "the message queued while away")
    assert back.payloads(topic) == [b"while away"]
    back.close()

    publisher.publish(topic, b"before the restart", 1)
    publisher.close()
    port = broker.port
    broker.restart()  # SIGTERM: mosquitto writes its persistence file; the new one reads it
    assert broker.port == port
    after = peers(broker, "keeper", clean_session=False)
    after.connect()
    assert after.session_present is True
    after.wait_for(lambda: after.payloads(topic), "the message queued before the restart")
    assert after.payloads(topic) == [b"before the restart"]


def test_stop_leaves_no_process_and_keeps_the_log(tmp_path):
    broker = Broker(tmp_path / "run").start()
    pid = broker.pid
    assert pid is not None and not _gone(pid)
    broker.stop()
    assert _gone(pid) and not broker.running and broker.exit_code == 0
    assert "terminating" in broker.log_path.read_text()
    broker.stop()  # twice is harmless


def test_a_broker_never_stopped_is_stopped_when_python_exits(tmp_path):
    code = f"from edgeswarm.mqtt import Broker; print(Broker({str(tmp_path / 'run')!r}).start().pid)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    )
    pid = int(done.stdout.strip())
    assert _gone(pid), "mosquitto outlived the interpreter that started it"
    assert "terminating" in (tmp_path / "run" / "mosquitto.log").read_text()


def test_stop_kills_a_broker_that_ignores_sigterm(tmp_path):
    broker = Broker(tmp_path / "run", stop_timeout_s=0.5).start()
    pid = broker.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)  # a stopped process cannot act on SIGTERM; SIGKILL still ends it
    broker.stop()
    assert _gone(pid) and broker.exit_code == -signal.SIGKILL


def test_port_in_use_is_a_clear_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortInUseError, match=f"port: {port} is already in use"):
            Broker(tmp_path / "run", port=port).start()


def test_a_second_broker_on_the_same_port_is_refused(broker, tmp_path):
    with pytest.raises(PortInUseError):
        Broker(tmp_path / "second", port=broker.port).start()


def test_missing_mosquitto_is_one_line_naming_the_package(tmp_path):
    with pytest.raises(MosquittoNotFoundError) as refused:
        Broker(tmp_path / "run", mosquitto_path=tmp_path / "no-such-mosquitto")
    message = str(refused.value)
    assert "apt-get install mosquitto" in message and "\n" not in message
    assert not (tmp_path / "run").exists()  # refused before anything was written


def test_a_broker_that_exits_at_start_reports_its_last_lines(tmp_path):
    fake = tmp_path / "fake-mosquitto"
    fake.write_text("#!/bin/sh\necho 'Error: something the broker disliked'\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(BrokerError, match="exited with code 3.*something the broker disliked"):
        Broker(tmp_path / "run", mosquitto_path=fake).start()


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"port": -1}, "port"),
        ({"port": 65536}, "port"),
        ({"port": True}, "port"),
        ({"max_keepalive": 0}, "max_keepalive"),
        ({"sys_interval": 0}, "sys_interval"),
        ({"stop_timeout_s": float("nan")}, "stop_timeout_s"),
        ({"start_timeout_s": 0}, "start_timeout_s"),
        ({"tls": "yes"}, "tls"),
        ({"users": {"a/b": "pw"}}, "users"),
        ({"users": {"dev-1": ""}}, "users"),
        ({"users": {"dev-1": "pw"}, "service_users": {"svc"}}, "service_users"),
        ({"service_users": "svc"}, "service_users"),
    ],
)
def test_bad_arguments_name_the_parameter(tmp_path, options, name):
    with pytest.raises(ValueError, match=f"^{name}: "):
        Broker(tmp_path / "run", **options)


def test_run_dir_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="^run_dir: "):
        Broker(tmp_path / "file")


def test_cli_prints_the_url_serves_and_stops_on_sigterm(tmp_path, peers):
    run_dir = tmp_path / "cli-run"
    command = [sys.executable, "-c", "from edgeswarm.cli import main; raise SystemExit(main())"]
    with subprocess.Popen(
        [*command, "broker", "--user", "dev-1:pw-1", "--dir", str(run_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        _serve_and_stop(process, run_dir, peers)
    config = str(run_dir / "mosquitto.conf")
    still_running = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _cmdline(p).find(config) >= 0]
    assert still_running == []
    assert "terminating" in (run_dir / "mosquitto.log").read_text()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--user", "no-colon"], "argument --user: a value is not NAME:PASSWORD"),
        (["--user", "a b:pw"], "argument --user/--users: the name 'a b' is not allowed"),
        (["--user", "d:pw", "--service-user", "svc"], "argument --service-user: svc not in users"),
        (["--port", "65536"], "argument --port: 65536 is out of range"),
    ],
)
def test_cli_refuses_bad_options_in_one_line(arguments, message, capsys):
    from edgeswarm.cli import main

    try:
        code = main(["broker", *arguments])
    except SystemExit as exit_:  # argparse's own refusals
        code = exit_.code
    error = capsys.readouterr().err
    assert code == 2 and message in error and error.count("\n") == 1, error


def _serve_and_stop(process: subprocess.Popen[str], run_dir: Path, peers) -> None:
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # blocks until the broker is ready (or the CLI exits)
        assert line.startswith("mqtt://127.0.0.1:"), (line, process.stderr.read() if process.stderr else "")
        port = int(line.split()[0].rsplit(":", 1)[1])
        client = Broker(run_dir, port=port)  # only to address the running broker; never started
        device = peers(client, "dev-1", username="dev-1", password="pw-1")
        assert not device.connect().is_failure
        device.close()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=WAIT_S) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _cmdline(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_add_user_lets_a_new_user_in_without_a_restart(auth_broker, peers, broker):
    pid = auth_broker.pid
    auth_broker.add_user("dev-3", "pw-dev-3")
    assert auth_broker.pid == pid  # reloaded, not restarted
    newcomer = peers(auth_broker, "dev-3", username="dev-3", password="pw-dev-3")
    assert not newcomer.connect().is_failure
    with pytest.raises(BrokerError, match="no users"):
        broker.add_user("x", "y")
    with pytest.raises(ValueError):
        auth_broker.add_user("bad/name", "pw")
