"""The swarm facade: figures, attacks, topologies, aggregators, regime, energy, bandwidth, bad input."""

from __future__ import annotations

import hashlib

import edgeswarm as es
import numpy as np
import pandas as pd
import pytest

EPOCHS_PER_DAY = 86_400_000 / 500


def test_run_returns_one_row_per_epoch_with_the_documented_columns() -> None:
    swarm = es.Swarm(n_nodes=100, dim=1, signal=0.5, noise_variance=0.02, seed=42)
    df = swarm.run(epochs=30)
    assert isinstance(df, pd.DataFrame)
    assert list(df["epoch"]) == list(range(1, 31))
    for column in (
        "epoch",
        "consensus",
        "honest_mean",
        "drift",
        "rmse",
        "xi",
        "entropy",
        "regime",
        "awake",
        "banned",
        "bytes_per_node_day",
        "fl_bytes_per_node_day",
        "energy_mj",
        "sleep_ratio",
    ):
        assert column in df.columns, column
    assert set(df["regime"].astype(str)) <= set(es.REGIMES)
    assert abs(df["consensus"].iloc[-1] - 0.5) < 0.05
    assert swarm.epoch == 30
    assert swarm.history().shape[0] == 30


def test_step_consensus_and_raw_agree() -> None:
    swarm = es.Swarm(n_nodes=50, seed=1)
    row = swarm.step()
    assert row["epoch"] == 1
    assert swarm.consensus_raw.dtype == np.int32
    assert swarm.consensus.dtype == np.float64
    assert swarm.consensus[0] == swarm.consensus_raw[0] / 65536
    assert row["consensus"] == swarm.consensus[0]


def test_vector_consensus_has_one_column_per_coordinate() -> None:
    swarm = es.Swarm(n_nodes=200, dim=4, signal=[0.1, 0.2, -0.3, 1.5], seed=5)
    df = swarm.run(epochs=10)
    np.testing.assert_allclose(
        df[[f"consensus_{j}" for j in range(4)]].iloc[-1], [0.1, 0.2, -0.3, 1.5], atol=0.03
    )
    assert swarm.consensus.shape == (4,)


def test_status_and_nodes() -> None:
    swarm = es.Swarm(n_nodes=100, seed=2)
    swarm.inject_byzantine(count=10, bias=0.9)
    swarm.run(epochs=10)
    status = swarm.status()
    assert status["byzantine"] == 10 and status["n_nodes"] - status["byzantine"] == 90
    assert status["banned"] == 10
    assert status["awake"] == swarm.nodes()["awake"].sum() and 0 <= status["awake"] <= 100
    assert status["regime"] in es.REGIMES
    nodes = swarm.nodes()
    assert list(nodes.columns[:6]) == ["id", "byzantine", "banned", "reputation", "awake", "role"]
    assert {"value", "energy_mj"} <= set(nodes.columns)
    assert len(nodes) == 100 and nodes["byzantine"].sum() == 10
    assert nodes.loc[~nodes.byzantine, "reputation"].min() > 0.5


@pytest.mark.parametrize("attack", es.ATTACKS)
def test_every_attack_is_contained(attack: str) -> None:
    swarm = es.Swarm(n_nodes=100, signal=0.5, noise_variance=0.0025, seed=11)
    swarm.inject_byzantine(count=20, bias=0.9, attack=attack)
    df = swarm.run(epochs=40)
    assert df["attack_active"].any()
    assert df["drift"].iloc[-10:].max() < 0.05, df["drift"].tail(10)
    assert df["honest_banned"].max() == 0
    if attack in ("bias", "sign_flip", "gaussian", "ipm", "intermittent"):
        assert df["byzantine_banned"].iloc[-1] == 20  # blatant attacks get every attacker banned


def test_attacks_actually_attack_without_defence() -> None:
    for attack in ("bias", "sign_flip", "ipm", "gaussian"):
        swarm = es.Swarm(n_nodes=100, noise_variance=0.0025, aggregator="mean", reputation=False, seed=4)
        swarm.inject_byzantine(count=20, attack=attack, bias=0.9, sigma=2.0)
        df = swarm.run(epochs=5)
        assert df["drift"].mean() > 0.1, attack


