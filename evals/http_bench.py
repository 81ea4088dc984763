"""Latency through HTTP, as a user of the API or the web chat sees it: first streamed token and full answer.

``http_latency(base_url, questions)`` measures a running server; ``run_http_bench(settings, questions)``
starts one in a thread over ``settings``' index (extractive answerer, no UI) and measures it.
"""

from __future__ import annotations

import json
import time

import httpx

from verbatim_qa.settings import Settings

from .metrics import percentile


def _stats(values: list[float]) -> dict:
    return {"p50": round(percentile(values, 50), 1), "p95": round(percentile(values, 95), 1),
            "max": round(max(values, default=0.0), 1), "n": len(values)}


def http_latency(base_url: str, questions: list[str], rounds: int = 1, k: int | None = None,
                 token: str = "", answerer: str = "extractive", timeout: float = 120.0) -> dict:
    """Milliseconds to the first ``token`` event and to the ``answer`` event of ``POST /api/ask/stream``."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    first, full = [], []
    with httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout) as client:
        def one(question: str) -> tuple[float, float]:
            body = {"question": question, "answerer": answerer, **({"k": k} if k else {})}
            t0 = time.perf_counter()
            t_first = t_full = None
            with client.stream("POST", "/api/ask/stream", json=body) as r:
                r.raise_for_status()
                for line in r.iter_lines():
                    if not line:
                        continue
                    kind = json.loads(line)["type"]
                    if kind == "token" and t_first is None:
                        t_first = time.perf_counter()
                    elif kind == "answer":
                        t_full = time.perf_counter()
                    elif kind == "error":
                        raise RuntimeError(f"server error for {question!r}: {line}")
            t_full = t_full or time.perf_counter()
            return ((t_first or t_full) - t0) * 1000, (t_full - t0) * 1000

        one(questions[0])  # warm: connection, first-query caches
        for _ in range(rounds):
            for q in questions:
                a, b = one(q)
                first.append(a)
                full.append(b)
    return {"first_token_ms": _stats(first), "full_answer_ms": _stats(full)}


def run_http_bench(settings: Settings, questions: list[str], rounds: int = 1) -> dict:
    """Serve ``settings``' index (API only, extractive) on a free loopback port and measure it."""
    from verbatim_qa.ui.api import create_app
    from verbatim_qa.ui.server import BackgroundServer

    app = create_app(settings.with_(token=""), ui=False)
    with BackgroundServer(app) as url:
        return http_latency(url, questions, rounds)
