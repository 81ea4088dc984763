"""How long a question waits behind an upload, as a user of a real ``verbatim serve`` sees it.

The bundled corpus is ingested into a temporary home and served by ``verbatim serve`` on 127.0.0.1 (its own
process, so the askers here never share its interpreter). Questions go out at a steady rate (open loop: each
at its scheduled time, whatever the others are doing) for a while with nothing else happening, then again while
one large document (sentences recombined from the corpus, evals/synth.py) is uploaded through ``/api/ingest``,
then again without. A question's wait is its latency minus the median latency of the same question without the
upload (before and after it: the machine's load drifts meanwhile).

``python -m verbatim_qa.evals.wait_bench`` prints the table; the machine's load
average is printed with it, since the numbers mean little without it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

from .load import dev_questions
from .metrics import percentile
from .synth import build_pool, write_corpus

ROOT = Path(__file__).resolve().parent.parent
TARGET_WAIT_S = 2.0  # issue #26: no question waits more than this behind an ingest


@dataclass
class Asked:
    question: str
    t0: float  # seconds since the run started
    seconds: float
    status: int  # 0: the request itself failed
    during: bool  # sent while the upload was in flight


@dataclass
class WaitReport:
    asked: list[Asked] = field(default_factory=list)
    upload_s: float = 0.0
    upload_status: int = 0
    upload_detail: str = ""
    doc_chars: int = 0
    rate: float = 0.0
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    server_peak_mb: float = 0.0

    def _baseline(self) -> dict[str, float]:
        by_q: dict[str, list[float]] = {}
        for a in self.asked:
            if not a.during and a.status == 200:
                by_q.setdefault(a.question, []).append(a.seconds)
        return {q: statistics.median(v) for q, v in by_q.items()}

    def waits(self, during: bool) -> list[float]:
        """Each answered question's latency minus its own median latency without the upload (seconds)."""
        base = self._baseline()
        overall = statistics.median(base.values()) if base else 0.0
        return [max(0.0, a.seconds - base.get(a.question, overall)) for a in self.asked
                if a.during == during and a.status == 200]

    def summary(self) -> dict:
        out: dict = {"rate_per_s": self.rate, "doc_chars": self.doc_chars, "upload_s": round(self.upload_s, 1),
                     "upload_status": self.upload_status, "load_before": self.load_before,
                     "load_after": self.load_after, "server_peak_mb": round(self.server_peak_mb)}
        for name, during in (("without", False), ("during", True)):
            lat = [a.seconds for a in self.asked if a.during == during and a.status == 200]
            waits = self.waits(during)
            out[name] = {"n": sum(a.during == during for a in self.asked),
                         "errors": sum(a.during == during and a.status != 200 for a in self.asked),
                         "latency_p50_s": _r(percentile(lat, 50)), "latency_p95_s": _r(percentile(lat, 95)),
                         "latency_max_s": _r(max(lat, default=0.0)), "wait_p50_s": _r(percentile(waits, 50)),
                         "wait_p95_s": _r(percentile(waits, 95)), "wait_max_s": _r(max(waits, default=0.0)),
                         "over_target": sum(w > TARGET_WAIT_S for w in waits)}
        return out

    def table(self) -> str:
        s = self.summary()
        cols = ["n", "errors", "latency_p50_s", "latency_p95_s", "latency_max_s", "wait_p50_s", "wait_p95_s",
                "wait_max_s", "over_target"]
        lines = [f"load average before {_load(s['load_before'])}, after {_load(s['load_after'])} (1/5/15 min)",
                 f"upload of {s['doc_chars']:,} characters: HTTP {s['upload_status']} in {s['upload_s']} s"
                 + (f" ({self.upload_detail})" if self.upload_detail else ""),
                 f"questions at {s['rate_per_s']}/s; server peak RSS {s['server_peak_mb']} MB; "
                 f"over_target: waits over {TARGET_WAIT_S:g} s",
                 "  ".join(f"{c:>13}" for c in ["questions"] + cols)]
        for name in ("without", "during"):
            lines.append("  ".join(f"{x!s:>13}" for x in [name + " upload"] + [s[name][c] for c in cols]))
        return "\n".join(lines)


def _r(x: float) -> float:
    return round(x, 2)


def _load(values) -> str:
    return "/".join(f"{v:.1f}" for v in values)