def test_intermittent_attack_switches_on_and_off() -> None:
    swarm = es.Swarm(n_nodes=60, reputation=False, seed=8)
    swarm.inject_byzantine(count=10, attack="intermittent", on_epochs=3, off_epochs=2)
    df = swarm.run(epochs=10)
    assert list(df["attack_active"]) == [True, True, True, False, False] * 2


@pytest.mark.parametrize("aggregator", es.AGGREGATORS)
def test_every_aggregator_reaches_the_signal(aggregator: str) -> None:
    swarm = es.Swarm(n_nodes=60, dim=2, signal=[0.5, -0.25], aggregator=aggregator, seed=9)
    swarm.inject_byzantine(count=10, bias=3.0)
    df = swarm.run(epochs=15)
    assert df["rmse"].iloc[-1] < 0.05, df["rmse"].tail()


@pytest.mark.parametrize("topology", es.TOPOLOGIES)
def test_every_topology_agrees(topology: str) -> None:
    options = {"degree": 6} if topology in ("k_regular", "small_world") else {}
    swarm = es.Swarm(n_nodes=144, topology=topology, seed=10, **options)
    df = swarm.run(epochs=30)
    assert df["rmse"].iloc[-1] < 0.02
    assert df["xi"].iloc[-1] < 1e-3
    graph = swarm.topology()
    assert graph["positions"].shape == (144, 2)
    assert graph["centralised"] == (topology in ("complete", "star"))


def test_decentralised_mesh_resists_attackers() -> None:
    swarm = es.Swarm(n_nodes=400, topology="k_regular", degree=10, trim=0.3, seed=12)
    swarm.inject_byzantine(count=40, bias=0.9)
    df = swarm.run(epochs=40)
    assert df["drift"].iloc[-5:].max() < 0.05
    assert df["byzantine_banned"].iloc[-1] >= 36


def test_noise_storm_raises_entropy_and_regime_then_calms() -> None:
    swarm = es.Swarm(n_nodes=200, seed=13)
    calm = swarm.run(epochs=20)
    swarm.inject_noise(intensity=0.5, duration_s=20)  # 40 epochs
    storm = swarm.run(epochs=40)
    after = swarm.run(epochs=40)
    assert (calm["regime"] == "Calm").all()
    assert storm["entropy"].mean() > calm["entropy"].mean() + 0.3
    assert (storm["regime"] == "Storm").sum() > 30
    assert after["regime"].iloc[-1] == "Calm"
    assert storm["honest_banned"].max() == 0  # honest nodes are not banned for noise


def test_moderate_noise_reaches_prestorm() -> None:
    swarm = es.Swarm(n_nodes=200, seed=14)
    swarm.run(epochs=10)
    swarm.inject_noise(intensity=0.12, duration_s=30)
    df = swarm.run(epochs=60)
    assert (df["regime"] == "PreStorm").any()


def test_sleep_scheduling_saves_energy_and_storms_wake_nodes() -> None:
    always = es.Swarm(n_nodes=200, seed=15)
    sleepy = es.Swarm(n_nodes=200, seed=15, sentinel_fraction=0.1)
    a = always.run(epochs=100)
    s = sleepy.run(epochs=100)
    assert a["sleep_ratio"].iloc[-1] == 0.0
    assert s["sleep_ratio"].iloc[-1] > 0.7
    assert s["energy_mj"].iloc[-1] < 0.35 * a["energy_mj"].iloc[-1]
    assert s["awake"].iloc[-1] < 50
    sleepy.inject_noise(intensity=0.6, duration_s=60)
    storm = sleepy.run(epochs=20)
    assert storm["awake"].max() == 200  # the escalation wakes every node at once
    assert abs(storm["consensus"].iloc[-1] - 0.5) < 0.1


