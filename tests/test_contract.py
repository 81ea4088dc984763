"""The contract is written once (verbatim_qa/contract.py) and every door states it: the HTTP API, the OpenAI
endpoint, MCP, the command line and the settings accept the same k, question length and answerer names, and
report the version of the installed distribution."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import get_args

import anyio
import pytest
from typer.testing import CliRunner

import verbatim_qa
from verbatim_qa.cli import app
from verbatim_qa.contract import ANSWERERS, MAX_COLLECTIONS, MAX_K, MAX_QUESTION_CHARS, VERSION, AnswererName
from verbatim_qa.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_version_is_the_distributions():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert VERSION == pyproject["project"]["version"] == verbatim_qa.__version__


def test_answerer_names_are_the_literals():
    assert ANSWERERS == get_args(AnswererName) == ("auto", "extractive", "llm")
    for name in ANSWERERS:
        Settings(answerer=name)
    with pytest.raises(ValueError, match="unknown answerer"):
        Settings(answerer="gpt")


def test_settings_bound_top_k_by_max_k():
    assert Settings(top_k=MAX_K).retrieval.top_k == MAX_K
    with pytest.raises(ValueError, match="VERBATIM_TOP_K"):
        Settings(top_k=MAX_K + 1)


@pytest.mark.integration  # builds the API app, which loads the embedder
def test_http_and_openai_requests_state_the_contract(tmp_path):
    from verbatim_qa.ui.api import AskRequest, Turn, create_app
    from verbatim_qa.ui.openai_api import ChatRequest

    ask = AskRequest.model_json_schema()["properties"]
    assert ask["question"]["maxLength"] == MAX_QUESTION_CHARS
    assert Turn.model_json_schema()["properties"]["question"]["maxLength"] == MAX_QUESTION_CHARS
    chat = ChatRequest.model_json_schema()["properties"]
    for props in (ask, chat):
        k = next(v for v in props["k"]["anyOf"] if v.get("type") == "integer")
        assert (k["minimum"], k["maximum"]) == (1, MAX_K)
        names = next(v for v in props["answerer"]["anyOf"] if "enum" in v)
        assert tuple(names["enum"]) == ANSWERERS
    several = next(v for v in ask["collections"]["anyOf"] if v.get("type") == "array")
    assert several["maxItems"] == MAX_COLLECTIONS
    openapi = create_app(Settings(home=tmp_path / "home"), ui=False).openapi()
    assert openapi["info"]["version"] == VERSION


def test_mcp_tools_state_the_contract():
    from verbatim_qa.ui.mcp_server import build_mcp

    tools = {t.name: t.input_schema["properties"] for t in anyio.run(build_mcp(None).list_tools)}
    assert tools["search"]["query"]["maxLength"] == tools["ask"]["question"]["maxLength"] == MAX_QUESTION_CHARS
    assert tools["search"]["k"]["maximum"] == MAX_K
    for tool in ("search", "ask"):
        several = next(v for v in tools[tool]["collections"]["anyOf"] if v.get("type") == "array")
        assert several["maxItems"] == MAX_COLLECTIONS
    assert next(v for v in tools["ask"]["k"]["anyOf"] if v.get("type") == "integer")["maximum"] == MAX_K


@pytest.mark.parametrize("args", [["search", "q"], ["ask", "q"], ["brief", "questions.txt", "-o", "b.md"]])
def test_cli_k_is_bounded_by_max_k(args, tmp_path, monkeypatch):
    """-k over MAX_K is a usage error (exit 2) before any index is opened, in every command that takes it."""
    monkeypatch.setenv("VERBATIM_HOME", str(tmp_path / "home"))
    result = CliRunner().invoke(app, [*args, "-k", str(MAX_K + 1)])
    assert result.exit_code == 2 and f"equal to {MAX_K}" in result.output
    assert not (tmp_path / "home").exists()
