"""Predictive maintenance: remaining useful life (RUL) and a health index from multivariate sensor histories.

Measured on NASA C-MAPSS FD001 with the usual protocol: train on the training engines only,
cap the RUL target at 125 cycles, predict at each test engine's last cycle, report RMSE and
the asymmetric NASA score. Two models, both fitted in closed form by ridge regression:

* ``"ridge"``: linear in the window features (deterministic, no seed);
* ``"random_features"``: the window features plus ``n_features`` random ReLU features drawn
  from the project's portable RNG (C++ ``core::Rng`` streams 0 and 1 of the seed: the same draws as
  ``_core.rng_normal(seed, 0, ...)`` and ``_core.rng_uniform(seed, 1, ...)``), so the same seed gives
  the same model bit for bit, for any thread count.

Features of one engine at cycle ``i`` use cycles ``<= i`` only: the current sensor values, their
mean and least-squares slope over the last ``window`` cycles (fewer at the start), and the
engine's age in cycles. They are normalised with the training set's mean and standard deviation.

The numeric core runs in the C++ engine (``edgeswarm._core``, Eigen): window features, the random
features, the ridge solve (normal equations by Eigen's LDLT), prediction and the health index, with
the GIL released. This module loads and orders the data and keeps the public API.

Non-finite sensor readings: a cycle with NaN or infinity in any of the model's sensor columns is
skipped. It gets no feature row, is never part of a window's mean or slope, and is counted
(``MaintenanceModel.skipped_cycles``, :func:`skipped_cycles`). Time is the cycle's position in its
engine's history, so a skipped cycle leaves a gap rather than shifting later cycles. Unit and cycle
numbers must be finite. A test engine with no finite cycle cannot be predicted (ValueError).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeswarm import _core
from edgeswarm._validate import require_choice, require_float, require_int

RUL_CAP = 125
"""Training targets are capped here: early in life an engine's wear is not visible in its sensors."""

MODELS = ("ridge", "random_features")
N_COLUMNS = 26  # unit, cycle, 3 operational settings, 21 sensors
FIRST_SENSOR = 5
CONSTANT_TOLERANCE = 1e-6
AGE_SCALE = 100.0  # the age feature is cycles / AGE_SCALE (kRulAgeScale in rul_features.hpp)


@dataclass(frozen=True)
class Fd001:
    """The FD001 subset: raw train and test rows (unit, cycle, settings, sensors) and the test engines' true RUL."""

    train: np.ndarray
    test: np.ndarray
    rul: np.ndarray


@dataclass(frozen=True)
class MaintenanceModel:
    """A fitted RUL model: which sensor columns it reads, its normalisation and its ridge weights."""

    kind: str
    columns: np.ndarray
    window: int
    mean: np.ndarray
    std: np.ndarray
    weights: np.ndarray
    projection: np.ndarray  # (n_inputs, n_features); empty for "ridge"
    offset: np.ndarray  # (n_features,); empty for "ridge"
    seed: int | None
    skipped_cycles: int = 0  # training cycles skipped for a NaN or infinite reading

    def digest(self) -> str:
        """A SHA-256 over every fitted number: equal digests mean bit-identical models."""
        h = hashlib.sha256(self.kind.encode())
        for a in (self.columns, self.mean, self.std, self.weights, self.projection, self.offset):
            h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()


# The files of the FD001 subset that `load_fd001` reads.
FD001_FILES: tuple[str, ...] = ("train_FD001.txt", "test_FD001.txt", "RUL_FD001.txt")


def check_fd001_folder(data_dir: str | Path) -> None:
    """Raises ValueError unless `data_dir` is a folder holding every file of FD001, each non-empty
    (cheap: nothing is parsed), so an evaluation can be refused before it starts."""
    path = Path(data_dir)
    if not path.is_dir():
        raise ValueError(
            f"data_dir: {str(path)!r} is not a folder; expected the folder with {', '.join(FD001_FILES)}"
        )
    for name in FD001_FILES:
        if not (path / name).is_file() or (path / name).stat().st_size == 0:
            raise ValueError(
                f"data_dir: {str(path)!r} has no non-empty {name}; "
                f"expected the folder with {', '.join(FD001_FILES)}"
            )


