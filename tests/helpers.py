"""Small things several test modules share: writing sample files and the questions asked of the bundled corpus."""

from __future__ import annotations

import os
import subprocess
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
