"""Running the app with uvicorn: ``verbatim serve``, and a background server for tests and benchmarks."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import signal
import socket
import sys
import threading
import time

import uvicorn


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # any other host name may resolve anywhere: treated as public


def url_for(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}/"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class _Server(uvicorn.Server):
    """Prints the URL once the socket is bound and the app started (not before). Told to stop, it waits up to
    ``grace_s`` seconds for the requests in flight, then dies of the signal it was sent, as uvicorn does after a
    clean stop: work a request left in a worker thread (an upload's ingest: no thread can be interrupted) kept
    the process alive until it ended, minutes for a large upload."""

    def __init__(self, config: uvicorn.Config, announce: str | None = None, grace_s: float | None = None) -> None:
        super().__init__(config)
        self.announce = announce
        self.grace_s = grace_s

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets)
        if self.started and self.announce:
            print(self.announce, flush=True)

    async def shutdown(self, sockets=None) -> None:
        if self.grace_s is None:
            await super().shutdown(sockets)
            return
        try:
            await asyncio.wait_for(super().shutdown(sockets), self.grace_s)
        except TimeoutError:
            print(f"stopped with {len(self.server_state.tasks)} request(s) unfinished after {self.grace_s:g} s "
                  "(VERBATIM_SHUTDOWN_GRACE_S); an upload in flight is dropped", file=sys.stderr, flush=True)
            sig = self._captured_signals[-1] if self._captured_signals else signal.SIGTERM
            signal.signal(sig, signal.SIG_DFL)
            signal.raise_signal(sig)  # the default action: the process ends now, its threads with it
            os._exit(1)  # a signal whose default is not to end the process


def serve(app, host: str, port: int, log_level: str = "warning", grace_s: float | None = None) -> int:
    """Serve until told to stop (then wait up to ``grace_s`` seconds for the requests in flight; None: for as
    long as they take)."""
    url = url_for(host, port)
    announce = f"Verbatim is serving at {url} (API under {url}api/, OpenAPI at {url}openapi.json). Ctrl+C stops."
    server = _Server(uvicorn.Config(app, host=host, port=port, log_level=log_level, proxy_headers=False,
                                    server_header=False), announce, grace_s)
    server.run()
    return 0 if server.started else 1


class BackgroundServer:
    """``with BackgroundServer(app) as base_url:`` runs the app on a free loopback port in a thread."""

    def __init__(self, app, host: str = "127.0.0.1", port: int | None = None, timeout: float = 60.0) -> None:
        self.host, self.port, self.timeout = host, port or free_port(host), timeout
        self.server = uvicorn.Server(uvicorn.Config(app, host=self.host, port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True, name="verbatim-server")

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + self.timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"server on {self.url} did not start")
            time.sleep(0.05)
        return self.url

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