def large_document(corpus: Path, chars: int, seed: int = 11) -> str:
    """One Markdown document of about ``chars`` characters: the corpus's sentences recombined and varied."""
    with tempfile.TemporaryDirectory(prefix="verbatim-wait-doc-") as tmp:
        pool = build_pool(corpus, 4000, seed)
        write_corpus(Path(tmp), max(1, chars // 700), pool, seed, 1200)
        text = "\n\n".join(p.read_text(encoding="utf-8") for p in sorted(Path(tmp).glob("*.md")))
    return "# Ledger of the corridor\n\n" + text[:chars]


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (Linux ``VmHWM``), 0 where it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def ask_at_rate(base_url: str, questions: list[str], rate: float, until: threading.Event | float,
                started: float, during: bool, report: WaitReport, timeout: float = 600.0) -> None:
    """One question every ``1/rate`` s (each on its own thread, at its time) until ``until`` is set (an Event)
    or the clock passes it (seconds since ``started``); returns when every question sent is answered."""
    lock, threads = threading.Lock(), []

    def one(question: str) -> None:
        t0 = time.monotonic()
        try:
            r = httpx.post(base_url + "/api/ask", json={"question": question}, timeout=timeout)
            status = r.status_code
        except httpx.HTTPError:
            status = 0
        with lock:
            report.asked.append(Asked(question, t0 - started, time.monotonic() - t0, status, during))

    i, first = 0, time.monotonic()
    while not (until.is_set() if isinstance(until, threading.Event) else time.monotonic() - started >= until):
        t = threading.Thread(target=one, args=(questions[i % len(questions)],), daemon=True)
        t.start()
        threads.append(t)
        i += 1
        next_at = first + i / rate
        while time.monotonic() < next_at:
            if isinstance(until, threading.Event):
                if until.wait(next_at - time.monotonic()):
                    break
            else:
                time.sleep(max(0.0, next_at - time.monotonic()))
    for t in threads:
        t.join()


def run_wait_bench(corpus: Path = ROOT / "corpus", doc_chars: int = 150_000, rate: float = 1.0,
                   baseline_s: float = 30.0, env: dict | None = None, log=print) -> WaitReport:
    questions = dev_questions()[:12]
    report = WaitReport(rate=rate, load_before=os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="verbatim-wait-") as tmp:
        home = Path(tmp) / "home"
        env = {**os.environ, **(env or {}), "VERBATIM_HOME": str(home), "VERBATIM_TOKEN": ""}
        verbatim = [sys.executable, "-c", "from verbatim_qa.cli import main; main()"]
        log(f"ingesting {corpus} into {home}")
        subprocess.run([*verbatim, "ingest", str(corpus)], env=env, check=True, stdout=subprocess.DEVNULL)
        doc = large_document(corpus, doc_chars)
        report.doc_chars = len(doc)
        from verbatim_qa.ui.server import free_port

        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([*verbatim, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL)
        try:
            _wait_up(base_url, server)
            for q in questions:  # warm: every question once (term vocabulary, caches)
                httpx.post(base_url + "/api/ask", json={"question": q}, timeout=600).raise_for_status()
            started = time.monotonic()
            log(f"asking {rate}/s for {baseline_s:g} s without an upload")
            ask_at_rate(base_url, questions, rate, baseline_s, started, False, report)
            log(f"asking {rate}/s while uploading {len(doc):,} characters")
            done = threading.Event()

            def upload() -> None:
                t0 = time.monotonic()
                try:
                    r = httpx.post(base_url + "/api/ingest", timeout=3600,
                                   files={"file": ("wait-ledger.md", doc.encode("utf-8"), "text/markdown")})
                    report.upload_status = r.status_code
                    report.upload_detail = "" if r.status_code == 200 else r.text[:200]
                except httpx.HTTPError as exc:
                    report.upload_detail = f"{type(exc).__name__}: {exc}"
                report.upload_s = time.monotonic() - t0
                done.set()

            writer = threading.Thread(target=upload)
            writer.start()
            ask_at_rate(base_url, questions, rate, done, started, True, report)
            writer.join()
            log(f"asking {rate}/s for {baseline_s:g} s after the upload")
            ask_at_rate(base_url, questions, rate, time.monotonic() - started + baseline_s, started, False, report)
            report.server_peak_mb = peak_rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(30)
    report.load_after = os.getloadavg()
    return report


def _wait_up(base_url: str, server: subprocess.Popen, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"verbatim serve exited with {server.returncode}")
        try:
            if httpx.get(base_url + "/api/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"verbatim serve did not answer on {base_url} within {timeout:g} s")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m verbatim_qa.evals.wait_bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    p.add_argument("--doc-chars", type=int, default=150_000, help="size of the uploaded document")
    p.add_argument("--rate", type=float, default=1.0, help="questions per second")
    p.add_argument("--baseline-s", type=float, default=30.0, help="seconds of asking without an upload, before and "
                   "after it")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    report = run_wait_bench(args.corpus, args.doc_chars, args.rate, args.baseline_s,
                            log=lambda m: print(m, file=sys.stderr))
    if args.json:
        print(json.dumps({"summary": report.summary(), "asked": [asdict(a) for a in report.asked]}, indent=1))
    else:
        print(report.table())
    return 0 if report.upload_status == 200 and not any(a.status != 200 for a in report.asked) else 1


if __name__ == "__main__":
    raise SystemExit(main())
