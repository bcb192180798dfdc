"""The service under load, on loopback: REST throughput, WebSocket fan-out, epoch-loop headroom.

    python benchmarks/bench_service.py [--connections 100] [--seconds 10] [--ws-clients 100]
                                       [--ws-seconds 20] [--sizes 100 1000 10000 100000 1000000]

1. GET /api/status with `--connections` concurrent keep-alive clients (benchmarks/http_load.py),
   beside the same load on a bare FastAPI endpoint (benchmarks/bare_app.py) under the same
   uvicorn; requests/s, p50/p99 latency and the ratio. Server and load generator share the
   machine's cores, so both columns carry the generator's cost alike.
2. `--ws-clients` WebSocket clients on /ws while the service runs one epoch per 500 ms (2 Hz);
   delivery delay = client receive time - the epoch message's `sent_at` (same clock).
3. Epoch-loop headroom: the service's whole per-epoch work (swarm epoch, status, history row,
   node-state list, SQLite history row, WebSocket publish, edge tick) timed in-process for each
   swarm size; the loop sustains a size when its median step is under the 500 ms period.

Writes benchmarks/results/service.json and prints Markdown tables.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "service.json"
sys.path.insert(0, str(HERE))

from http_load import run_load

PERIOD_MS = 500


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, deadline_s: float = 60.0) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1) as response:
            if response.status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {deadline_s} s")


@contextlib.contextmanager
def server(command: list[str], port: int, *, cwd: Path | None = None, env: dict | None = None):
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}/api/status")
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def edgeswarm_server(port: int, db: Path, *, nodes: int = 100):
    env = dict(os.environ, EDGESWARM_ADMIN_PASSWORD="bench-admin-password")
    command = [sys.executable, "-m", "edgeswarm", "serve", "--port", str(port), "--db", str(db)]
    command += ["--nodes", str(nodes), "--epoch-ms", str(PERIOD_MS), "--quiet"]
    return server(command, port, env=env)


def bare_server(port: int):
    command = [sys.executable, "-m", "uvicorn", "bare_app:app", "--port", str(port), "--log-level", "warning"]
    return server(command, port, cwd=HERE)


def rest_load(connections: int, seconds: float, tmp: Path) -> dict:
    rows = {}
    port = free_port()
    with edgeswarm_server(port, tmp / "rest.db"):
        rows["edgeswarm"] = run_load(
            "127.0.0.1", port, "/api/status", connections=connections, duration_s=seconds
        )
    port = free_port()
    with bare_server(port):
        rows["bare"] = run_load("127.0.0.1", port, "/api/status", connections=connections, duration_s=seconds)
    out = {name: result.summary() for name, result in rows.items()}
    out["ratio_rps_edgeswarm_to_bare"] = round(
        rows["edgeswarm"].requests_per_s / rows["bare"].requests_per_s, 3
    )
    return out


async def _ws_client(url: str, stop: float, delays: list[float], counts: list[int]) -> None:
    from websockets.asyncio.client import connect

    received = 0
    async with connect(url, max_size=None) as ws:
        while True:
            remaining = stop - time.time()
            if remaining <= 0:
                break
            try:
                text = await asyncio.wait_for(ws.recv(), timeout=remaining)
            except asyncio.TimeoutError:
                break
            now = time.time()
            message = json.loads(text)
            if message.get("type") == "epoch":
                delays.append(now - message["sent_at"])
                received += 1
    counts.append(received)


async def _ws_fanout(url: str, clients: int, seconds: float) -> tuple[list[float], list[int]]:
    delays: list[float] = []
    counts: list[int] = []
    stop = time.time() + seconds
    await asyncio.gather(*(_ws_client(url, stop, delays, counts) for _ in range(clients)))
    return delays, counts


def ws_fanout(clients: int, seconds: float, tmp: Path) -> dict:
    port = free_port()
    with edgeswarm_server(port, tmp / "ws.db"):
        delays, counts = asyncio.run(_ws_fanout(f"ws://127.0.0.1:{port}/ws", clients, seconds))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=5) as response:
            status = json.load(response)
    d = np.array(delays) * 1e3
    return {
        "clients": clients,
        "seconds": seconds,
        "rate_hz": 1000 / PERIOD_MS,
        "messages": len(d),
        "per_client_min": min(counts),
        "per_client_max": max(counts),
        "delay_p50_ms": round(float(np.percentile(d, 50)), 3),
        "delay_p99_ms": round(float(np.percentile(d, 99)), 3),
        "delay_max_ms": round(float(d.max()), 3),
        "hub_dropped": status.get("ws", {}).get("dropped"),
    }


HEADROOM_CHILD = r"""
import json, sys, tempfile, time
from pathlib import Path
import numpy as np
from fastapi.testclient import TestClient
from edgeswarm.service import Settings, create_app
n, steps = int(sys.argv[1]), int(sys.argv[2])
with tempfile.TemporaryDirectory() as tmp:
    settings = Settings(nodes=n, realtime=False, print_epochs=False, db_path=str(Path(tmp) / "h.db"),
                        admin_password="headroom-admin-password", seed=1)
    app = create_app(settings)
    with TestClient(app):
        swarm_loop = app.state.swarm_loop
        swarm_loop.swarm.inject_byzantine(count=n // 10, bias=0.9)
        swarm_loop.step()  # warm-up
        times = []
        for _ in range(steps):
            t0 = time.perf_counter()
            swarm_loop.step()
            times.append(time.perf_counter() - t0)
        edge = app.state.edge is not None
print(json.dumps({"nodes": n, "step_ms_median": 1e3 * float(np.median(times)),
                  "step_ms_max": 1e3 * float(np.max(times)), "edge_loaded": edge}))
"""


def headroom(sizes: list[int], steps: int) -> list[dict]:
    rows = []
    for n in sizes:
        result = subprocess.run(
            [sys.executable, "-c", HEADROOM_CHILD, str(n), str(steps)],
            capture_output=True,
            text=True,
            check=True,
        )
        row = json.loads(result.stdout.strip().splitlines()[-1])
        row["headroom"] = round(PERIOD_MS / row["step_ms_median"], 2)
        row["sustained"] = row["step_ms_median"] < PERIOD_MS
        rows.append(row)
        print(
            f"  {n:>9} nodes: {row['step_ms_median']:.2f} ms/epoch (headroom {row['headroom']}x)", flush=True
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--ws-clients", type=int, default=100)
    parser.add_argument("--ws-seconds", type=float, default=20.0)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        print(f"GET /api/status, {args.connections} connections, {args.seconds} s each ...", flush=True)
        rest = rest_load(args.connections, args.seconds, tmp)
        print(f"WebSocket fan-out, {args.ws_clients} clients, {args.ws_seconds} s ...", flush=True)
        ws = ws_fanout(args.ws_clients, args.ws_seconds, tmp)
    print("Epoch-loop headroom ...", flush=True)
    loop = headroom(args.sizes, args.steps)

    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"rest": rest, "websocket": ws, "headroom": loop}, indent=2) + "\n")

    print(f"\n| GET /api/status, {args.connections} connections | requests/s | p50 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|")
    for name in ("edgeswarm", "bare"):
        r = rest[name]
        print(
            f"| {name} | {r['requests_per_s']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['errors']} |"
        )
    print(f"\nedgeswarm / bare requests/s: {rest['ratio_rps_edgeswarm_to_bare']}")
    print("\n| WebSocket clients | rate | messages | delay p50 ms | delay p99 ms | max ms | dropped |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {ws['clients']} | {ws['rate_hz']:g} Hz | {ws['messages']} | {ws['delay_p50_ms']:.2f} | "
        f"{ws['delay_p99_ms']:.2f} | {ws['delay_max_ms']:.2f} | {ws['hub_dropped']} |"
    )
    print("\n| nodes | service step ms (median) | max ms | headroom at 500 ms | sustained |")
    print("|---:|---:|---:|---:|---|")
    for row in loop:
        print(
            f"| {row['nodes']:,} | {row['step_ms_median']:.2f} | {row['step_ms_max']:.2f} | "
            f"{row['headroom']:g}x | {'yes' if row['sustained'] else 'no'} |"
        )


if __name__ == "__main__":
    main()
