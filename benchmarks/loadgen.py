"""A concurrent keep-alive HTTP/1.1 client: N connections, each sending its own stream of
pre-built requests one after another, for a fixed time.

Requests are encoded (and signed) before the clock starts, and the client parses only the
status line, the headers and the body's length, so on a small machine it takes little of the
CPU the server needs. ``BENCH_CLIENT=httpx`` runs the same streams through
``httpx.AsyncClient`` (one pool with ``N`` keep-alive connections) to cross-check a figure.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Req:
    """One request, encoded once; ``ok`` is the statuses that count as a correct answer."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    ok: frozenset[int]
    raw: bytes = b""

    @classmethod
    def build(
        cls,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes = b"",
        ok: Iterable[int] = (200,),
    ) -> Req:
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        return cls(method, path, tuple(headers.items()), body, frozenset(ok), raw)


@dataclass
class Result:
    """What one run measured: answers completed inside the measured window."""

    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    answered: int = 0  # every answer of the run, warm-up included

    @property
    def count(self) -> int:
        return len(self.latencies_ms)

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")

    @property
    def p99(self) -> float:
        return percentile(self.latencies_ms, 0.99)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class _Recorder:
    def __init__(self, measure_from: float, measure_to: float) -> None:
        self.measure_from = measure_from
        self.measure_to = measure_to
        self.result = Result(seconds=measure_to - measure_from)

    def record(self, req: Req, status: int, body: bytes, started: float, ended: float) -> None:
        self.result.answered += 1
        if not self.measure_from <= ended <= self.measure_to:
            return
        if status in req.ok:
            self.result.latencies_ms.append((ended - started) * 1000)
            return
        self.result.errors += 1
        if not self.result.first_error:
            text = body[:300].decode("utf-8", "replace")
            self.result.first_error = f"{req.method} {req.path} -> {status}: {text}"


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    chunked = close = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection" and b"close" in value.lower():
            close = True
    if not chunked:
        return status, await reader.readexactly(length), close
    parts = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return status, b"".join(parts), close
        parts.append((await reader.readexactly(size + 2))[:-2])


async def _raw_connection(
    host: str, port: int, stream: Iterator[Req], stop_at: float, rec: _Recorder
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for req in stream:
            if time.perf_counter() >= stop_at:
                return
            started = time.perf_counter()
            writer.write(req.raw)
            status, body, close = await _read_response(reader)
            rec.record(req, status, body, started, time.perf_counter())
            if close:
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
    finally:
        writer.close()


async def _httpx_connections(
    host: str, port: int, streams: list[Iterator[Req]], stop_at: float, rec: _Recorder
) -> None:
    import httpx

    limits = httpx.Limits(max_connections=len(streams), max_keepalive_connections=len(streams))
    async with httpx.AsyncClient(base_url=f"http://{host}:{port}", limits=limits) as client:

        async def one(stream: Iterator[Req]) -> None:
            for req in stream:
                if time.perf_counter() >= stop_at:
                    return
                started = time.perf_counter()
                response = await client.request(
                    req.method, req.path, headers=dict(req.headers), content=req.body
                )
                rec.record(
                    req, response.status_code, response.content, started, time.perf_counter()
                )

        await asyncio.gather(*(one(s) for s in streams))


def run(
    host: str, port: int, streams: list[Iterator[Req]], *, seconds: float, warmup: float
) -> Result:
    """Send every stream on its own keep-alive connection for ``warmup + seconds``; answers
    completed in the last ``seconds`` are measured (a late request still ends its run)."""

    async def main() -> Result:
        start = time.perf_counter()
        rec = _Recorder(start + warmup, start + warmup + seconds)
        stop_at = rec.measure_to
        if os.environ.get("BENCH_CLIENT") == "httpx":
            await _httpx_connections(host, port, streams, stop_at, rec)
        else:
            await asyncio.gather(*(_raw_connection(host, port, s, stop_at, rec) for s in streams))
        return rec.result

    return asyncio.run(main())
