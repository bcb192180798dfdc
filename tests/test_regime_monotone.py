"""The regime is monotone in the injected noise: Calm < PreStorm < Storm never goes back as it rises.

Issue 14, item 4: residuals beyond `residual_range` used to collapse into the last histogram bin,
so intensities of 5 to 1000 read as Calm. The sweep goes through `Swarm.inject_noise`, the call
`SwarmLoop.inject_noise` (and so POST /api/inject_noise) makes; the same check through the REST API
is tests/service/test_regime_monotone_api.py (it needs the service fixtures).

Run as a script to print the measured table (intensity, regime, mean entropy):
    .venv/bin/python tests/test_regime_monotone.py
"""

from __future__ import annotations

import pytest
from edgeswarm import REGIMES, Swarm

# The sweep of issue 14 (0 up to the API's maximum, 1000).
INTENSITIES = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 100.0, 300.0, 1000.0)
SEED = 7
NODES = 100  # the service's test fleet (tests/service/conftest.py)
EPOCH_MS = 500
CALM_EPOCHS = 20  # before the noise, so the consensus has settled
NOISY_EPOCHS = 60  # long enough for the hysteresis to settle (3 confirmations per step)
DURATION_S = 3600.0  # outlasts the run


def regime_under_noise(intensity: float) -> tuple[str, float]:
    """The regime after NOISY_EPOCHS of noise `intensity` on a fresh seeded swarm, and the mean
    entropy over the noisy epochs."""
    swarm = Swarm(NODES, seed=SEED, epoch_ms=EPOCH_MS, history=0)
    for _ in range(CALM_EPOCHS):
        swarm.step()
    swarm.inject_noise(intensity=intensity, duration_s=DURATION_S)
    rows = [swarm.step() for _ in range(NOISY_EPOCHS)]
    mean_entropy = sum(float(row["entropy"]) for row in rows) / len(rows)
    return str(rows[-1]["regime"]), mean_entropy


def test_sweep_is_monotone_from_calm_to_storm() -> None:
    regimes = [regime_under_noise(intensity)[0] for intensity in INTENSITIES]
    codes = [REGIMES.index(name) for name in regimes]
    table = dict(zip(INTENSITIES, regimes, strict=True))
    assert regimes[0] == "Calm", table
    assert regimes[-1] == "Storm", table
    assert codes == sorted(codes), f"the regime went back as the noise rose: {table}"


def test_sweep_is_deterministic() -> None:
    assert regime_under_noise(100.0) == regime_under_noise(100.0)


@pytest.mark.parametrize("intensity", [100.0, 1000.0])
def test_extreme_noise_entropy_is_near_maximal(intensity: float) -> None:
    # Nearly every residual is beyond the range: that is maximal disorder, not one quiet bin.
    _, mean_entropy = regime_under_noise(intensity)
    assert mean_entropy > 0.9


if __name__ == "__main__":
    for intensity in INTENSITIES:
        regime, mean_entropy = regime_under_noise(intensity)
        print(f"{intensity:>7g}  {regime:<8}  {mean_entropy:.3f}")
