"""No import cycles among our modules: each type lives where it belongs, so no two modules need each other.

Every import counts: those inside functions and under ``if TYPE_CHECKING:`` too (a type-only cycle is still two
modules that each need the other's types). Read with ``ast`` from the folders the wheel maps into ``verbatim_qa``;
an implicit parent-package import (``import a.b`` runs ``a/__init__.py``) is not an edge, an explicit one is.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "verbatim_qa"
FOLDERS = {PACKAGE: "verbatim_qa", **{f"{PACKAGE}.{n}": n for n in ("vectorstore", "ingest", "qa", "ui", "evals",
                                                                    "cli")}}


def modules() -> dict[str, Path]:
    """Dotted name -> file of every module of ours (a package is its ``__init__.py``)."""
    out = {}
    for prefix, folder in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join([prefix, *parts])] = path
    return out


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of ours that ``name`` (at ``path``) imports anywhere in its text."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from pkg import sub` imports the module pkg.sub when there is one, else names of pkg
            subs = {f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known}
            found |= subs or {base}
    return {m for m in found if m in known and m != name}


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imports(name, path, set(mods)) for name, path in mods.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Each strongly connected component of more than one module (Tarjan), its members sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(out)


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_the_check_sees_a_type_only_cycle(tmp_path):
    """The checker itself: a cycle closed only under TYPE_CHECKING or inside a function is still a cycle."""
    a, b, c = tmp_path / "a.py", tmp_path / "b.py", tmp_path / "c.py"
    a.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import B\n")
    b.write_text("from .c import C\n")
    c.write_text("def f():\n    from x.a import A\n")
    known = {"x.a", "x.b", "x.c"}
    edges = {n: imports(n, p, known) for n, p in (("x.a", a), ("x.b", b), ("x.c", c))}
    assert edges == {"x.a": {"x.b"}, "x.b": {"x.c"}, "x.c": {"x.a"}}
    assert cycles(edges) == [["x.a", "x.b", "x.c"]]
    assert cycles({"x.a": {"x.b"}, "x.b": set()}) == []


def test_every_module_is_read():
    mods = modules()
    assert {"verbatim_qa.settings", "verbatim_qa.text.segment", "verbatim_qa.qa.compose",
            "verbatim_qa.ingest.loaders.pdf", "verbatim_qa.cli"} <= set(mods)
    assert len(mods) == sum(1 for folder in FOLDERS.values() for _ in (ROOT / folder).rglob("*.py"))
