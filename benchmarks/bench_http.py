"""Where people wait: our three busiest request paths, served for real, under concurrent load.

Ours runs as in production (``python -m assistant serve``: uvicorn in a subprocess, the real app,
a scratch database with the demo people and 32 signed-in practice staff); beside it, in the same
run, on the same kind of database and served the same way, a minimal correct version of each
path (``benchmarks/minimal_app.py``). A keep-alive client (``benchmarks/loadgen.py``) keeps 8,
then 32, connections busy with pre-built, pre-signed requests:

- SMS webhook (``POST /sms/twilio``): people texting the guide, with Twilio retries;
- chat ask (``POST /chat/ask``): practice staff asking questions;
- form submission (``POST /api/forms/flag_problem/submissions``), with repeats of a submission.

Each comparison is 5 pairs of runs (``BENCH_RUNS``), ours and minimal back to back, alternating
which goes first; each run is 1 s of warm-up and 3 s measured (``BENCH_SECONDS``). Printed: the
median requests/s, p50 and p99 latency of ours and of minimal, the server's CPU time per request
(a server of one process answers at most 1000 / CPU ms requests a second), their ratios, and
PASS/MISS against the targets (the command does not fail on a MISS). The throughput ratio
judged is the median of the pairs' own ratios: on a shared machine both servers' speed moves
by a quarter or more over tens of seconds, and the two runs of a pair meet nearly the same
machine.

- ours >= 0.5x the minimal version's throughput, every path, SQLite and PostgreSQL;
- p99 < 100 ms at concurrency 8 on SQLite, every path;
- two web processes (``serve --workers 2``) >= 1.5x one, on PostgreSQL, 32 connections.

Also: the slowest of the first answers of a new process (8 at once, each path; SQLite), and
the latency of one keep-alive request to two web processes, served by uvicorn's own
``--workers`` and by ``serve --workers`` (which turns Nagle's algorithm off).

SQLite always; PostgreSQL when BENCH_DATABASE_URL or TEST_DATABASE_URL is set (scratch schemas,
dropped afterwards). ``BENCH_SCENARIOS=sms,chat`` and ``BENCH_RUNS`` narrow a run while working.
"""

from __future__ import annotations

import itertools
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmarks import loadgen, served, streams
from benchmarks.loadgen import Req, Result
from benchmarks.served import Databases, Server, Staff

CONCURRENCY = (8, 32)
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
WARMUP = 1.0
THROUGHPUT_TARGET = 0.5
P99_TARGET_MS = 100.0
WORKERS_TARGET = 1.5
WORKERS_CONCURRENCY = 32

Build = Callable[[list[Staff], int], list[Iterator[Req]]]
FIGURES = f"{'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'CPU ms':>6}"


