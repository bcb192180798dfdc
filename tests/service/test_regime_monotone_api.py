"""POST /api/inject_noise with rising intensity: the regime in GET /api/status never goes back.

Issue 14, item 4 (the engine-level sweep is tests/test_regime_monotone.py). The service's test
fleet (100 nodes, seed 7) is stepped by hand, 30 epochs per intensity, the noise outlasting them.
"""

from __future__ import annotations

from edgeswarm import REGIMES
from fastapi.testclient import TestClient

# The sweep of issue 14 (0 up to the API's maximum, 1000).
REST_INTENSITIES = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 100.0, 300.0, 1000.0)
REST_STEPS = 30


def test_rest_regime_never_goes_back_as_noise_rises(client: TestClient, operator: dict[str, str]) -> None:
    seen: list[tuple[float, str]] = []
    for intensity in REST_INTENSITIES:
        response = client.post(
            "/api/inject_noise", json={"intensity": intensity, "duration_sec": 3600}, headers=operator
        )
        assert response.status_code == 200, response.text
        for _ in range(REST_STEPS):
            client.app.state.swarm_loop.step()
        status = client.get("/api/status")
        assert status.status_code == 200, status.text
        seen.append((intensity, status.json()["regime"]))
    codes = [REGIMES.index(regime) for _, regime in seen]
    assert codes == sorted(codes), seen
    assert seen[0][1] == "Calm", seen
    assert seen[-1][1] == "Storm", seen
