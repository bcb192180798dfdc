"""Numenta Anomaly Benchmark (NAB v1.1) scoring, written from the public protocol.

The corpus folder (``data/``, ``labels/combined_windows.json``, ``config/profiles.json``) is a
parameter; nothing of it lives in this package.

Protocol, as implemented here:

* The first ``min(floor(0.15 * n), 750)`` rows of a file are probationary: never scored.
* A row is detected when its anomaly score is ``>= threshold``.
* Inside a labelled window of ``w`` rows ending at row ``r``, a detection at row ``i`` sits at
  relative position ``p = -(r - i + 1) / w`` (``-1`` at the left edge, near ``0`` at the right
  edge). Its reward is ``tpWeight * s(p) / s(-1)`` with the scaled sigmoid
  ``s(p) = 2 / (1 + exp(5 p)) - 1`` (``-1`` for ``p > 3``). Only the best (that is, the
  earliest) detection of each window counts; a window with none costs ``fnWeight``.
* A detection outside every window costs ``fpWeight``, scaled by ``-s(p)`` with
  ``p = (i - r) / (w - 1)`` measured from the end of the preceding window, so a detection just
  after a window costs almost nothing; with no preceding window it costs the full ``fpWeight``.
* One threshold per profile is chosen to maximise the raw score summed over the whole corpus.
* ``normalised = 100 (S - S_null) / (S_perfect - S_null)``, with ``S_null = -fnWeight * windows``
  (a detector that never fires) and ``S_perfect = tpWeight * windows`` (one detection on each
  window's first row).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from edgeswarm._validate import require_choice, require_float

__all__ = [
    "PROFILES",
    "CorpusFile",
    "Profile",
    "ThresholdScore",
    "evaluate",
    "load_corpus",
    "load_profiles",
    "normalise",
    "optimize_threshold",
    "prepare",
    "probationary_length",
    "scaled_sigmoid",
    "score_at_threshold",
    "score_detector",
]

PROFILES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")
_PROBATION_PERCENT = 0.15
_PROBATION_CAP = 750


@dataclass(frozen=True)
class Profile:
    """The weights of one NAB scoring profile."""

    name: str
    tp_weight: float
    fp_weight: float
    fn_weight: float


@dataclass(frozen=True)
class CorpusFile:
    """One NAB series: its row count and its labelled windows as inclusive row ranges."""

    name: str
    n_rows: int
    windows: tuple[tuple[int, int], ...]

    @property
    def probation(self) -> int:
        """Number of leading rows that are never scored."""
        return probationary_length(self.n_rows)


@dataclass(frozen=True)
class ThresholdScore:
    """The raw corpus score of one detector at one threshold, with its counts."""

    threshold: float
    raw: float
    tp: int  # windows with at least one detection
    fn: int  # windows with none
    fp: int  # detected rows outside every window
    tn: int  # undetected rows outside every window


@dataclass(frozen=True)
class _Prepared:
    """Per-row weights of one file for one profile (scored rows only)."""

    name: str
    rows: np.ndarray  # indices of scored rows (after probation)
    window: np.ndarray  # window id (corpus-wide) of each scored row, -1 outside windows
    weight: np.ndarray  # reward if in a window, (negative) cost if outside
    n_windows: int


def probationary_length(n_rows: int) -> int:
    """Leading rows of an ``n_rows`` file that NAB leaves unscored: 15 %, at most 750."""
    return min(math.floor(_PROBATION_PERCENT * n_rows), _PROBATION_CAP)


def scaled_sigmoid(position: np.ndarray | float) -> np.ndarray:
    """NAB's scaled sigmoid: +1 far left, 0 at position 0, -1 for positions beyond 3."""
    p = np.asarray(position, dtype=np.float64)
    return np.where(p > 3.0, -1.0, 2.0 / (1.0 + np.exp(np.minimum(5.0 * p, 700.0))) - 1.0)


def _data_dir(data_dir: str | Path) -> Path:
    path = Path(data_dir)
    if not (path / "labels" / "combined_windows.json").is_file():
        raise ValueError(
            f"data_dir: {str(path)!r} has no labels/combined_windows.json; expected a NAB folder"
        )
    return path