def test_bandwidth_per_node_day_matches_the_wire_format() -> None:
    swarm = es.Swarm(n_nodes=50, dim=3, seed=16)
    df = swarm.run(epochs=10)
    message = 16 + 4 * 3
    assert es._core.message_bytes(3) == message
    assert df["bytes_per_node_day"].iloc[-1] == pytest.approx(message * EPOCHS_PER_DAY)
    assert df["fl_bytes_per_node_day"].iloc[-1] == pytest.approx(2 * message * EPOCHS_PER_DAY)
    ring = es.Swarm(n_nodes=50, dim=3, topology="ring", seed=16).run(epochs=10)
    assert ring["bytes_per_node_day"].iloc[-1] == pytest.approx(2 * message * EPOCHS_PER_DAY)


def test_invalid_readings_are_counted_and_skipped() -> None:
    swarm = es.Swarm(n_nodes=200, seed=17, invalid_rate=0.1)
    df = swarm.run(epochs=20)
    assert df["invalid"].sum() > 200
    assert (df["reporting"] + df["invalid"] == 200).all()
    assert df["rmse"].iloc[-1] < 0.02 and np.isfinite(df["consensus"]).all()


def test_wire_format_round_trip_and_crc() -> None:
    values = np.array([65536, -1, 2**31 - 1, -(2**31)], dtype=np.int32)
    data = es._core.encode_message(7, 99, values, 1)
    assert len(data) == 16 + 16
    decoded = es._core.decode_message(data)
    assert decoded["node"] == 7 and decoded["epoch"] == 99 and decoded["flags"] == 1
    np.testing.assert_array_equal(decoded["values"], values)
    corrupted = bytearray(data)
    corrupted[-1] ^= 0xFF
    with pytest.raises(ValueError, match="CRC"):
        es._core.decode_message(bytes(corrupted))


