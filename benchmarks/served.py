"""Scratch databases, their seed data, and uvicorn servers run as subprocesses.

Ours is served by the production command, ``python -m assistant serve`` (``--workers N``), with
its settings in the environment; the minimal app (``benchmarks/minimal_app.py``) by uvicorn's
command line with the same options (one process, h11, access log, no proxy headers).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = "https://sms.pho.example.nz"
TWILIO_TOKEN = "bench-token"
STAFF = 32  # signed-in practice staff, one for each connection at the highest concurrency


@dataclass(frozen=True)
class Databases:
    kind: str  # "SQLite" or "PostgreSQL"
    ours: str
    minimal: str


@contextmanager
def sqlite_databases() -> Iterator[Databases]:
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        yield Databases("SQLite", f"sqlite:///{tmp}/ours.db", f"sqlite:///{tmp}/minimal.db")
        _dispose(tmp)


@contextmanager
def postgres_databases(base: str) -> Iterator[Databases]:
    """Two scratch schemas, dropped afterwards."""
    from assistant.db import make_engine

    schemas = ("bench_ours", "bench_minimal")
    admin = make_engine(base)
    with admin.begin() as conn:
        for schema in schemas:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base else "?"
    ours, minimal = (f"{base}{sep}options=-csearch_path%3D{s}" for s in schemas)
    try:
        yield Databases("PostgreSQL", ours, minimal)
    finally:
        for schema in schemas:
            _dispose(schema)
        with admin.begin() as conn:
            for schema in schemas:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


def _dispose(fragment: str) -> None:
    from assistant import db

    for url in [u for u in db._engines if fragment in u]:
        db._engines.pop(url).dispose()


@dataclass(frozen=True)
class Staff:
    """A signed-in user: the cookies and header every request of theirs carries."""

    session_token: str
    csrf_token: str

    def headers(self) -> dict[str, str]:
        return {
            "Cookie": f"session={self.session_token}; csrftoken={self.csrf_token}",
            "X-CSRF-Token": self.csrf_token,
        }


def seed_ours(url: str) -> list[Staff]:
    """Migrate, load the demo people, and sign in ``STAFF`` practice staff of one practice."""
    import secrets

    from sqlmodel import Session, select

    from assistant.db import get_engine, migrate
    from assistant.demo import load_people
    from assistant.people.models import Practice, Role, User
    from assistant.security.passwords import hash_password
    from assistant.security.sessions import start_session

    migrate(url)
    staff = []
    with Session(get_engine(url)) as session:
        load_people(session, password="bench-password")
        practice = session.exec(select(Practice).where(Practice.name.startswith("Riccarton"))).one()
        password_hash = hash_password("bench-password")
        for n in range(STAFF):
            user = User(
                name=f"Bench Staff {n}",
                email=f"bench.staff{n}@riccarton.example.nz",
                role=Role.practice_staff,
                practice_id=practice.id,
                password_hash=password_hash,
            )
            session.add(user)
            session.commit()
            assert user.id is not None
            token = start_session(session, user_id=user.id, max_age_seconds=12 * 3600)
            session.commit()
            staff.append(Staff(token, secrets.token_urlsafe(32)))
    return staff


def seed_minimal(url: str) -> list[Staff]:
    import secrets

    from benchmarks import minimal_app

    engine = minimal_app.engine_for(url)
    try:
        minimal_app.create_tables(engine)
        return [
            Staff(minimal_app.add_user(engine), secrets.token_urlsafe(32)) for _ in range(STAFF)
        ]
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server and its worker processes (Linux)."""
        ticks = 0
        for pid in [self.process.pid, *children(self.process.pid)]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        """Ctrl-C, as a person would: the server finishes its requests and exits."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _environment(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "SMTP_"))}
    return env | {"PYTHONUNBUFFERED": "1"} | extra


def ours_command(port: int, workers: int) -> list[str]:
    return [
        *(sys.executable, "-m", "assistant", "serve", "--host", "127.0.0.1"),
        *("--port", str(port), "--workers", str(workers)),
    ]


def ours_environment(url: str) -> dict[str, str]:
    return _environment(
        {
            "ENVIRONMENT": "production",
            "DATABASE_URL": url,
            "SECRET_KEY": "bench-secret-key",
            "PUBLIC_BASE_URL": PUBLIC,
            "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "RUN_WORKER_IN_APP": "false",  # the outbox runs as its own process in production
        }
    )


def minimal_command(port: int) -> list[str]:
    return [
        *(sys.executable, "-m", "uvicorn", "benchmarks.minimal_app:app"),
        *("--host", "127.0.0.1", "--port", str(port), "--no-proxy-headers"),
    ]


def minimal_environment(url: str) -> dict[str, str]:
    return _environment(
        {
            "BENCH_MINIMAL_DATABASE_URL": url,
            "BENCH_TWILIO_TOKEN": TWILIO_TOKEN,
            "BENCH_PUBLIC_URL": PUBLIC,
        }
    )


@contextmanager
def serving(
    name: str, command: list[str], env: dict[str, str], port: int, logs: Path
) -> Iterator[Server]:
    log = logs / f"{name.replace(' ', '-')}-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(name, port, process, log)
    try:
        _wait_ready(server)
        yield server
    finally:
        server.stop()


def _wait_ready(server: Server, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{server.port}/healthz"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"{server.name} exited:\n{server.log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"{server.name} did not answer /healthz in {timeout:.0f} s")


def children(parent: int, marker: bytes = b"") -> list[int]:
    """The processes started by ``parent`` whose command line holds ``marker`` (Linux)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent and marker in cmdline:
            found.append(int(entry.name))
    return found


def worker_pids(parent: int) -> list[int]:
    """uvicorn's worker processes (not multiprocessing's resource tracker)."""
    return children(parent, b"spawn_main")


def listens(pid: int, port: int) -> bool:
    """Whether the process ``pid`` holds a socket listening on ``port`` (Linux)."""
    listening = set()
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        if table.is_file():
            for line in table.read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    listening.add(f"socket:[{fields[9]}]")
    try:
        descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for fd in descriptors:
        try:
            if os.readlink(fd) in listening:
                return True
        except OSError:
            continue
    return False


def wait_for_workers(server: Server, workers: int, timeout: float = 180) -> None:
    """Every worker started and listening (its start-up line in the log, then its own socket
    on the port listening: the kernel spreads connections over the listening ones only, so
    connections opened before would all go to the workers already there), then a few /healthz
    answers."""
    if workers == 1:
        return
    deadline = time.monotonic() + timeout
    while True:
        pids = worker_pids(server.process.pid)
        if (
            server.log.read_text().count("Application startup complete") >= workers
            and len(pids) == workers
            and all(listens(pid, server.port) for pid in pids)
        ):
            break
        if time.monotonic() > deadline or server.process.poll() is not None:
            raise SystemExit(f"{server.name}: {workers} workers did not start")
        time.sleep(0.2)
    url = f"http://127.0.0.1:{server.port}/healthz"
    for _ in range(2 * workers):
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
            if response.status != 200:
                raise SystemExit(f"{server.name}: /healthz answered {response.status}")
