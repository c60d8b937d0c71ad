"""Worker processes of ``yibao serve``, each accepting from a listening socket of its own.

uvicorn's own supervisor hands every worker the same listening socket. Whichever worker wakes first then
accepts every connection waiting in the queue, so a burst of new keep-alive connections (the hospitals'
systems reconnecting, a proxy opening its pool) can land on one worker while the other idles: on two
cores, half the throughput for as long as those connections live. Here each worker listens on a socket
of its own, bound to the same address with ``SO_REUSEPORT``, and the kernel spreads new connections over
the sockets by the hash of their addresses, whatever each worker is doing at that moment.

The supervision is uvicorn's: its worker process (with the health ping), restarted on its own socket
when it dies, and stopped on SIGINT or SIGTERM. Where ``SO_REUSEPORT`` is missing (not Linux), or for one
worker, ``yibao serve`` runs uvicorn as it comes.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors.multiprocess import Process

log = logging.getLogger("uvicorn.error")

# How often the supervisor looks at its workers (uvicorn's own supervisor: every 0.5 s).
_LOOK_SECONDS = 0.5


def balanced() -> bool:
    """Whether the kernel spreads connections over sockets sharing a port (Linux's ``SO_REUSEPORT``)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _family(config: Config) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in config.host else socket.AF_INET


def listening_socket(config: Config) -> socket.socket:
    """A socket listening on the configured address, one of a group sharing it (``SO_REUSEPORT``)."""
    sock = socket.socket(family=_family(config))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((config.host, config.port))
    except OSError as exc:  # the address is taken: said as uvicorn says it
        sock.close()
        log.error(exc)
        sys.exit(1)
    sock.listen(config.backlog)
    sock.set_inheritable(True)
    return sock


def _address_free(config: Config) -> None:
    """Exit, as uvicorn would, when something listens on the address already: sockets sharing a port would
    otherwise join another server's group (a second ``yibao serve`` started by mistake) and split its
    connections with it silently."""
    with socket.socket(family=_family(config)) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a closed connection's port is free
        try:
            probe.bind((config.host, config.port))
        except OSError as exc:
            log.error(exc)
            sys.exit(1)


def run(config: Config) -> None:
    """Run ``config.workers`` workers, each on a socket of its own, until SIGINT or SIGTERM."""
    _address_free(config)
    sockets = [listening_socket(config) for _ in range(config.workers)]
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("Received %s, exiting.", signal.Signals(signum).name)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    log.info("Started parent process [%d]: %d workers, a socket each", os.getpid(), config.workers)
    workers = [_start(config, sock) for sock in sockets]
    try:
        while not stop.wait(_LOOK_SECONDS):
            for i, worker in enumerate(workers):
                if worker.is_alive(timeout=config.timeout_worker_healthcheck):
                    continue
                worker.kill()  # hung, or dead already
                worker.join()
                if worker.exitcode == STARTUP_FAILURE:
                    # The application cannot start: another try would fail alike.
                    log.error("Child process [%s] failed to start, stopping.", worker.pid)
                    stop.set()
                    break
                if stop.is_set():
                    break
                log.info("Child process [%s] died; starting another on its socket", worker.pid)
                workers[i] = _start(config, sockets[i])
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.join()
        for sock in sockets:
            sock.close()
        log.info("Stopping parent process [%d]", os.getpid())


def _start(config: Config, sock: socket.socket) -> Process:
    worker = Process(config, [sock])
    worker.start()
    return worker
