"""Swarm consensus over a real Mosquitto broker (edgeswarm.mqtt.swarm_gossip): bit-identical to the
in-process engine when nothing is lost, and with seeded faults the losses are counted, the epoch goes
on, and the run equals the in-process engine given the same seeded delivery mask."""

from __future__ import annotations

import numpy as np
import pandas.testing as pdt
import pytest
from edgeswarm import Swarm, _core, net
from edgeswarm.mqtt.broker_url import parse_broker_url
from edgeswarm.mqtt.faults import DeviceFaults, LinkFaults
from edgeswarm.mqtt.swarm_gossip import COUNTERS, MqttGossip, run_over_mqtt

DEADLINE_MS = 5000.0  # generous: a fault-free epoch ends as soon as everything has arrived


def attacked_swarm(topology: str, n_nodes: int = 24, byzantine: int = 4, seed: int = 11) -> Swarm:
    swarm = Swarm(n_nodes, topology=topology, seed=seed, history=None)
    swarm.inject_byzantine(byzantine, bias=0.9)
    return swarm


@pytest.mark.parametrize(
    ("topology", "n_nodes"), [("ring", 50), ("k_regular", 24), ("torus", 25), ("complete", 50)]
)
def test_fault_free_broker_gives_the_in_process_history_bit_for_bit(broker, topology, n_nodes):
    reference = attacked_swarm(topology, n_nodes)
    expected = reference.run(12)
    swarm = attacked_swarm(topology, n_nodes)
    result = run_over_mqtt(swarm, 12, broker, deadline_ms=DEADLINE_MS)
    pdt.assert_frame_equal(result.metrics, expected)
    assert swarm.state_hash() == reference.state_hash()
    gossip = result.gossip
    assert list(gossip.columns) == list(COUNTERS)
    assert gossip["epoch"].tolist() == list(range(1, 13))
    assert (gossip["delivered"] == gossip["expected"]).all()
    assert (gossip["expected"] > 0).all()
    for name in ("late", "send_dropped", "receive_dropped", "malformed", "duplicates", "stale"):
        assert gossip[name].sum() == 0, name
    # Every awake node with a valid reading published exactly one message per epoch.
    assert gossip["sent"].tolist() == expected["awake"].tolist()


def seeded_send_loss_mask(faults: LinkFaults, seed: int):
    """The delivery the MQTT gossip must produce under send loss alone, computed in-process: a link
    is delivered when its sender's message survived its seeded send draw (node order, one draw per
    message the node sends)."""
    streams: dict[int, DeviceFaults] = {}

    def deliver(swarm: Swarm) -> np.ndarray:
        survived = set()
        for node in swarm.outgoing_messages()["node"].tolist():
            stream = streams.setdefault(node, DeviceFaults(faults, seed=seed, device=node))
            if stream.next_send().delays_ms:
                survived.add(node)
        senders = swarm.gossip_links()["sender"]
        return np.isin(senders, sorted(survived))

    return deliver


@pytest.mark.parametrize("topology", ["ring", "complete"])
def test_seeded_send_loss_is_counted_and_equals_the_same_loss_in_process(broker, topology):
    faults = LinkFaults(send_loss=0.3)
    reference = attacked_swarm(topology, 20, 3)
    expected = reference.run(10, deliver=seeded_send_loss_mask(faults, seed=5))
    swarm = attacked_swarm(topology, 20, 3)
    result = run_over_mqtt(swarm, 10, broker, faults=faults, seed=5, deadline_ms=DEADLINE_MS)
    pdt.assert_frame_equal(result.metrics, expected)  # every epoch ran, with exactly the seeded losses
    gossip = result.gossip
    assert len(gossip) == 10
    assert gossip["send_dropped"].sum() > 0
    assert (gossip["sent"] + gossip["send_dropped"] == expected["awake"]).all()
    assert (gossip["delivered"] < gossip["expected"]).any()
    assert gossip["late"].sum() == 0  # no latency: whatever survived arrived in time
    # The loss changed the run: it is not the fault-free history.
    fault_free = attacked_swarm(topology, 20, 3).run(10)
    assert not np.array_equal(fault_free["consensus"].to_numpy(), expected["consensus"].to_numpy())


