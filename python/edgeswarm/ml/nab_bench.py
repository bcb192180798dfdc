"""Scores the project's streaming detectors on the Numenta Anomaly Benchmark.

Each NAB file gets a fresh detector, a named configuration of :mod:`edgeswarm.ml.registry`
(by default the :data:`~edgeswarm.ml.registry.NAB_DETECTORS`; seed 0), that reads the file's values in
order (causal: every row is scored before it is learned). Scores are clipped to [0, 1];
a row the detector cannot score (NaN) scores 0. The corpus is then scored with
``edgeswarm.nab`` twice: with NAB's per-profile threshold optimised over the whole corpus
(the published protocol; NAB has no separate test split, so this threshold is fitted on the
data it is scored on, as for every detector on the scoreboard), and with a threshold frozen
in advance at 0.5, the detectors' own decision boundary.

Because NAB has no test split, the options of the likelihood alarms were chosen on the files
with an even index (in sorted order) only; ``bench`` therefore also reports the standard score
on the even files, on the odd files (threshold optimised on them), and on the odd files with
the threshold optimised on the even ones (nothing fitted on the odd files).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from edgeswarm._json import json_safe
from edgeswarm.ml import nab
from edgeswarm.ml.registry import NAB_DETECTORS, detector_config

__all__ = [
    "FROZEN_THRESHOLD",
    "bench",
    "detector_scores",
    "markdown_table",
    "run_detector",
    "split_corpus",
]

FROZEN_THRESHOLD = 0.5


def run_detector(name: str, values: np.ndarray) -> np.ndarray:
    """Scores of a fresh ``name`` detector (a name of :data:`edgeswarm.ml.registry.DETECTORS`,
    seed 0) over one series, in [0, 1] (0 where it gives none)."""
    raw, _ = detector_config(name).score(values, seed=0)
    return np.clip(np.nan_to_num(raw, nan=0.0), 0.0, 1.0)


def detector_scores(name: str, data_dir: str | Path, files: list[str] | None = None) -> dict[str, np.ndarray]:
    """Scores of detector ``name`` for every file of the NAB corpus (or the given ``files``)."""
    detector_config(name)
    names = files if files is not None else list(nab.load_corpus(data_dir))
    root = Path(data_dir) / "data"
    return {f: run_detector(name, pd.read_csv(root / f)["value"].to_numpy(np.float64)) for f in names}


def split_corpus(corpus: dict[str, nab.CorpusFile]) -> tuple[dict, dict]:
    """The corpus split by the index of each file in sorted order: (even, odd)."""
    names = sorted(corpus)
    even = {name: corpus[name] for name in names[0::2]}
    odd = {name: corpus[name] for name in names[1::2]}
    return even, odd


def _split_scores(scores: dict[str, np.ndarray], data_dir: str | Path) -> dict:
    # Standard profile on each half; then the odd half at the threshold optimised on the even half.
    even, odd = split_corpus(nab.load_corpus(data_dir))

    def on(corpus: dict, threshold: float | None = None) -> dict:
        part = {name: scores[name] for name in corpus}
        # json_safe: a detector whose best choice is never to fire gets threshold inf, which JSON lacks.
        return json_safe(nab.score_detector(part, data_dir=data_dir, corpus=corpus, threshold=threshold))

    e = on(even)
    # Never firing is best on the even half: carry that over as a threshold above every score.
    carried = e["threshold"] if e["threshold"] is not None else 2.0
    return {"even": e, "odd": on(odd), "odd_at_even_threshold": on(odd, carried)}


def bench(
    data_dir: str | Path,
    detectors: tuple[str, ...] | list[str] = NAB_DETECTORS,
    *,
    frozen_threshold: float = FROZEN_THRESHOLD,
) -> dict:
    """NAB results per detector: the three profiles (optimised threshold), standard at the frozen one, time.

    Returns ``{"data": ..., "frozen_threshold": ..., "detectors": {name: {"profiles": {profile:
    result}, "frozen": result, "seconds": s, "samples": n}}}`` with ``result`` as given by
    ``nab.evaluate`` (threshold None where never firing is best), and ``"split"``: standard-profile
    results on the even files, the odd files, and the odd files at the even files' threshold (see
    ``split_corpus``); ``seconds`` covers reading the files and running the detector, not scoring.
    """
    for name in detectors:
        detector_config(name)
    nab.check_folder(data_dir)  # every file there and non-empty before the first detector runs
    out: dict = {"data": str(data_dir), "frozen_threshold": frozen_threshold, "detectors": {}}
    for name in detectors:
        start = time.perf_counter()
        scores = detector_scores(name, data_dir)
        seconds = time.perf_counter() - start
        out["detectors"][name] = {
            "profiles": {p: json_safe(r) for p, r in nab.evaluate(scores, data_dir=data_dir).items()},
            "frozen": json_safe(
                nab.evaluate(scores, data_dir=data_dir, profiles=("standard",), threshold=frozen_threshold)[
                    "standard"
                ]
            ),
            "split": _split_scores(scores, data_dir),
            "seconds": seconds,
            "samples": int(sum(len(s) for s in scores.values())),
        }
    return out


def markdown_table(result: dict) -> str:
    """The bench result as a Markdown table: one row per detector."""
    t = result["frozen_threshold"]
    lines = [
        (
            f"| detector | standard | reward_low_FP_rate | reward_low_FN_rate | standard, threshold frozen at {t:g} "
            "| even files | odd files | odd files, even threshold | seconds |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in result["detectors"].items():
        p, sp = r["profiles"], r["split"]
        lines.append(
            f"| {name} | {p['standard']['score']:.2f} | {p['reward_low_FP_rate']['score']:.2f} | "
            f"{p['reward_low_FN_rate']['score']:.2f} | {r['frozen']['score']:.2f} | "
            f"{sp['even']['score']:.2f} | {sp['odd']['score']:.2f} | {sp['odd_at_even_threshold']['score']:.2f} | "
            f"{r['seconds']:.2f} |"
        )
    return "\n".join(lines)