@dataclass(frozen=True)
class Run:
    result: Result
    cpu_ms: float  # the server's CPU time per answer
    server_cores: float  # the server's CPU time over the run's time
    machine_busy: float  # the share of all the machine's CPUs busy (anyone's work) in the run


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine so far (Linux /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return sum(values) - idle, sum(values)


@dataclass(frozen=True)
class Figures:
    rate: float
    p50: float
    p99: float
    cpu_ms: float
    server_cores: float
    machine_busy: float
    errors: int
    first_error: str

    @classmethod
    def median_of(cls, runs: list[Run]) -> Figures:
        results = [r.result for r in runs]
        return cls(
            rate=statistics.median(r.rate for r in results),
            p50=statistics.median(r.p50 for r in results),
            p99=statistics.median(r.p99 for r in results),
            cpu_ms=statistics.median(r.cpu_ms for r in runs),
            server_cores=statistics.median(r.server_cores for r in runs),
            machine_busy=statistics.median(r.machine_busy for r in runs),
            errors=sum(r.errors for r in results),
            first_error=next((r.first_error for r in results if r.first_error), ""),
        )

    def columns(self) -> str:
        return f"{self.rate:7.1f} {self.p50:7.1f} {self.p99:7.1f} {self.cpu_ms:6.2f}"


@dataclass(frozen=True)
class Target:
    name: str
    figure: str
    met: bool


@dataclass
class Served:
    server: Server
    staff: list[Staff]


def _verdict(met: bool) -> str:
    return "PASS" if met else "MISS"


def _measure(target: Served, build: Build, concurrency: int) -> Run:
    requests = build(target.staff, concurrency)
    cpu, machine, wall = target.server.cpu_seconds(), _machine_ticks(), time.perf_counter()
    result = loadgen.run("127.0.0.1", target.server.port, requests, seconds=SECONDS, warmup=WARMUP)
    cpu, wall = target.server.cpu_seconds() - cpu, time.perf_counter() - wall
    busy, total = (after - before for after, before in zip(_machine_ticks(), machine, strict=True))
    return Run(
        result,
        cpu_ms=cpu * 1000 / result.answered if result.answered else float("nan"),
        server_cores=cpu / wall,
        machine_busy=busy / total if total else float("nan"),
    )


@dataclass(frozen=True)
class Comparison:
    a: Figures
    b: Figures
    ratio: float  # a's throughput / b's: the median of the pairs' ratios


def _compare(a: Served, b: Served, build: Build, concurrency: int) -> Comparison:
    """``RUNS`` pairs of runs, one of each back to back (alternating which goes first): the
    median figures of each, and the median of the pairs' throughput ratios. On a shared
    machine the speed of both moves over tens of seconds; a pair's two runs meet nearly the
    same machine, so their ratio moves far less than either figure."""
    runs: tuple[list[Run], list[Run]] = ([], [])
    ratios: list[float] = []
    for n in range(RUNS):
        for which in (0, 1) if n % 2 == 0 else (1, 0):
            runs[which].append(_measure((a, b)[which], build, concurrency))
        ratios.append(_ratio(runs[0][-1].result.rate, runs[1][-1].result.rate))
    return Comparison(
        Figures.median_of(runs[0]), Figures.median_of(runs[1]), statistics.median(ratios)
    )


def _errors(label: str, figures: Figures) -> None:
    if figures.errors:
        print(f"      ! {label}: {figures.errors} wrong answers, first: {figures.first_error}")


def _scenarios() -> list[str]:
    wanted = os.environ.get("BENCH_SCENARIOS", "")
    chosen = [s.strip() for s in wanted.split(",") if s.strip()]
    return [s for s in streams.SCENARIOS if not chosen or s in chosen]


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def ours_vs_minimal(dbs: Databases, logs: Path, targets: list[Target]) -> None:
    ours_staff = served.seed_ours(dbs.ours)
    minimal_staff = served.seed_minimal(dbs.minimal)
    ours_port, minimal_port = served.free_port(), served.free_port()
    ours_env, minimal_env = (
        served.ours_environment(dbs.ours),
        served.minimal_environment(dbs.minimal),
    )
    with (
        served.serving(
            "ours", served.ours_command(ours_port, 1), ours_env, ours_port, logs
        ) as ours_server,
        served.serving(
            "minimal", served.minimal_command(minimal_port), minimal_env, minimal_port, logs
        ) as minimal_server,
    ):
        ours = Served(ours_server, ours_staff)
        minimal = Served(minimal_server, minimal_staff)
        print(f"-- {dbs.kind}: ours (serve, 1 process) vs minimal (1 process), median of {RUNS}")
        print(
            f"   {'':21} | {'ours':^30} | {'minimal':^30} | {'ours / minimal':^23} |\n"
            f"   {'':16} {'conn':>4} | {FIGURES} | {FIGURES} | "
            f"{'req/s':>5} {'p50':>5} {'p99':>5} {'CPU':>5} | targets"
        )
        seen: list[tuple[Figures, Figures]] = []
        for scenario in _scenarios():
            build = streams.builder(scenario)
            title = streams.TITLES[scenario]
            for concurrency in CONCURRENCY:
                compared = _compare(ours, minimal, build, concurrency)
                mine, base, ratio = compared.a, compared.b, compared.ratio
                met = ratio >= THROUGHPUT_TARGET
                verdicts = [f"req/s >= {THROUGHPUT_TARGET}x {_verdict(met)}"]
                targets.append(
                    Target(
                        f"{dbs.kind} {title}, {concurrency} connections: "
                        f"ours >= {THROUGHPUT_TARGET}x minimal throughput",
                        f"{ratio:.2f}x ({mine.rate:.0f} vs {base.rate:.0f} req/s)",
                        met,
                    )
                )
                if dbs.kind == "SQLite" and concurrency == 8:
                    met = mine.errors == 0 and mine.p99 < P99_TARGET_MS
                    verdicts.append(f"p99 < {P99_TARGET_MS:.0f} ms {_verdict(met)}")
                    targets.append(
                        Target(
                            f"SQLite {title}, 8 connections: p99 < {P99_TARGET_MS:.0f} ms",
                            f"{mine.p99:.1f} ms",
                            met,
                        )
                    )
                print(
                    f"   {title:16} {concurrency:4} | {mine.columns()} | {base.columns()} | "
                    f"{ratio:4.2f}x {_ratio(mine.p50, base.p50):4.1f}x "
                    f"{_ratio(mine.p99, base.p99):4.1f}x {_ratio(mine.cpu_ms, base.cpu_ms):4.1f}x"
                    f" | {', '.join(verdicts)}"
                )
                _errors("ours", mine)
                _errors("minimal", base)
                seen.append((mine, base))
        if seen:
            ours_cores = [m.server_cores for m, _ in seen]
            minimal_cores = [b.server_cores for _, b in seen]
            busy = [f.machine_busy for pair in seen for f in pair]
            print(
                f"   server busy: ours {min(ours_cores):.2f}-{max(ours_cores):.2f} cores, "
                f"minimal {min(minimal_cores):.2f}-{max(minimal_cores):.2f} (one process: at "
                f"most 1 with the GIL); whole machine {min(busy):.0%}-{max(busy):.0%} busy"
            )


def two_processes_vs_one(dbs: Databases, logs: Path, targets: list[Target]) -> None:
    """``serve --workers 2`` against ``serve`` (one process), the same database and client."""
    staff = served.seed_ours(dbs.ours)
    one_port, two_port = served.free_port(), served.free_port()
    env = served.ours_environment(dbs.ours)
    with (
        served.serving("ours-1", served.ours_command(one_port, 1), env, one_port, logs) as one,
        served.serving("ours-2", served.ours_command(two_port, 2), env, two_port, logs) as two,
    ):
        served.wait_for_workers(two, 2)
        print(
            f"-- {dbs.kind}: two web processes (serve --workers 2) vs one, "
            f"{WORKERS_CONCURRENCY} connections, median of {RUNS}"
        )
        print(
            f"   {'':16} | {'1 process':^30} | {'2 processes':^30} |\n"
            f"   {'':16} | {FIGURES} | {FIGURES} | 2/1 req/s | target"
        )
        for scenario in _scenarios():
            build = streams.builder(scenario)
            compared = _compare(Served(two, staff), Served(one, staff), build, WORKERS_CONCURRENCY)
            double, single, ratio = compared.a, compared.b, compared.ratio
            title = streams.TITLES[scenario]
            print(
                f"   {title:16} | {single.columns()} | {double.columns()} | {ratio:8.2f}x | "
                f">= {WORKERS_TARGET}x {_verdict(ratio >= WORKERS_TARGET)}"
            )
            print(
                f"   {'':16}   server busy {single.server_cores:.2f} cores, machine "
                f"{single.machine_busy:.0%} | server busy {double.server_cores:.2f} cores, "
                f"machine {double.machine_busy:.0%} (of {os.cpu_count()} CPUs)"
            )
            _errors("1 process", single)
            _errors("2 processes", double)
            targets.append(
                Target(
                    f"{dbs.kind} {title}: 2 web processes >= {WORKERS_TARGET}x one",
                    f"{ratio:.2f}x ({double.rate:.0f} vs {single.rate:.0f} req/s)",
                    ratio >= WORKERS_TARGET,
                )
            )


FIRST_CONNECTIONS = 8


def first_answers(dbs: Databases, logs: Path) -> None:
    """Right after start-up: one request on each of 8 connections at once, to a process that
    has answered nothing but ``/healthz``; the slowest answer, ours and minimal. What start-up
    leaves to the first requests (reading files, building caches) shows here."""
    ours_staff = served.seed_ours(dbs.ours)
    minimal_staff = served.seed_minimal(dbs.minimal)
    print(f"-- {dbs.kind}: first answers of a new process, {FIRST_CONNECTIONS} at once")
    print(f"   {'':16} | {'ours: slowest':>13} | {'minimal: slowest':>16}")
    for scenario in _scenarios():
        slowest: list[str] = []
        for name, staff, command, env in (
            ("ours", ours_staff, served.ours_command, served.ours_environment(dbs.ours)),
            ("minimal", minimal_staff, None, served.minimal_environment(dbs.minimal)),
        ):
            port = served.free_port()
            argv = command(port, 1) if command else served.minimal_command(port)
            with served.serving(f"{name}-first", argv, env, port, logs) as server:
                streams_ = [
                    itertools.islice(stream, 1)
                    for stream in streams.builder(scenario)(staff, FIRST_CONNECTIONS)
                ]
                result = loadgen.run("127.0.0.1", server.port, streams_, seconds=60, warmup=0)
            wrong = f", {result.errors} wrong" if result.errors else ""
            worst = max(result.latencies_ms, default=float("nan"))
            slowest.append(f"{worst:.0f} ms{wrong}")
        print(f"   {streams.TITLES[scenario]:16} | {slowest[0]:>13} | {slowest[1]:>16}")


def keep_alive_latency(dbs: Databases, logs: Path) -> None:
    """One connection, one request at a time, to two web processes: uvicorn's ``--workers``
    leaves Nagle's algorithm on (a response waits for the client's delayed ACK);
    ``serve --workers`` turns it off."""
    served.seed_ours(dbs.ours)
    env = served.ours_environment(dbs.ours)
    stock_port, ours_port = served.free_port(), served.free_port()
    stock_command = [
        *(sys.executable, "-m", "uvicorn", "assistant.main:app", "--host", "127.0.0.1"),
        *("--port", str(stock_port), "--workers", "2", "--no-proxy-headers"),
    ]
    health = Req.build("GET", "/healthz", {})
    print("-- keep-alive latency: one connection, GET /healthz, two web processes (SQLite)")
    for name, command, port in (
        ("uvicorn --workers 2", stock_command, stock_port),
        ("serve --workers 2", served.ours_command(ours_port, 2), ours_port),
    ):
        with served.serving(name, command, env, port, logs) as server:
            served.wait_for_workers(server, 2)
            result = loadgen.run(
                "127.0.0.1", port, [iter(lambda: health, None)], seconds=2.0, warmup=0.5
            )
        print(
            f"   {name:20} {result.rate:7.1f} req/s  p50 {result.p50:6.2f} ms  "
            f"p99 {result.p99:6.2f} ms"
        )


def main() -> None:
    load = os.getloadavg()[0]
    client = "httpx.AsyncClient" if os.environ.get("BENCH_CLIENT") == "httpx" else "asyncio"
    print(
        f"== HTTP: where people wait. Real uvicorn servers, {client} keep-alive client; "
        f"{os.cpu_count()} CPUs, load average {load:.1f} at the start"
    )
    targets: list[Target] = []
    pg = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="bench-logs-") as tmp:
        logs = Path(tmp)
        with served.sqlite_databases() as dbs:
            ours_vs_minimal(dbs, logs, targets)
        if pg:
            with served.postgres_databases(pg) as dbs:
                ours_vs_minimal(dbs, logs, targets)
            with served.postgres_databases(pg) as dbs:
                two_processes_vs_one(dbs, logs, targets)
        else:
            print("-- PostgreSQL: set BENCH_DATABASE_URL (or TEST_DATABASE_URL) to measure it")
        with served.sqlite_databases() as dbs:
            first_answers(dbs, logs)
        with served.sqlite_databases() as dbs:
            keep_alive_latency(dbs, logs)
    print(f"-- targets (load average {os.getloadavg()[0]:.1f} at the end)")
    for target in targets:
        print(f"   {_verdict(target.met)}  {target.name}: {target.figure}")
    missed = sum(not t.met for t in targets)
    print(f"   {len(targets) - missed} of {len(targets)} targets met")


if __name__ == "__main__":
    main()
