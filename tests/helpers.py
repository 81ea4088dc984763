"""Small things several test modules share: writing sample files and the questions asked of the bundled corpus."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

EN_Q = "Where and when did Huawei hold its first Central Asia Innovation Day?"
FA_Q = "What share of Central Asian arms imports came from China?"  # answered only in the Persian body
NOTE = ("Glacier notes\n\nThe Wakhan corridor bridge at Ishkashim was rebuilt in 2003 with funding from the Aga Khan "
        "Foundation. Traders cross it every Saturday.\n")
NOTE_Q = "When was the Wakhan corridor bridge at Ishkashim rebuilt?"

CHROMIUM = os.environ.get("CHROMIUM") or "/usr/bin/chromium"  # Debian's; make test passes its CHROMIUM
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def write(folder: Path, name: str, data: str | bytes) -> Path:
    """``folder/name`` with ``data`` (str as UTF-8), parents created."""
    p = folder / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return p


def stop(proc: subprocess.Popen, timeout: float = 20) -> None:
    """Terminate a server the test started; kill it if it does not go."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def verbatim_serve(home: Path, embedder: str, launcher: Sequence[str] = (), **env: str
                   ) -> Iterator[tuple[subprocess.Popen, str]]:
    """A real ``verbatim serve`` over ``home`` on a free loopback port (no VERBATIM_* from the caller's
    environment but ``VERBATIM_<NAME>`` for each ``env`` name), once it answers /api/health: (process, base URL),
    its stderr a text pipe. Stopped at the end unless it already ended. ``launcher``: what runs the command's
    arguments instead of the console script (e.g. tests/kill_at.py and its point)."""
    import httpx

    from verbatim_qa.ui.server import free_port

    clean = {k: v for k, v in os.environ.items() if not k.startswith("VERBATIM_")}
    clean.update({f"VERBATIM_{k.upper()}": v for k, v in env.items()}, VERBATIM_HOME=str(home),
                 VERBATIM_EMBEDDER=embedder, HF_HUB_OFFLINE="1", HF_HUB_DISABLE_PROGRESS_BARS="1")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = list(launcher) or [str(Path(sys.executable).with_name("verbatim"))]
    proc = subprocess.Popen([*command, "serve", "--port", str(port)],
                            env=clean, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(1200):
            try:
                if httpx.get(url + "/api/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.1)
        yield proc, url
    finally:
        if proc.poll() is None:
            stop(proc)
