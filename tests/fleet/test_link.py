"""DeviceLink: the fleet's uplinks on the bound net/ link model (signal-dependent loss and latency)."""

from __future__ import annotations

import math

import numpy as np
from edgeswarm import _seeds, net
from edgeswarm.fleet.link import DeviceLink, LinkOptions

O = LinkOptions()


def send_all(link: DeviceLink, dbm: float, n: int, online: bool = True) -> list[dict]:
    rows = np.arange(n) % len(link)
    return link.send(rows, np.full(n, dbm), np.full(n, online), 0.0)


def within_binomial(k: int, trials: int, p: float) -> bool:
    return abs(k - trials * p) <= 5 * math.sqrt(trials * p * (1 - p))


def test_loss_and_latency_worsen_as_the_signal_weakens() -> None:
    n = 20_000
    for dbm, w in ((O.good_dbm, 0.0), ((O.good_dbm + O.offline_dbm) / 2, 0.5), (O.offline_dbm, 1.0)):
        out = send_all(DeviceLink(10, seed=3), dbm, n)
        lost = sum(o["status"] == "dropped_loss" for o in out)
        assert within_binomial(lost, n, O.base_loss + (O.weak_loss - O.base_loss) * w), dbm
        latency = np.array([o["latency_ms"] for o in out if o["status"] == "in_flight"])
        low = O.base_latency_ms + O.weak_latency_ms * w
        assert latency.min() >= low - 1e-9 and latency.max() < low + O.jitter_ms
        assert abs(latency.mean() - (low + O.jitter_ms / 2)) < 1.0


def test_draws_are_the_net_models_on_the_uplink_stream() -> None:
    # The link is LinkRules(uniform base + jitter) with the signal's loss and extra latency per message.
    dbm = np.array([-50.0, -70.0, -80.0, -95.0, -100.0])
    w = np.clip((O.good_dbm - dbm) / (O.good_dbm - O.offline_dbm), 0, 1)
    out = DeviceLink(5, seed=11).send(np.arange(5), dbm, np.ones(5, bool), 0.0)
    rules = net.LinkRules(
        latency=net.LatencyModel.uniform(O.base_latency_ms, O.base_latency_ms + O.jitter_ms - 0.001)
    )
    f = rules.draw(
        5,
        seed=11,
        stream=_seeds.stream(_seeds.UPLINK, 0),
        loss=O.base_loss + (O.weak_loss - O.base_loss) * w,
        extra_delay_ms=O.weak_latency_ms * w,
    )
    assert [o["status"] == "dropped_loss" for o in out] == f.lost.tolist()
    assert [o["latency_ms"] for o in out if o["latency_ms"] is not None] == f.delay_ms[~f.lost].tolist()


def test_offline_devices_drop_at_once_without_shifting_the_others() -> None:
    dbm = np.full(6, -70.0)
    online = np.array([True, False, True, True, False, True])
    a = DeviceLink(6, seed=5).send(np.arange(6), dbm, online, 0.0)
    b = DeviceLink(6, seed=5).send(np.flatnonzero(online), dbm[online], online[online], 0.0)
    assert [o["status"] for o in a if o["status"] != "dropped_offline"] == [o["status"] for o in b]
    assert [a[i]["status"] for i in (1, 4)] == ["dropped_offline", "dropped_offline"]
    assert [o["latency_ms"] for o in a if o["latency_ms"]] == [o["latency_ms"] for o in b if o["latency_ms"]]


def test_same_seed_same_outcomes_other_seed_others() -> None:
    def run(seed: int) -> list[dict]:
        link = DeviceLink(50, seed=seed)
        return [send_all(link, -75.0, 50) for _ in range(3)]

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_counters_add_up_through_delivery() -> None:
    link = DeviceLink(8, seed=9)
    for t in range(20):
        online = np.arange(8) != t % 8
        link.send(np.arange(8), np.linspace(-55, -100, 8), online, t * 0.05)
        link.deliver(t * 0.05)
    for row in range(8):
        m = link.metrics(row)
        assert m["sent"] == 20
        assert m["sent"] == m["received"] + m["dropped"] + m["in_flight"]
        assert m["dropped_offline"] == 20 // 8 + (row < 20 % 8)
    link.deliver(10.0)
    assert link.totals()["in_flight"] == 0
