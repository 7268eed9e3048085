"""Several web processes on one port, each accepting on a listening socket of its own.

With one listening socket shared by all the processes, the process that wakes first accepts
every connection waiting (asyncio takes up to ``backlog`` of them per wake-up), so under load
one process serves nearly all the keep-alive connections and the others stay idle. Here each
process gets its own socket bound to the same host and port with ``SO_REUSEPORT``, and the
kernel spreads new connections over the sockets that are listening.

Everything else is uvicorn's supervisor: health-check pings that replace a hung or dead
process, stopping on a start-up failure, SIGINT/SIGTERM to stop, SIGHUP to restart every
process, SIGTTIN/SIGTTOU to add or remove one.
"""

from __future__ import annotations

import socket

from uvicorn import Config
from uvicorn.supervisors import Multiprocess


def port_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` beside the others of the port (``SO_REUSEPORT``),
    not yet listening.

    A web process listens on it only after the app's start-up (asyncio's ``create_server``
    calls ``listen()`` once it serves, and uvicorn serves after the lifespan start-up), and
    the kernel routes new connections to listening sockets only: none waits on a process that
    is still starting.

    Made as an IPPROTO_TCP socket (with TCP_NODELAY on it too), so asyncio turns Nagle's
    algorithm off on every connection it accepts. The socket uvicorn binds for ``--workers``
    is not, and a keep-alive response, written as headers then body, then waits for the
    client's delayed ACK: about 40 ms a request instead of well under one.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def reserve_port(host: str, port: int) -> socket.socket:
    """``host:port`` bound for the web processes' sockets to join, never listening.

    Bound with SO_REUSEADDR (a restart is not refused over connections of the last run still
    in TIME_WAIT), which is then turned off: a bound socket with it on lets another program
    that sets it too (as most servers do) bind and listen on the port whenever none of ours
    is listening. Without it, only sockets with SO_REUSEPORT of the same user can join.
    """
    sock = port_socket(host, port)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
    return sock


class ReusePortSupervisor(Multiprocess):
    """uvicorn's ``Multiprocess`` supervisor, with a new listening socket for every process it
    starts (the first ones, a replacement, a restart, one more on SIGTTIN).

    On creation it binds the port once, never listening on it, and keeps that socket until it
    stops: it raises ``OSError`` at once when the port is taken, before any process starts,
    and keeps the port from being taken between a process and its replacement.

    The supervisor keeps no copy of a process's socket. uvicorn reads ``sockets`` for each
    ``Process`` it makes and starts that process straight away (multiprocessing's "spawn"
    hands the descriptor to the child in ``start()``), in ``init_processes``,
    ``keep_subprocess_alive`` and ``handle_signals`` (SIGHUP, SIGTTIN); a socket handed out is
    closed here at the next read and at the end of each of those methods. A copy kept here
    would outlive its process: the socket would stay listening in the port's group after the
    process died, and the kernel would keep sending it connections nobody accepts.
    """

    def __init__(self, config: Config) -> None:
        self._reservation = reserve_port(config.host, config.port)
        self._handed_out: list[socket.socket] = []
        super().__init__(config, sockets=[])

    @property
    def sockets(self) -> list[socket.socket]:
        """A new socket for the process about to be made (the previous one has started)."""
        self._close_handed_out()
        sock = port_socket(self.config.host, self.config.port)
        self._handed_out.append(sock)
        return [sock]

    @sockets.setter
    def sockets(self, shared: list[socket.socket]) -> None:
        """uvicorn's ``__init__`` stores the sockets to share; none is shared here."""

    def _close_handed_out(self) -> None:
        while self._handed_out:
            self._handed_out.pop().close()

    def init_processes(self) -> None:
        try:
            super().init_processes()
        finally:
            self._close_handed_out()

    def keep_subprocess_alive(self) -> None:
        try:
            super().keep_subprocess_alive()
        finally:
            self._close_handed_out()

    def handle_signals(self) -> None:
        try:
            super().handle_signals()
        finally:
            self._close_handed_out()

    def run(self) -> None:
        try:
            super().run()
        finally:
            self._close_handed_out()
            self._reservation.close()
