"""The experiment spec: from a dict, TOML or YAML; grid expansion; stable run ids; refusals
naming the key before any run."""

from __future__ import annotations

from pathlib import Path

import pytest
from edgeswarm import _seeds
from edgeswarm.experiments import ExperimentSpec, engine_parameters, load_spec

BASE = {"name": "grid", "engine": "swarm", "duration": {"epochs": 10}}


def spec(**changes) -> ExperimentSpec:
    return ExperimentSpec.from_dict({**BASE, **changes})


def test_product_zip_seeds_and_replications_expand_in_a_fixed_order() -> None:
    s = spec(
        params={"n_nodes": 50},
        grid={
            "product": {"aggregator": ["trimmed_mean", "median"], "byzantine": [0, 5]},
            "zip": {"attack": ["bias", "sign_flip"], "bias": [0.9, 1.0]},
        },
        seeds=[7, 8],
        replications=3,
    )
    runs = s.runs()
    assert len(runs) == 2 * 2 * 2 * 2 * 3
    assert [r.index for r in runs] == list(range(len(runs)))
    first = runs[0]
    assert first.params == {
        "n_nodes": 50,
        "aggregator": "trimmed_mean",
        "byzantine": 0,
        "attack": "bias",
        "bias": 0.9,
    }
    assert (first.seed, first.replication) == (7, 0) and (runs[1].seed, runs[1].replication) == (7, 1)
    assert runs[6].params["attack"] == "sign_flip" and runs[6].params["bias"] == 1.0  # zip: together
    assert first.engine_seed == _seeds.derive(7, _seeds.EXPERIMENT, 0)
    assert len({r.run_id for r in runs}) == len(runs)
    assert len({r.engine_seed for r in runs if r.params == first.params}) == 6


def test_a_run_id_depends_on_what_defines_the_run_only() -> None:
    a = spec(grid={"product": {"byzantine": [0, 5]}}, seeds=[1])
    b = spec(grid={"product": {"byzantine": [5, 0]}}, seeds=[1], name="other-name")
    assert {r.run_id for r in a.runs()} == {r.run_id for r in b.runs()}
    c = spec(grid={"product": {"byzantine": [0, 5]}}, seeds=[1], duration={"epochs": 11})
    assert not {r.run_id for r in a.runs()} & {r.run_id for r in c.runs()}


def test_seeds_as_a_count() -> None:
    assert spec(seeds=3).seeds == [0, 1, 2]


def test_toml_yaml_and_json_files_give_the_same_spec(tmp_path: Path) -> None:
    (tmp_path / "s.toml").write_text(
        'name = "grid"\nengine = "swarm"\nseeds = [1, 2]\nduration = { epochs = 10 }\n'
        "[grid.product]\nbyzantine = [0, 10]\n"
    )
    (tmp_path / "s.yaml").write_text(
        "name: grid\nengine: swarm\nseeds: [1, 2]\nduration: {epochs: 10}\ngrid:\n  product:\n    byzantine: [0, 10]\n"
    )
    (tmp_path / "s.json").write_text(
        '{"name": "grid", "engine": "swarm", "seeds": [1, 2], "duration": {"epochs": 10},'
        ' "grid": {"product": {"byzantine": [0, 10]}}}'
    )
    runs = [[r.run_id for r in load_spec(tmp_path / f"s.{ext}").runs()] for ext in ("toml", "yaml", "json")]
    assert runs[0] == runs[1] == runs[2] and len(runs[0]) == 4


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"params": {"n_nodez": 10}},
            r"params\.n_nodez: not a parameter of the swarm engine; allowed: n_nodes",
        ),
        ({"grid": {"product": {"aggregator": []}}}, r"grid\.product\.aggregator: an empty list"),
        (
            {"grid": {"zip": {"attack": ["bias"], "bias": [0.1, 0.2]}}},
            r"grid\.zip: lists of different lengths",
        ),
        ({"grid": {"product": {"trim": [0.2, 0.7]}}}, r"params: trim"),
        (
            {"params": {"n_nodes": 10}, "grid": {"product": {"byzantine": [10]}}},
            r"byzantine: 10 is out of range",
        ),
        ({"params": {"trim": 0.2}, "grid": {"product": {"trim": [0.1]}}}, r"params: trim also in grid"),
        ({"seeds": []}, r"seeds: an empty list of seeds"),
        ({"seeds": [1, 1]}, r"seeds: a seed given twice"),
        ({"duration": {}}, r"duration: nothing given; allowed exactly one of epochs, sim_ms, wall_s"),
        ({"duration": {"epochs": 0}}, r"duration\.epochs"),
        ({"engine": "nope"}, r"engine"),
        ({"name": "a b"}, r"name"),
        ({"replications": 0}, r"replications"),
        ({"surprise": 1}, r"surprise"),
    ],
)
def test_bad_specs_are_refused_naming_the_key(changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        spec(**changes)


def test_bad_files_are_refused_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot be read"):
        load_spec(tmp_path / "absent.toml")
    (tmp_path / "s.txt").write_text("x")
    with pytest.raises(ValueError, match=r"\.toml, \.yaml"):
        load_spec(tmp_path / "s.txt")
    (tmp_path / "bad.toml").write_text("name = ")
    with pytest.raises(ValueError, match="does not parse"):
        load_spec(tmp_path / "bad.toml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ValueError, match="allowed a table"):
        load_spec(tmp_path / "list.yaml")


def test_every_engine_names_its_parameters() -> None:
    assert {"n_nodes", "aggregator", "byzantine", "attack", "alie_z"} <= set(engine_parameters("swarm"))
    assert {"n", "loss", "election_timeout_ms"} <= set(engine_parameters("raft"))
    assert {"devices", "loss", "latency_ms", "qos"} <= set(engine_parameters("mqtt"))
    assert "seed" not in engine_parameters("swarm") + engine_parameters("raft") + engine_parameters("mqtt")
    raft = ExperimentSpec.from_dict(
        {
            "name": "r",
            "engine": "raft",
            "duration": {"sim_ms": 1000},
            "grid": {"product": {"loss": [0.0, 0.1]}},
        }
    )
    assert len(raft.runs()) == 2