def test_receive_loss_and_duplicates_are_counted_and_reproducible(broker):
    faults = LinkFaults(receive_loss=0.25, duplicate=0.3)
    runs = []
    for name in ("first", "second"):
        swarm = attacked_swarm("ring", 16, 2)
        runs.append(
            run_over_mqtt(swarm, 8, broker, faults=faults, seed=9, deadline_ms=DEADLINE_MS, name=name)
        )
    first, second = runs
    pdt.assert_frame_equal(first.metrics, second.metrics)
    counts = [c for c in COUNTERS if c != "wait_ms"]
    pdt.assert_frame_equal(first.gossip[counts], second.gossip[counts])
    gossip = first.gossip
    assert gossip["receive_dropped"].sum() > 0
    assert gossip["duplicates"].sum() > 0
    assert gossip["late"].sum() == 0
    assert (gossip["delivered"] <= gossip["expected"]).all()
    assert (gossip["delivered"] < gossip["expected"]).any()


def test_messages_later_than_the_deadline_are_late_then_stale_and_the_epochs_go_on(broker):
    # Every copy is published 150 ms after its epoch began, long after the 30 ms deadline.
    faults = LinkFaults(latency=net.LatencyModel.fixed(150.0))
    swarm = attacked_swarm("ring", 12, 2)
    result = run_over_mqtt(swarm, 8, broker, faults=faults, deadline_ms=30.0)
    gossip = result.gossip
    assert len(result.metrics) == 8 and swarm.epoch == 8
    assert (gossip["delivered"] == 0).all()
    assert (gossip["late"] == gossip["expected"]).all()
    assert gossip["stale"].sum() > 0  # the old epochs' messages arrive during later ones, unused
    # Nothing delivered in time: the run is the in-process one with every link lost.
    reference = attacked_swarm("ring", 12, 2)
    expected = reference.run(8, deliver=lambda s: np.zeros(s.link_count, dtype=bool))
    pdt.assert_frame_equal(result.metrics, expected)


def test_malformed_and_impersonating_payloads_are_counted_and_never_used(broker, peers):
    reference = attacked_swarm("ring", 12, 2)
    expected = reference.run(5)
    swarm = attacked_swarm("ring", 12, 2)
    with MqttGossip(swarm, broker, deadline_ms=DEADLINE_MS) as gossip:
        intruder = peers(broker, "intruder")
        intruder.connect()
        topic = "edgeswarm/swarm/3/gossip"  # heard by nodes 2 and 4
        intruder.publish(topic, b"\x00\x01 not a wire message", qos=1)
        forged = _core.encode_message(5, 0, np.array([0], dtype=np.int32))
        intruder.publish(topic, forged, qos=1)  # valid CRC, but node 5's id on node 3's topic
        truncated = _core.encode_message(3, 0, np.array([123], dtype=np.int32))[:-1]
        intruder.publish(topic, truncated, qos=1)
        metrics = swarm.run(5, deliver=gossip)
        counts = gossip.gossip_frame()
    pdt.assert_frame_equal(metrics, expected)
    assert counts["malformed"].tolist() == [6, 0, 0, 0, 0]  # three payloads, two receivers each
    assert (counts["delivered"] == counts["expected"]).all()


def test_a_deliver_that_fails_ends_the_epoch_with_nothing_delivered():
    swarm = attacked_swarm("ring", 8, 1)

    def broken(_swarm: Swarm) -> np.ndarray:
        raise ConnectionError("broker gone")

    with pytest.raises(ConnectionError):
        swarm.run(3, deliver=broken)
    assert not swarm.in_epoch and swarm.epoch == 1
    assert len(swarm.history()) == 1
    swarm.run(2)  # still usable


def test_bad_arguments_name_the_parameter():
    broker = "mqtt://127.0.0.1:1883"  # arguments are checked before anything connects
    swarm = Swarm(8, topology="ring", seed=1)
    cases = [
        ({"broker": "http://127.0.0.1:1883"}, "broker"),
        ({"broker": "mqtt://127.0.0.1:99999"}, "broker"),
        ({"broker": 1883}, "broker"),
        ({"deadline_ms": 0}, "deadline_ms"),
        ({"deadline_ms": float("nan")}, "deadline_ms"),
        ({"qos": 3}, "qos"),
        ({"qos": True}, "qos"),
        ({"faults": "loss"}, "faults"),
        ({"seed": -1}, "seed"),
        ({"name": "a/b"}, "name"),
        ({"name": ""}, "name"),
        ({"connect_timeout_s": 0}, "connect_timeout_s"),
    ]
    for options, name in cases:
        arguments = {"broker": broker, **options}
        with pytest.raises(ValueError, match=f"^{name}:"):
            MqttGossip(swarm, **arguments)
    with pytest.raises(ValueError, match="^swarm:"):
        MqttGossip("not a swarm", broker)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="^broker:"):
        MqttGossip(swarm, "mqtt://127.0.0.1")
    with pytest.raises(ValueError, match="^epochs:"):
        run_over_mqtt(swarm, -1, broker)
    with pytest.raises(ValueError, match="^broker:"):
        parse_broker_url("mqtt://host")
    assert parse_broker_url("mqtt://localhost:1883") == ("localhost", 1883, False)
    assert parse_broker_url("mqtts://[::1]:8883") == ("::1", 8883, True)
    with pytest.raises(ValueError, match="^deliver:"):
        swarm.run(1, deliver=3)  # type: ignore[arg-type]


