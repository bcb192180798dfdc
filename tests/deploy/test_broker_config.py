"""The broker ConfigMap's mosquitto.conf: the settings edgeswarm.mqtt.Broker generates, and a config the
real Mosquitto runs (on loopback and a free port here, on 0.0.0.0:1883 in the pod)."""

from __future__ import annotations

import os
import pwd
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import yaml
from edgeswarm.mqtt import Broker, find_mosquitto, free_port

from tests.deploy.manifests import K8S
from tests.mqtt.conftest import Peer

WAIT_S = 5.0
# Directives that differ from Broker's generated config on purpose.
DIFFERENT_IN_THE_POD = {
    "user": "the image's user edgeswarm; Broker names the current one",
    "persistence_location": "a volume of the pod instead of the run folder",
    "log_dest": "stdout, for kubectl logs, instead of the run folder's mosquitto.log",
    "listener": "0.0.0.0:1883 instead of 127.0.0.1 and a free port",
}


def _config_map_text() -> str:
    documents = yaml.safe_load_all((K8S / "broker.yaml").read_text())
    (config_map,) = [d for d in documents if d["kind"] == "ConfigMap"]
    return config_map["data"]["mosquitto.conf"]


def _directives(text: str) -> list[tuple[str, str]]:
    lines = [line.strip() for line in text.splitlines()]
    return [(line.split(None, 1)[0], line.split(None, 1)[1]) for line in lines if line and line[0] != "#"]


def test_the_configmap_has_the_settings_of_the_generated_config(tmp_path):
    with Broker(tmp_path / "generated") as broker:
        generated = _directives(broker.config_path.read_text())
    in_the_pod = _directives(_config_map_text())
    assert [d for d in in_the_pod if d[0] not in DIFFERENT_IN_THE_POD] == [
        d for d in generated if d[0] not in DIFFERENT_IN_THE_POD
    ]
    assert {key for key, _ in in_the_pod if key in DIFFERENT_IN_THE_POD} == set(DIFFERENT_IN_THE_POD)


def _on_loopback(text: str, port: int, data: Path) -> str:
    """The ConfigMap's config with only its listener and persistence folder moved, and this test's user
    (started as root, mosquitto would switch to edgeswarm, a user this machine has not): each once."""
    replaced = text
    for old, new in (
        ("user edgeswarm\n", f"user {pwd.getpwuid(os.geteuid()).pw_name}\n"),
        ("listener 1883 0.0.0.0\n", f"listener {port} 127.0.0.1\n"),
        ("persistence_location /var/lib/edgeswarm/mosquitto/\n", f"persistence_location {data}/\n"),
    ):
        assert replaced.count(old) == 1, old
        replaced = replaced.replace(old, new)
    return replaced


def _wait_for_port(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + WAIT_S
    while process.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                break
            time.sleep(0.02)  # a poll interval under a deadline
    raise AssertionError(f"mosquitto (exit {process.poll()}) did not listen on {port} within {WAIT_S} s")


def test_mosquitto_runs_the_configmap_config(tmp_path):
    port, data = free_port(), tmp_path / "data"
    data.mkdir()
    config, output = tmp_path / "mosquitto.conf", tmp_path / "stdout.log"
    config.write_text(_on_loopback(_config_map_text(), port, data))
    with output.open("wb") as log:
        process = subprocess.Popen(
            [str(find_mosquitto()), "-c", str(config)], stdout=log, stderr=subprocess.STDOUT
        )
    peers: list[Peer] = []
    try:
        _wait_for_port(process, port)
        address = Broker(tmp_path / "address", port=port)  # only to address it; never started
        publisher, subscriber = Peer(address, "shard-0"), Peer(address, "receiver")
        peers += [publisher, subscriber]
        assert not publisher.connect().is_failure and not subscriber.connect().is_failure
        publisher.publish("edgeswarm/k8s/d0/status", b"online", 1, retain=True)
        subscriber.subscribe("edgeswarm/k8s/+/status", 1)
        subscriber.subscribe("$SYS/broker/clients/connected", 0)  # sys_interval 1: within a second or two
        subscriber.wait_for(lambda: subscriber.payloads("edgeswarm/k8s/d0/status") == [b"online"], "status")
        subscriber.wait_for(lambda: subscriber.payloads("$SYS/broker/clients/connected") != [], "$SYS")
    finally:
        for peer in peers:
            peer.close()
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=WAIT_S)
    assert code == 0
    assert (data / "mosquitto.db").is_file()  # persistence went to the volume's folder, saved at SIGTERM
    log = output.read_text()
    assert "mosquitto version 2" in log and f"listen socket on port {port}" in log, log


def test_the_configs_user_is_the_images_user():
    (user,) = [value for key, value in _directives(_config_map_text()) if key == "user"]
    dockerfile = (K8S.parent / "Dockerfile").read_text()
    assert re.search(rf"useradd .* {re.escape(user)}$", dockerfile, re.MULTILINE), user
