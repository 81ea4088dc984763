"""The install a user gets: the wheel built from this checkout, installed into a fresh venv, run from a folder that
is not the checkout. Its dependencies come from this venv (a .pth line: PyPI has them, this test only proves the
wheel), so nothing of the checkout can be imported by accident.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.integration


def run(args: list, **kw) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600, **kw)
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    """A venv holding the built wheel (no dependencies installed into it: they are read from this venv)."""
    tmp = tmp_path_factory.mktemp("wheel")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp / "dist", ROOT])
    (wheel,) = (tmp / "dist").glob("verbatim_qa-*.whl")
    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    purelib = Path(run([venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
                       ).stdout.strip())
    deps = [p for p in sys.path if p.endswith("site-packages")] or [sysconfig.get_paths()["purelib"]]
    (purelib / "zz_dependencies.pth").write_text("".join(f"{p}\n" for p in deps))
    run([sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "-q", "--no-deps", wheel])
    return venv


def test_the_wheel_adds_one_top_level_package(fresh):
    purelib = next((fresh / "lib").glob("python3*/site-packages"))
    (record,) = purelib.glob("verbatim_qa-*.dist-info/RECORD")
    tops = {line.split(",")[0].split("/")[0] for line in record.read_text().splitlines() if line}
    assert {t for t in tops if not t.endswith(".dist-info") and t != ".."} == {"verbatim_qa"}
    assert sorted(p.name for p in (purelib / "verbatim_qa").iterdir() if p.is_dir() and p.name != "__pycache__") == [
        "cli", "evals", "ingest", "qa", "text", "ui", "vectorstore"]
    assert (purelib / "verbatim_qa" / "ui" / "static" / "chat.js").is_file()
    assert (purelib / "verbatim_qa" / "evals" / "datasets" / "dev.jsonl").is_file()
    bare = subprocess.run([fresh / "bin" / "python", "-c", "import qa"], capture_output=True, text=True,
                          cwd=fresh)
    assert bare.returncode != 0 and "No module named 'qa'" in bare.stderr


def test_the_installed_command_ingests_and_answers(fresh, tmp_path):
    env = {**os.environ, "VERBATIM_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1"}
    env.pop("PYTHONPATH", None)
    verbatim = fresh / "bin" / "verbatim"
    assert "ingest" in run([verbatim, "--help"], cwd=tmp_path, env=env).stdout
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "pipeline.txt").write_text("The Central Asia-China gas pipeline carries gas from Turkmenistan to China. "
                                       "Its first line opened in December 2009.\n", encoding="utf-8")
    run([verbatim, "ingest", docs], cwd=tmp_path, env=env)
    out = run([verbatim, "ask", "When did the first line of the gas pipeline open?"], cwd=tmp_path, env=env).stdout
    assert "December 2009" in out
    where = run([fresh / "bin" / "python", "-c", "import verbatim_qa.qa.answer as m; print(m.__file__)"],
                cwd=tmp_path, env=env).stdout
    assert str(fresh) in where and str(ROOT) not in where