def test_memory_per_node_is_small() -> None:
    assert es.Swarm(n_nodes=1000, dim=16, seed=0).state_bytes_per_node < 1024
    assert es.Swarm(n_nodes=1000, dim=1, topology="k_regular", degree=8, seed=0).state_bytes_per_node < 1024


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n_nodes": 0}, "n_nodes"),
        ({"dim": 0}, "dim"),
        ({"trim": 0.6}, "trim"),
        ({"trim": -0.1}, "trim"),
        ({"topology": "mesh"}, "topology"),
        ({"aggregator": "average"}, "aggregator"),
        ({"noise_variance": -1.0}, "noise_variance"),
        ({"signal": float("nan")}, "signal"),
        ({"dim": 2, "signal": [1.0, 2.0, 3.0]}, "signal"),
        ({"epoch_ms": 0}, "epoch_ms"),
        ({"seed": -1}, "seed"),
        ({"threads": 0}, "threads"),
        ({"reputation": "yes"}, "reputation"),
        ({"bogus": 1}, "bogus"),
        ({"degree": "four"}, "degree"),
        ({"sentinel_fraction": 1.5}, "sentinel_fraction"),
        ({"hysteresis": 0}, "hysteresis"),
        ({"ban_threshold": 1.2}, "ban_threshold"),
        ({"trim_count": 50, "n_nodes": 100}, "trim"),
        ({"aggregator": "krum", "n_nodes": 50_000}, "aggregator"),
    ],
)
def test_bad_options_name_the_parameter(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        es.Swarm(**kwargs)


def test_bad_injections_name_the_parameter() -> None:
    swarm = es.Swarm(n_nodes=10, seed=0)
    with pytest.raises(ValueError, match="count"):
        swarm.inject_byzantine(count=11)
    with pytest.raises(ValueError, match="count"):
        swarm.inject_byzantine(count=-1)
    with pytest.raises(ValueError, match="attack"):
        swarm.inject_byzantine(count=1, attack="flood")
    with pytest.raises(ValueError, match="jitter"):
        swarm.inject_byzantine(count=1, jitter=-1.0)
    with pytest.raises(ValueError, match="intensity"):
        swarm.inject_noise(intensity=-0.5, duration_s=10)
    with pytest.raises(ValueError, match="duration_s"):
        swarm.inject_noise(intensity=0.5, duration_s=float("inf"))
    with pytest.raises(ValueError, match="epochs"):
        swarm.run(epochs=-1)
    assert swarm.nodes()["byzantine"].sum() == 0  # failed injections changed nothing


def test_node_arrays_are_live_read_only_views() -> None:
    swarm = es.Swarm(n_nodes=20, seed=3)
    swarm.step()
    arrays = swarm.node_arrays()
    reports = arrays["report_raw"]
    assert reports.shape == (20, 1) and reports.dtype == np.int32
    assert not reports.flags.writeable and not reports.flags.owndata
    before = reports.copy()
    swarm.step()
    assert not np.array_equal(before, reports)  # the view follows the engine
    np.testing.assert_array_equal(reports[:, 0], es._core.to_q16(swarm.nodes()["value"].to_numpy()))
    with pytest.raises(ValueError):
        reports[0, 0] = 1


@pytest.mark.parametrize("attack", ["alie", "ipm", "gaussian", "mimic"])
def test_a_swarm_with_no_honest_node_left_keeps_running(attack: str) -> None:
    swarm = es.Swarm(n_nodes=10, seed=4)
    swarm.inject_byzantine(count=10, attack=attack)
    df = swarm.run(epochs=3)
    assert df["honest_mean"].isna().all() and df["drift"].isna().all()
    assert np.isfinite(df["consensus"]).all()


def test_epoch_columns_are_the_frames_columns() -> None:
    df = es.Swarm(n_nodes=20, seed=1).run(epochs=2)
    assert tuple(df.columns) == es.swarm.EPOCH_COLUMNS


def test_one_epoch_line_for_frame_rows_and_api_rows() -> None:
    from edgeswarm.service.loop import history_row

    row = es.Swarm(n_nodes=50, seed=3).step()
    line = es.swarm.epoch_line(row)
    assert line == (
        f"[Epoch 1] Consensus: {row['consensus']:.4f}, Entropy: {row['entropy']:.2f}, "
        f"Regime: {row['regime']}, Drift: {100 * row['drift']:.1f}%"
    )
    assert es.swarm.epoch_line(history_row(row)) == line  # the API's JSON-safe copy prints the same


def test_epoch_line_prints_missing_figures_as_n_a() -> None:
    swarm = es.Swarm(n_nodes=10, seed=4)
    swarm.inject_byzantine(count=10)  # no honest node: no honest mean, no drift
    row = swarm.step()
    assert np.isnan(row["drift"])
    assert es.swarm.epoch_line(row).endswith("Drift: n/a")
    api_row = {**row, "drift": None, "consensus": None, "entropy": None}
    assert es.swarm.epoch_line(api_row) == (
        f"[Epoch 1] Consensus: n/a, Entropy: n/a, Regime: {row['regime']}, Drift: n/a"
    )


def test_epoch_line_of_a_vector_swarm_shows_three_coordinates() -> None:
    row = es.Swarm(n_nodes=30, dim=12, signal=0.5, seed=5).step()
    consensus = [row[f"consensus_{j}"] for j in range(3)]
    shown = ", ".join(f"{v:.4f}" for v in consensus)
    assert f"Consensus: [{shown}, ...]," in es.swarm.epoch_line(row)


def test_the_facade_converts_types_and_leaves_ranges_to_the_engine() -> None:
    with pytest.raises(ValueError, match=r"^n_nodes: 0 is out of range; allowed \[1, 50000000\]$"):
        es.Swarm(n_nodes=0)  # the engine's message
    with pytest.raises(ValueError, match=r"^n_nodes: -1 does not fit an unsigned 64-bit integer$"):
        es.Swarm(n_nodes=-1)  # no C++ size_t holds it: the facade's type conversion
    with pytest.raises(ValueError, match=r"^noise_variance: nan is out of range"):
        es.Swarm(noise_variance=float("nan"))
    with pytest.raises(ValueError, match=r"^bias: expected a number, got 'high'$"):
        es.Swarm(n_nodes=10).inject_byzantine(count=1, bias="high")
    with pytest.raises(ValueError, match=r"^attack: expected a string, got 3$"):
        es.Swarm(n_nodes=10).inject_byzantine(count=1, attack=3)
    with pytest.raises(ValueError, match=r"^on_epochs: 1099511627776 does not fit the engine's 32-bit int$"):
        es.Swarm(n_nodes=10).inject_byzantine(count=1, attack="intermittent", on_epochs=2**40)


# -- bounded history -----------------------------------------------------------------------

HISTORY_EPOCHS = 316  # epochs run by _history_scenario


def _history_scenario(history: int | None) -> es.Swarm:
    """Single steps and bulk runs mixed, across the ring's growth and wrap-around."""
    swarm = es.Swarm(n_nodes=40, dim=2, signal=[0.2, -0.4], seed=13, history=history)
    swarm.run(epochs=70)
    swarm.inject_byzantine(count=8, bias=0.9)
    for _ in range(45):
        swarm.step()
    swarm.run(epochs=200)
    swarm.step()
    return swarm


def test_history_none_keeps_every_epoch() -> None:
    full = _history_scenario(None)
    assert full.history_limit is None
    assert list(full.history()["epoch"]) == list(range(1, HISTORY_EPOCHS + 1))
    assert full.consensus_history_raw().shape == (HISTORY_EPOCHS, 2)


@pytest.mark.parametrize("limit", [1, 50, 64, 100, HISTORY_EPOCHS, 1000])
def test_a_bounded_history_keeps_the_last_epochs_and_changes_no_result(limit: int) -> None:
    full = _history_scenario(None)
    bounded = _history_scenario(limit)
    kept = min(limit, HISTORY_EPOCHS)
    assert bounded.history_limit == limit
    expected = full.history().iloc[HISTORY_EPOCHS - kept :].reset_index(drop=True)
    pd.testing.assert_frame_equal(bounded.history(), expected)
    np.testing.assert_array_equal(
        bounded.consensus_history_raw(), full.consensus_history_raw()[HISTORY_EPOCHS - kept :]
    )
    assert bounded.state_hash() == full.state_hash()  # every epoch is hashed, kept or not
    assert bounded.status() == full.status()


def test_history_zero_keeps_no_epoch_and_the_same_state_hash() -> None:
    bounded = _history_scenario(0)
    assert bounded.history().empty
    assert bounded.consensus_history_raw().shape == (0, 2)
    assert bounded.state_hash() == _history_scenario(None).state_hash()
    assert bounded.status()["epoch"] == HISTORY_EPOCHS and "consensus" in bounded.status()


def test_state_hash_is_sha256_of_the_whole_consensus_history_then_the_node_state() -> None:
    # The definition state_hash had when it hashed the concatenated history: its values stay.
    swarm = _history_scenario(None)
    digest = hashlib.sha256(swarm.consensus_history_raw().tobytes())
    nodes = swarm.node_arrays()
    for key in ("byzantine", "banned", "awake", "report_raw", "model_raw"):
        digest.update(np.ascontiguousarray(nodes[key]).tobytes())
    assert swarm.state_hash() == digest.hexdigest()


def test_a_long_running_swarm_holds_at_most_its_bound() -> None:
    swarm = es.Swarm(n_nodes=20, seed=4, history=100)
    for _ in range(250):
        swarm.step()
    swarm.run(epochs=400)
    assert len(swarm.history()) == 100 and swarm.history()["epoch"].iloc[-1] == 650
    assert swarm._history.capacity == 100  # the ring never allocates beyond the bound


def test_the_default_history_is_bounded() -> None:
    swarm = es.Swarm(n_nodes=10, seed=1)
    assert swarm.history_limit == es.swarm.DEFAULT_HISTORY == 100_000


@pytest.mark.parametrize("bad", [-1, 1.5, "100", True])
def test_bad_history_names_the_parameter(bad: object) -> None:
    with pytest.raises(ValueError, match="history"):
        es.Swarm(n_nodes=10, history=bad)