def check_folder(data_dir: str | Path) -> None:
    """Raises ValueError unless `data_dir` holds every file a NAB run reads, each non-empty:
    labels/combined_windows.json, config/profiles.json and each series data/<name> it labels.
    Cheap (no series is parsed), so a run can be refused before it starts."""
    path = Path(data_dir)
    expected = "expected a NAB folder with data/, labels/combined_windows.json and config/profiles.json"
    for name in ("labels/combined_windows.json", "config/profiles.json"):
        if not (path / name).is_file() or (path / name).stat().st_size == 0:
            raise ValueError(f"data_dir: {str(path)!r} has no non-empty {name}; {expected}")
    try:
        labels = json.loads((path / "labels" / "combined_windows.json").read_text())
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(
            f"data_dir: {str(path / 'labels/combined_windows.json')!r} is not JSON ({error})"
        ) from None
    if not isinstance(labels, dict) or not labels:
        raise ValueError(
            f"data_dir: {str(path)!r} labels no series in labels/combined_windows.json; {expected}"
        )
    for name in sorted(labels):
        series = path / "data" / name
        if not series.is_file() or series.stat().st_size == 0:
            raise ValueError(f"data_dir: {str(path)!r} has no non-empty data/{name}, which its labels name")


def load_profiles(data_dir: str | Path) -> dict[str, Profile]:
    """Reads ``config/profiles.json`` of the NAB folder into ``Profile``s by name."""
    raw = json.loads((_data_dir(data_dir) / "config" / "profiles.json").read_text())
    return {
        name: Profile(name, float(c["tpWeight"]), float(c["fpWeight"]), float(c["fnWeight"]))
        for name, entry in raw.items()
        for c in [entry["CostMatrix"]]
    }


def load_corpus(data_dir: str | Path) -> dict[str, CorpusFile]:
    """Reads the 58 series' timestamps and windows; keys are ``<category>/<name>.csv``, sorted."""
    path = _data_dir(data_dir)
    labels = json.loads((path / "labels" / "combined_windows.json").read_text())
    corpus: dict[str, CorpusFile] = {}
    for name in sorted(labels):
        stamps = pd.to_datetime(pd.read_csv(path / "data" / name, usecols=["timestamp"])["timestamp"])
        times = stamps.to_numpy(dtype="datetime64[ns]")
        windows = []
        for start, end in labels[name]:
            lo = int(np.searchsorted(times, np.datetime64(pd.Timestamp(start)), side="left"))
            hi = int(np.searchsorted(times, np.datetime64(pd.Timestamp(end)), side="right")) - 1
            if hi >= lo:
                windows.append((lo, hi))
        corpus[name] = CorpusFile(name, len(times), tuple(windows))
    return corpus


def prepare(corpus: dict[str, CorpusFile], profile: Profile) -> list[_Prepared]:
    """Precomputes, for every scored row, its window and the reward or cost of detecting it."""
    prepared = []
    window_base = 0
    for f in corpus.values():
        n = f.n_rows
        idx = np.arange(n)
        window = np.full(n, -1, dtype=np.int64)
        weight = np.full(n, -profile.fp_weight)
        tp_scale = profile.tp_weight / float(scaled_sigmoid(-1.0))
        prev_end = -1
        prev_width = 0
        for k, (lo, hi) in enumerate(f.windows):
            width = hi - lo + 1
            inside = slice(lo, hi + 1)
            window[inside] = window_base + k
            weight[inside] = tp_scale * scaled_sigmoid(-(hi - idx[inside] + 1) / width)
            if prev_width > 0:
                after = slice(prev_end + 1, lo)
                weight[after] = profile.fp_weight * _after_window(idx[after] - prev_end, prev_width)
            prev_end, prev_width = hi, width
        if prev_width > 0:
            after = slice(prev_end + 1, n)
            weight[after] = profile.fp_weight * _after_window(idx[after] - prev_end, prev_width)
        start = f.probation
        prepared.append(_Prepared(f.name, idx[start:], window[start:], weight[start:], len(f.windows)))
        window_base += len(f.windows)
    return prepared


def _after_window(distance: np.ndarray, width: int) -> np.ndarray:
    # A one-row window has no width to scale by; any later detection is then a full false positive.
    if width <= 1:
        return np.full(distance.shape, -1.0)
    return scaled_sigmoid(distance / (width - 1))


