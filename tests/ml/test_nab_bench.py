"""NAB bench: the project's detectors scored on the corpus, and the `edgeswarm bench nab` command."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from edgeswarm import cli
from edgeswarm.ml import nab_bench
from edgeswarm.ml.registry import DETECTORS, NAB_DETECTORS


def _data_dir() -> Path:
    """``$EDGESWARM_DATA/nab``, else the first ``shared/data/nab`` beside the repo or an ancestor of it."""
    env = os.environ.get("EDGESWARM_DATA")
    if env:
        return Path(env) / "nab"
    repo = Path(__file__).resolve().parents[1]
    candidates = [parent / "shared" / "data" / "nab" for parent in repo.parents]
    return next((c for c in candidates if c.is_dir()), candidates[0])


DATA = _data_dir()
needs_data = pytest.mark.skipif(
    not (DATA / "labels" / "combined_windows.json").is_file(),
    reason=f"NAB data not found at {DATA} (set EDGESWARM_DATA to the folder holding nab/)",
)


def test_run_detector_gives_scores_in_unit_interval_and_flags_a_spike():
    values = np.sin(np.arange(2000) / 20.0) + 0.01 * np.random.default_rng(0).standard_normal(2000)
    values[1500] += 10.0
    for name in DETECTORS:  # every named configuration runs on a NAB-like series
        scores = nab_bench.run_detector(name, values)
        assert scores.shape == values.shape
        assert np.all((scores >= 0.0) & (scores <= 1.0)), name
    ewma = nab_bench.run_detector("ewma", values)
    assert ewma[1500] > 0.5 > float(np.median(ewma[200:]))


def test_unknown_detector_names_the_parameter():
    with pytest.raises(ValueError, match="^detector"):
        nab_bench.run_detector("nope", np.zeros(10))


def test_bench_refuses_a_folder_missing_a_labelled_series_before_scoring(tmp_path):
    (tmp_path / "labels").mkdir()
    (tmp_path / "config").mkdir()
    (tmp_path / "labels" / "combined_windows.json").write_text(json.dumps({"cat/a.csv": []}))
    (tmp_path / "config" / "profiles.json").write_text("{}")
    with pytest.raises(ValueError, match=r"^data_dir: .* has no non-empty data/cat/a.csv"):
        nab_bench.bench(tmp_path, ("ewma",))


def test_bench_nab_help_lists_every_detector(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["bench", "nab", "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    for name, config in DETECTORS.items():  # the registry, including the best one (rarity_alarm)
        assert re.search(rf"\b{name}\b", text), name
        assert config.description in text
    assert "all" in text and set(NAB_DETECTORS) <= set(DETECTORS)


def test_one_name_one_configuration():
    """The same name gives the same scores wherever it is used: nab bench and the edge runtime."""
    from edgeswarm.fleet.runtime import EdgeOptions

    values = np.random.default_rng(3).standard_normal(3000)
    values[2000] += 12.0
    assert set(EdgeOptions().models) <= set(DETECTORS)
    for name in (*NAB_DETECTORS, *EdgeOptions().models):
        raw, _ = DETECTORS[name].score(values)
        np.testing.assert_array_equal(nab_bench.run_detector(name, values), np.clip(np.nan_to_num(raw), 0, 1))
    ewma, ewma_z5 = nab_bench.run_detector("ewma", values), nab_bench.run_detector("ewma_z5", values)
    assert (ewma > 0.5).sum() > (ewma_z5 > 0.5).sum()  # different names, different configurations


def test_cli_rejects_unknown_detector_naming_the_option(tmp_path, capsys):
    # Refused before the data folder is read (any existing folder will do), argparse's way: exit 2.
    with pytest.raises(SystemExit) as refused:
        cli.main(["bench", "nab", "--data", str(tmp_path), "--detector", "nope"])
    assert refused.value.code == 2
    assert "--detector: 'nope'" in capsys.readouterr().err


@needs_data
def test_bench_ewma_on_the_whole_corpus_matches_evaluate():
    result = nab_bench.bench(DATA, ("ewma",))
    r = result["detectors"]["ewma"]
    assert set(r["profiles"]) == {"standard", "reward_low_FP_rate", "reward_low_FN_rate"}
    # EWMA beats the null detector (0) under the optimised threshold but stays far from perfect.
    assert 0.0 < r["profiles"]["standard"]["score"] < 100.0
    assert r["frozen"]["threshold"] == nab_bench.FROZEN_THRESHOLD
    assert r["frozen"]["score"] <= r["profiles"]["standard"]["score"] + 1e-9
    assert r["samples"] > 300_000


@needs_data
def test_cli_prints_a_markdown_table_and_writes_json(tmp_path, capsys):
    out = tmp_path / "nab.json"
    assert cli.main(["bench", "nab", "--data", str(DATA), "--detector", "ewma", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("| detector | standard | reward_low_FP_rate | reward_low_FN_rate |")
    assert "\n| ewma | " in printed
    payload = json.loads(out.read_text())
    assert payload["frozen_threshold"] == 0.5
    assert list(payload["detectors"]) == ["ewma"]
    row = next(line for line in printed.splitlines() if line.startswith("| ewma |"))
    standard = payload["detectors"]["ewma"]["profiles"]["standard"]["score"]
    assert row.split("|")[2].strip() == f"{standard:.2f}"


@needs_data
def test_rarity_alarm_reaches_the_target_on_the_held_out_half():
    # Options were chosen on the even-index files; the odd ones, at the even files' threshold, are held out.
    r = nab_bench.bench(DATA, ("rarity_alarm",))["detectors"]["rarity_alarm"]
    assert r["profiles"]["standard"]["score"] >= 55.0
    assert r["split"]["odd_at_even_threshold"]["score"] >= 55.0
    assert r["frozen"]["score"] >= 55.0
