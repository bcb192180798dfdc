"""A small closed-loop HTTP/1.1 load generator on raw asyncio sockets, for loopback benchmarks.

Each of `connections` clients keeps one keep-alive connection and sends the next GET as soon
as the previous response is read, for `duration_s` seconds after a warm-up. Raw sockets rather
than an HTTP client library, so that the generator's own cost stays small beside the server's
(both share the machine's cores).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_s: np.ndarray

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.seconds

    def percentile_ms(self, q: float) -> float:
        return float(np.percentile(self.latencies_s, q) * 1e3) if len(self.latencies_s) else float("nan")

    def summary(self) -> dict[str, float | int]:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "requests_per_s": round(self.requests_per_s, 1),
            "p50_ms": round(self.percentile_ms(50), 3),
            "p99_ms": round(self.percentile_ms(99), 3),
        }


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Reads one response (Content-Length or chunked body); returns its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def _client(host: str, port: int, request: bytes, start: float, stop: float, out: list) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    latencies: list[float] = []
    errors = 0
    try:
        while True:
            t0 = time.perf_counter()
            if t0 >= stop:
                break
            writer.write(request)
            status = await _read_response(reader)
            t1 = time.perf_counter()
            if t0 >= start:  # after the warm-up
                if status == 200:
                    latencies.append(t1 - t0)
                else:
                    errors += 1
    finally:
        writer.close()
    out.append((latencies, errors))


async def _run(host: str, port: int, path: str, connections: int, duration_s: float, warmup_s: float):
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: keep-alive\r\n\r\n".encode()
    now = time.perf_counter()
    start, stop = now + warmup_s, now + warmup_s + duration_s
    out: list = []
    await asyncio.gather(*(_client(host, port, request, start, stop, out) for _ in range(connections)))
    latencies = np.array([x for lat, _ in out for x in lat])
    return LoadResult(len(latencies), sum(e for _, e in out), duration_s, latencies)


def run_load(
    host: str,
    port: int,
    path: str,
    *,
    connections: int = 100,
    duration_s: float = 10.0,
    warmup_s: float = 2.0,
) -> LoadResult:
    """Drives GET `path` with `connections` concurrent keep-alive clients; returns counts and latencies."""
    if connections < 1:
        raise ValueError(f"connections: {connections} is not allowed; allowed: >= 1")
    if duration_s <= 0:
        raise ValueError(f"duration_s: {duration_s} is not allowed; allowed: > 0")
    return asyncio.run(_run(host, port, path, connections, duration_s, warmup_s))