def _check_scores(
    scores_by_file: dict[str, np.ndarray], corpus: dict[str, CorpusFile]
) -> dict[str, np.ndarray]:
    if not isinstance(scores_by_file, dict):
        raise ValueError(f"scores_by_file: expected a dict of file name to array, got {type(scores_by_file)}")
    missing = [name for name in corpus if name not in scores_by_file]
    if missing:
        raise ValueError(
            f"scores_by_file: {len(missing)} corpus files have no scores, e.g. {missing[0]!r}; "
            "every file of the corpus is required"
        )
    extra = [name for name in scores_by_file if name not in corpus]
    if extra:
        raise ValueError(f"scores_by_file: {extra[0]!r} is not a file of the corpus")
    checked = {}
    for name, f in corpus.items():
        s = np.asarray(scores_by_file[name], dtype=np.float64)
        if s.shape != (f.n_rows,):
            raise ValueError(f"scores_by_file[{name!r}]: shape {s.shape}; expected ({f.n_rows},)")
        if not np.all(np.isfinite(s)):
            raise ValueError(f"scores_by_file[{name!r}]: contains NaN or infinity; scores must be finite")
        checked[name] = s
    return checked


def _flatten(
    scores: dict[str, np.ndarray], prepared: list[_Prepared]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    score = np.concatenate([scores[p.name][p.rows] for p in prepared])
    window = np.concatenate([p.window for p in prepared])
    weight = np.concatenate([p.weight for p in prepared])
    return score, window, weight, sum(p.n_windows for p in prepared)


def _sweep(score: np.ndarray, window: np.ndarray, weight: np.ndarray, n_windows: int, fn_weight: float):
    """Raw score and counts at every distinct threshold, highest threshold first."""
    order = np.argsort(-score, kind="stable")
    s, win, w = score[order], window[order], weight[order]
    n = len(s)
    gain = np.where(win < 0, w, 0.0)
    tp_step = np.zeros(n, dtype=np.int64)
    in_win = np.flatnonzero(win >= 0)
    if len(in_win):
        # Segmented running maximum of the reward per window, in detection order: a window's value
        # is its best detection so far; each row adds only the improvement it brings.
        by_window = in_win[np.argsort(win[in_win], kind="stable")]
        wid = win[by_window]
        offset = (wid - wid.min()).astype(np.float64) * 8.0  # rewards lie in [-1, 1] times tpWeight <= 2
        spread = max(1.0, float(np.max(np.abs(w[by_window]))))
        shifted = w[by_window] / spread + offset
        run = np.maximum.accumulate(shifted) - offset
        first = np.r_[True, wid[1:] != wid[:-1]]
        before = np.where(first, np.nan, np.r_[np.nan, run[:-1]])
        improvement = np.where(first, run * spread + fn_weight, (run - before) * spread)
        gain[by_window] = improvement
        tp_step[by_window] = first
    raw = -fn_weight * n_windows + np.cumsum(gain)
    fp = np.cumsum(win < 0)
    tp = np.cumsum(tp_step)
    last = np.r_[s[1:] != s[:-1], True] if n else np.zeros(0, dtype=bool)
    total_out = int(np.sum(win < 0))
    return s[last], raw[last], tp[last], fp[last], total_out


def optimize_threshold(
    scores_by_file: dict[str, np.ndarray],
    *,
    data_dir: str | Path | None = None,
    profile: str = "standard",
    corpus: dict[str, CorpusFile] | None = None,
) -> ThresholdScore:
    """The corpus-wide threshold that maximises the raw score of a profile (highest on ties)."""
    corpus, prof = _corpus_and_profile(data_dir, corpus, profile)
    scores = _check_scores(scores_by_file, corpus)
    score, window, weight, n_windows = _flatten(scores, prepare(corpus, prof))
    thresholds, raw, tp, fp, total_out = _sweep(score, window, weight, n_windows, prof.fn_weight)
    # A threshold above every score detects nothing: the null detector's raw score.
    none = ThresholdScore(math.inf, -prof.fn_weight * n_windows, 0, n_windows, 0, total_out)
    if len(raw) == 0:
        return none
    best = int(np.argmax(raw))
    if raw[best] <= none.raw:
        return none
    return ThresholdScore(
        float(thresholds[best]),
        float(raw[best]),
        int(tp[best]),
        n_windows - int(tp[best]),
        int(fp[best]),
        total_out - int(fp[best]),
    )


def score_at_threshold(
    scores_by_file: dict[str, np.ndarray],
    threshold: float,
    *,
    data_dir: str | Path | None = None,
    profile: str = "standard",
    corpus: dict[str, CorpusFile] | None = None,
) -> ThresholdScore:
    """The raw corpus score of a profile when every row with score >= ``threshold`` is a detection."""
    threshold = float(threshold)
    if math.isnan(threshold):
        raise ValueError("threshold: nan is not a number; expected a real threshold")
    corpus, prof = _corpus_and_profile(data_dir, corpus, profile)
    scores = _check_scores(scores_by_file, corpus)
    score, window, weight, n_windows = _flatten(scores, prepare(corpus, prof))
    hit = score >= threshold
    outside = window < 0
    fp_mask = hit & outside
    raw = float(np.sum(weight[fp_mask]))
    best = np.full(n_windows, -np.inf)
    np.maximum.at(best, window[hit & ~outside], weight[hit & ~outside])
    detected = np.isfinite(best)
    raw += float(np.sum(best[detected])) - prof.fn_weight * int(np.sum(~detected))
    tp = int(np.sum(detected))
    fp = int(np.sum(fp_mask))
    return ThresholdScore(threshold, raw, tp, n_windows - tp, fp, int(np.sum(outside)) - fp)


def normalise(raw: float, *, n_windows: int, profile: Profile) -> float:
    """``100 (raw - S_null) / (S_perfect - S_null)`` for a corpus with ``n_windows`` windows."""
    null = -profile.fn_weight * n_windows
    perfect = profile.tp_weight * n_windows
    return 100.0 * (raw - null) / (perfect - null)


def score_detector(
    scores_by_file: dict[str, np.ndarray],
    *,
    data_dir: str | Path | None = None,
    profile: str = "standard",
    threshold: float | None = None,
    corpus: dict[str, CorpusFile] | None = None,
) -> dict:
    """Normalised NAB score of one profile: at the optimised threshold, or at a frozen ``threshold``."""
    corpus, prof = _corpus_and_profile(data_dir, corpus, profile)
    if threshold is None:
        result = optimize_threshold(scores_by_file, corpus=corpus, profile=profile)
    else:
        require_float("threshold", threshold)
        result = score_at_threshold(scores_by_file, threshold, corpus=corpus, profile=profile)
    n_windows = sum(len(f.windows) for f in corpus.values())
    return {
        "score": normalise(result.raw, n_windows=n_windows, profile=prof),
        "threshold": result.threshold,
        "raw": result.raw,
        "tp": result.tp,
        "fn": result.fn,
        "fp": result.fp,
        "tn": result.tn,
        "optimised": threshold is None,
    }


def evaluate(
    scores_by_file: dict[str, np.ndarray],
    *,
    data_dir: str | Path,
    profiles: tuple[str, ...] = PROFILES,
    threshold: float | None = None,
) -> dict:
    """Scores a detector on NAB for each profile: ``{profile: {score, threshold, raw, tp, fn, fp, tn}}``."""
    corpus = load_corpus(data_dir)
    known = tuple(load_profiles(data_dir))
    for name in profiles:
        require_choice("profiles", name, known)
    return {
        name: score_detector(
            scores_by_file, data_dir=data_dir, profile=name, threshold=threshold, corpus=corpus
        )
        for name in profiles
    }


def _corpus_and_profile(
    data_dir: str | Path | None, corpus: dict[str, CorpusFile] | None, profile: str
) -> tuple[dict[str, CorpusFile], Profile]:
    if data_dir is None and corpus is None:
        raise ValueError("data_dir: None; give the NAB folder (or a loaded corpus)")
    if corpus is None:
        corpus = load_corpus(data_dir)
    profiles = load_profiles(data_dir) if data_dir is not None else _DEFAULT_PROFILES
    require_choice("profile", profile, tuple(profiles))
    return corpus, profiles[profile]


# The published weights, used when a caller passes a corpus without its folder (e.g. synthetic tests).
_DEFAULT_PROFILES = {
    "standard": Profile("standard", 1.0, 0.11, 1.0),
    "reward_low_FP_rate": Profile("reward_low_FP_rate", 1.0, 0.22, 1.0),
    "reward_low_FN_rate": Profile("reward_low_FN_rate", 1.0, 0.11, 2.0),
}