def _read(path: Path) -> np.ndarray:
    if not path.is_file():
        raise FileNotFoundError(f"data_dir: missing {path}")
    return np.loadtxt(path, ndmin=2)


def _check_rows(name: str, rows: object) -> np.ndarray:
    a = np.asarray(rows, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != N_COLUMNS or a.shape[0] == 0:
        raise ValueError(f"{name}: shape {a.shape} is not allowed; expected (n_rows > 0, {N_COLUMNS})")
    if not np.all(np.isfinite(a[:, :2])):
        raise ValueError(
            f"{name}: NaN or infinity in the unit or cycle column; only finite values are allowed there "
            "(sensor readings may be non-finite: those cycles are skipped)"
        )
    return a


def load_fd001(data_dir: str | Path) -> Fd001:
    """Reads ``train_FD001.txt``, ``test_FD001.txt`` and ``RUL_FD001.txt`` from `data_dir`."""
    d = Path(data_dir)
    train = _check_rows("train", _read(d / "train_FD001.txt"))
    test = _check_rows("test", _read(d / "test_FD001.txt"))
    rul = _read(d / "RUL_FD001.txt").ravel()
    n_units = len(np.unique(test[:, 0]))
    if len(rul) != n_units:
        raise ValueError(f"rul: {len(rul)} values for {n_units} test engines; expected one per engine")
    return Fd001(train, test, rul)


def informative_columns(train: np.ndarray) -> np.ndarray:
    """Indices of the sensor columns that vary over the training set (FD001 has seven constant ones)."""
    train = _check_rows("train", train)
    sensors = train[:, FIRST_SENSOR:]
    finite = np.isfinite(sensors)
    if finite.all():
        spread = sensors.std(axis=0)
    else:  # the spread of each column's finite readings; a column with none is not informative
        spread = np.array([c[f].std() if f.any() else 0.0 for c, f in zip(sensors.T, finite.T, strict=True)])
    return np.flatnonzero(spread > CONSTANT_TOLERANCE) + FIRST_SENSOR


def _units(rows: np.ndarray) -> list[np.ndarray]:
    """Rows of each engine in unit order, sorted by cycle."""
    order = np.lexsort((rows[:, 1], rows[:, 0]))
    rows = rows[order]
    starts = np.flatnonzero(np.diff(rows[:, 0])) + 1
    return np.split(rows, starts)


def _engine_order(rows: np.ndarray, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sensor `columns` of `rows` sorted by (unit, cycle), and each engine's first row plus the end."""
    order = np.lexsort((rows[:, 1], rows[:, 0]))
    units = rows[order, 0]
    starts = np.concatenate([[0], np.flatnonzero(np.diff(units)) + 1, [len(units)]]).astype(np.int64)
    return np.ascontiguousarray(rows[np.ix_(order, columns)]), starts


def features(rows: np.ndarray, columns: np.ndarray, window: int) -> list[np.ndarray]:
    """Unnormalised feature rows for every finite cycle of every engine, one array per engine in unit order."""
    rows = _check_rows("rows", rows)
    window = require_int("window", window, minimum=2)
    x, starts = _engine_order(rows, np.asarray(columns, dtype=np.int64))
    f = _core.rul_window_features(x, starts, window)
    engine = np.searchsorted(starts, f["source_row"], side="right") - 1
    per_engine = np.bincount(engine, minlength=len(starts) - 1)
    return np.split(f["features"], np.cumsum(per_engine)[:-1])


def skipped_cycles(model: MaintenanceModel, rows: np.ndarray) -> int:
    """How many cycles of `rows` have a NaN or infinite reading in the model's columns (skipped, not used)."""
    rows = _check_rows("rows", rows)
    return int(np.count_nonzero(~np.isfinite(rows[:, model.columns]).all(axis=1)))


def rul_targets(rows: np.ndarray, *, cap: int = RUL_CAP) -> np.ndarray:
    """Capped RUL of each training row (engines run to failure), in the order of :func:`features`."""
    cap = require_int("cap", cap, minimum=1)
    return np.concatenate([np.minimum(np.arange(len(u))[::-1], cap) for u in _units(rows)]).astype(np.float64)


def fit_maintenance(
    train: np.ndarray,
    *,
    model: str = "random_features",
    seed: int = 0,
    window: int = 30,
    n_features: int = 500,
    alpha: float = 10.0,
) -> MaintenanceModel:
    """Fits a RUL model on run-to-failure training rows only; `seed` is used by ``"random_features"`` alone."""
    train = _check_rows("train", train)
    kind = require_choice("model", model, MODELS)
    seed = require_int("seed", seed, minimum=0)
    window = require_int("window", window, minimum=2)
    n_features = require_int("n_features", n_features, minimum=1)
    alpha = require_float("alpha", alpha, minimum=0.0)
    columns = informative_columns(train)
    x, starts = _engine_order(train, columns)
    fit = _core.fit_rul_model(
        x, starts, window=window, model=kind, seed=seed, n_features=n_features, alpha=alpha, cap=RUL_CAP
    )
    return MaintenanceModel(
        kind,
        columns,
        window,
        fit["mean"],
        fit["std"],
        fit["weights"],
        fit["projection"],
        fit["offset"],
        seed if kind == "random_features" else None,
        int(fit["skipped"]),
    )


def predict_rul(model: MaintenanceModel, rows: np.ndarray, *, cap: int = RUL_CAP) -> np.ndarray:
    """Predicted RUL in cycles at each engine's last observed cycle, in unit order, clipped to [0, cap]."""
    cap = require_int("cap", cap, minimum=1)
    rows = _check_rows("rows", rows)
    x, starts = _engine_order(rows, model.columns)
    out = _core.predict_rul(
        x,
        starts,
        window=model.window,
        mean=model.mean,
        std=model.std,
        projection=model.projection,
        offset=model.offset,
        weights=model.weights,
        cap=cap,
    )
    return out["rul"]


def rmse(predicted: np.ndarray, true: np.ndarray) -> float:
    """Root mean squared error between predicted and true RUL."""
    d = _difference(predicted, true)
    return float(np.sqrt(np.mean(d * d)))


def nasa_score(predicted: np.ndarray, true: np.ndarray) -> float:
    """The asymmetric PHM08 score: sum of exp(-d/13)-1 for early (d<0) and exp(d/10)-1 for late predictions."""
    d = _difference(predicted, true)
    return float(np.sum(np.where(d < 0, np.expm1(-d / 13.0), np.expm1(d / 10.0))))


def _difference(predicted: np.ndarray, true: np.ndarray) -> np.ndarray:
    p = np.asarray(predicted, dtype=np.float64).ravel()
    t = np.asarray(true, dtype=np.float64).ravel()
    if p.shape != t.shape or p.size == 0:
        raise ValueError(
            f"predicted: {p.size} values for {t.size} true values; expected the same non-zero count"
        )
    if not (np.all(np.isfinite(p)) and np.all(np.isfinite(t))):
        raise ValueError("predicted: NaN or infinity in predicted or true; only finite values are allowed")
    return p - t


def health_index(rul: np.ndarray, *, cap: int = RUL_CAP) -> np.ndarray:
    """Health in [0, 1]: predicted RUL over the cap (1 = no visible wear, 0 = failure due now)."""
    cap = require_int("cap", cap, minimum=1)
    r = np.asarray(rul, dtype=np.float64)
    if not np.all(np.isfinite(r)):
        raise ValueError("rul: contains NaN or infinity; only finite values are allowed")
    return _core.health_index(r.ravel(), cap).reshape(r.shape)


def recommendations(
    device_ids: list[object],
    rul: np.ndarray,
    *,
    cycles_per_day: float = 1.0,
    horizon_days: int | None = None,
) -> list[str]:
    """Recommends "service device X within N days" for each device, most urgent first.

    One C-MAPSS cycle is one flight; the default assumes one flight a day, so N is the
    predicted RUL in cycles divided by `cycles_per_day`, rounded down (service early, not late).
    With `horizon_days`, only devices due within that many days are listed.
    """
    r = np.asarray(rul, dtype=np.float64).ravel()
    if len(device_ids) != r.size:
        raise ValueError(f"rul: {r.size} values for {len(device_ids)} devices; expected one per device")
    if not np.all(np.isfinite(r)) or np.any(r < 0):
        raise ValueError(
            "rul: contains NaN, infinity or negative values; only finite values >= 0 are allowed"
        )
    cycles_per_day = require_float("cycles_per_day", cycles_per_day, minimum=0.0)
    if cycles_per_day == 0.0:
        raise ValueError("cycles_per_day: 0.0 is out of range; allowed > 0")
    if horizon_days is not None:
        horizon_days = require_int("horizon_days", horizon_days, minimum=0)
    days = np.floor(r / cycles_per_day).astype(np.int64)
    out = []
    for i in np.argsort(days, kind="stable"):
        if horizon_days is None or days[i] <= horizon_days:
            out.append(f"service device {device_ids[i]} within {days[i]} {'day' if days[i] == 1 else 'days'}")
    return out


def evaluate_cmapss(
    data_dir: str | Path,
    *,
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4),
    model: str = "random_features",
    window: int = 30,
    n_features: int = 500,
    alpha: float = 10.0,
) -> dict:
    """RMSE and NASA score on FD001 at each test engine's last cycle, per seed and mean ± std.

    The model is fitted on the training file before the test file is read. A deterministic
    model (``"ridge"``) is fitted once and reported with std 0. ``fit_digests`` identify the
    fitted models bit for bit. The linear ridge baseline is always reported beside.
    ``predicted_rul`` (mean over seeds), ``true_rul`` and ``health_index`` are per test engine
    in unit order; feed them to :func:`recommendations` with the unit numbers as device ids.
    ``skipped_cycles`` counts the train and test cycles skipped for a NaN or infinite reading.
    """
    kind = require_choice("model", model, MODELS)
    seeds = tuple(require_int("seeds", s, minimum=0) for s in seeds)
    if not seeds:
        raise ValueError("seeds: () is empty; expected at least one seed")
    d = Path(data_dir)
    train = _check_rows("train", _read(d / "train_FD001.txt"))
    options = {"window": window, "n_features": n_features, "alpha": alpha}
    runs = seeds if kind == "random_features" else (0,)
    models = [fit_maintenance(train, model=kind, seed=s, **options) for s in runs]
    baseline = fit_maintenance(train, model="ridge", **options)
    data = load_fd001(d)
    per_seed = []
    predictions = []
    for s, m in zip(runs, models, strict=True):
        p = predict_rul(m, data.test)
        predictions.append(p)
        per_seed.append(
            {
                "seed": s if kind == "random_features" else None,
                "rmse": rmse(p, data.rul),
                "nasa": nasa_score(p, data.rul),
            }
        )
    r = np.array([x["rmse"] for x in per_seed])
    n = np.array([x["nasa"] for x in per_seed])
    pb = predict_rul(baseline, data.test)
    mean_rul = np.mean(predictions, axis=0)  # per test engine (unit order), averaged over seeds
    return {
        "dataset": "FD001",
        "model": kind,
        "rul_cap": RUL_CAP,
        "window": window,
        "n_features": n_features if kind == "random_features" else 0,
        "alpha": alpha,
        "seeds": list(seeds) if kind == "random_features" else [],
        "n_test_engines": int(data.rul.size),
        "rmse": float(r.mean()),
        "rmse_std": float(r.std()),
        "nasa": float(n.mean()),
        "nasa_std": float(n.std()),
        "per_seed": per_seed,
        "baseline_ridge": {"rmse": rmse(pb, data.rul), "nasa": nasa_score(pb, data.rul)},
        "fit_digests": [m.digest() for m in models],
        "predicted_rul": mean_rul.tolist(),
        "true_rul": data.rul.tolist(),
        "health_index": health_index(mean_rul).tolist(),
        "skipped_cycles": {"train": models[0].skipped_cycles, "test": skipped_cycles(models[0], data.test)},
    }