def test_the_split_epoch_checks_its_mask(broker):
    swarm = Swarm(8, topology="ring", seed=1)
    links = swarm.gossip_links()
    assert len(links["sender"]) == swarm.link_count == 16
    with pytest.raises(ValueError, match="^delivered:"):
        swarm.run(1, deliver=lambda _swarm: np.ones(3, dtype=bool))
    assert not swarm.in_epoch  # the failed epoch was closed with nothing delivered
    with pytest.raises(ValueError, match="^delivered:"):
        swarm.run(1, deliver=lambda s: np.ones(s.link_count, dtype=np.int64))
    with pytest.raises(RuntimeError, match="no epoch under way"):
        swarm.finish_epoch(np.ones(16, dtype=bool))
    centralised = Swarm(8, seed=1)
    assert set(centralised.gossip_links()["receiver"].tolist()) == {_core.HUB_ID}
    with MqttGossip(swarm, broker) as gossip, pytest.raises(RuntimeError, match="no epoch under way"):
        gossip(swarm)


def test_a_broker_that_refuses_the_nodes_fails_the_connect_with_its_reason(auth_broker):
    swarm = Swarm(6, topology="ring", seed=1)
    gossip = MqttGossip(swarm, auth_broker, connect_timeout_s=5.0)
    with pytest.raises(ConnectionError, match="refused"):
        gossip.connect()
    gossip.close()  # closed already by the failed connect: a no-op


@pytest.mark.parametrize("qos", [1, 2])
def test_fault_free_at_qos_1_and_2_is_bit_identical_too(broker, qos):
    reference = attacked_swarm("ring", 12, 2)
    expected = reference.run(6)
    swarm = attacked_swarm("ring", 12, 2)
    result = run_over_mqtt(swarm, 6, broker, qos=qos, deadline_ms=DEADLINE_MS)
    pdt.assert_frame_equal(result.metrics, expected)
    assert (result.gossip["delivered"] == result.gossip["expected"]).all()


def test_the_command_line_runs_the_gossip_over_the_broker(broker, capsys):
    from edgeswarm.cli import main

    arguments = ["run", "--nodes", "24", "--topology", "ring", "--byzantine", "3", "--epochs", "6", "--quiet"]
    assert main(arguments) == 0
    in_process = capsys.readouterr().out
    assert main([*arguments, "--gossip", broker.url, "--gossip-deadline-ms", str(DEADLINE_MS)]) == 0
    over_mqtt = capsys.readouterr().out
    hash_line = [line for line in in_process.splitlines() if line.startswith("state hash:")]
    assert hash_line and hash_line[0] in over_mqtt.splitlines()
    # 24 nodes, each hearing its 2 ring neighbours, for 6 epochs (every node awake: sentinel fraction 1).
    assert (
        "gossip over MQTT: 288 of 288 reports delivered, 0 dropped on send, 0 late, 0 malformed" in over_mqtt
    )
    with pytest.raises(SystemExit):
        main([*arguments, "--gossip-loss", "0.1"])  # faults need an MQTT transport
    assert "argument --gossip-loss" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*arguments, "--gossip", "mqtt://nohost"])
    assert "argument --gossip" in capsys.readouterr().err


def test_sleeping_nodes_neither_send_nor_wait_and_the_history_stays_bit_identical(broker):
    def sleepy() -> Swarm:
        swarm = Swarm(30, topology="ring", seed=4, history=None, sentinel_fraction=0.2, invalid_rate=0.05)
        swarm.inject_byzantine(3)
        return swarm

    expected = sleepy().run(20)
    assert (expected["awake"] < 30).any()  # the TWT schedule put nodes to sleep
    assert expected["invalid"].sum() > 0  # and some readings were NaN (no report sent)
    result = run_over_mqtt(sleepy(), 20, broker, deadline_ms=DEADLINE_MS)
    pdt.assert_frame_equal(result.metrics, expected)
    gossip = result.gossip
    assert (gossip["sent"] == expected["awake"] - expected["invalid"]).all()
    assert (gossip["delivered"] == gossip["expected"]).all()
    assert (gossip["expected"] < 2 * 30).any()
