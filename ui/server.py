"""Running the app with uvicorn: ``verbatim serve``, and a background server for tests and benchmarks."""

from __future__ import annotations

import ipaddress
import socket
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
    """Prints the URL once the socket is bound and the app started (not before)."""

    def __init__(self, config: uvicorn.Config, announce: str | None = None) -> None:
        super().__init__(config)
        self.announce = announce

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets)
        if self.started and self.announce:
            print(self.announce, flush=True)


def serve(app, host: str, port: int, log_level: str = "warning") -> int:
    url = url_for(host, port)
    announce = f"Verbatim is serving at {url} (API under {url}api/, OpenAPI at {url}openapi.json). Ctrl+C stops."
    server = _Server(uvicorn.Config(app, host=host, port=port, log_level=log_level, proxy_headers=False,
                                    server_header=False), announce)
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

