"""``verbatim bench --scale``: how ingest, retrieval, disk and memory grow with the corpus (e.g. 1k-100k chunks).

Real e5 embeds a few texts a second on 2 cores, so a 100k-chunk ingest with it would take days. Sizes up to
``real_limit`` are embedded for real (measured end to end); larger ones use ``evals.memo``'s cached mode:
real e5 vectors of a bounded sentence pool, chunk vectors composed from them. Cached rows report ingest
excluding embedding as measured, and an end-to-end time only as "derived" (measured e5 throughput x items).
Each size runs in a fresh process on a temporary VERBATIM_HOME; the user's index is never touched.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from verbatim_qa.settings import SECRETS, Settings

from .scale_report import write_outputs

ROOT = Path(__file__).resolve().parents[1]


@dataclasses.dataclass(frozen=True)
class ScaleConfig:
    sizes: tuple[int, ...] = (1000, 10000, 100000)
    embed: str = "auto"  # auto: real up to real_limit, cached above; or "real" / "cached" for every size
    real_limit: int = 1000
    seed: int = 7
    pool: int = 2000  # distinct sentences (real ones plus variations): bounds the real e5 work of cached mode
    rounds: int = 2  # timed passes over the questions
    questions: int = 50
    probe: int = 32  # texts embedded to measure e5 throughput
    corpus: str = "corpus"
    dataset: str = "evals/datasets/dev.jsonl"
    keep: bool = False  # keep each size's corpus and index (out/size-N) for profiling; else a temp dir, removed

    def mode(self, n: int) -> str:
        return self.embed if self.embed != "auto" else ("real" if n <= self.real_limit else "cached")


def run_scale(settings: Settings, cfg: ScaleConfig, out: Path, memo_dir: Path | None = None, log=print) -> dict:
    """Run every size, writing results.json, table.md and scale.png into ``out`` after each one."""
    out.mkdir(parents=True, exist_ok=True)
    memo_dir = memo_dir or out / "embed-cache"
    result = {
        "meta": {
            "config": dataclasses.asdict(cfg),
            "cpus": os.cpu_count(),
            "embedder": settings.deployment.embedder,
            "chunk_chars": settings.deployment.chunk_chars,
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
            "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        },
        "rows": [],
    }
    for n in cfg.sizes:
        mode = cfg.mode(n)
        log(f"scale: {n} chunks, {mode} embedding ...")
        row = _run_child(settings, n, mode, cfg, memo_dir, out / f"size-{n}" if cfg.keep else None)
        derive(row)
        result["rows"].append(row)
        write_outputs(result, out)
        log(f"scale: {n} chunks: ingest {row['ingest_s']:.1f} s, query p95 {row['query_ms']['p95']:.0f} ms, "
            f"wall {row['wall_s']:.0f} s, load {row['load_avg']['mean']:.2f}")
    return result


def _run_child(settings: Settings, n: int, mode: str, cfg: ScaleConfig, memo_dir: Path, keep: Path | None) -> dict:
    if keep is not None:
        shutil.rmtree(keep, ignore_errors=True)  # a previous run's: the size is measured from empty
        keep.mkdir(parents=True)
    work = keep or Path(tempfile.mkdtemp(prefix="verbatim-scale-"))
    try:
        args = {"settings": plain_settings(settings), "n": n, "mode": mode, "cfg": dataclasses.asdict(cfg),
                "work": str(work), "memo": str(memo_dir.resolve()), "result": str(work / "result.json")}
        (work / "args.json").write_text(json.dumps(args))  # kept with --keep: no secret in it
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
                   **secret_env(settings))
        loads, t = [os.getloadavg()[0]], time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "verbatim_qa.evals.scale_size", str(work / "args.json")],
                                env=env)
        while proc.poll() is None:  # sample the 1-minute load average while the size runs
            time.sleep(2)
            loads.append(os.getloadavg()[0])
        if proc.returncode != 0:
            raise RuntimeError(f"scale bench at {n} chunks failed (exit {proc.returncode}); see the output above")
        row = json.loads((work / "result.json").read_text())
        row["wall_s"] = time.perf_counter() - t
        row["load_avg"] = {"mean": sum(loads) / len(loads), "max": max(loads)}
        return row
    finally:
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)


def plain_settings(settings: Settings) -> dict:
    """The settings as JSON values for the child, secrets left out (``secret_env`` carries them)."""
    return {name: str(v) if isinstance(v, Path) else v for name, v in settings.flat().items() if name not in SECRETS}


def secret_env(settings: Settings) -> dict[str, str]:
    flat = settings.flat()
    return {f"VERBATIM_{name.upper()}": flat[name] for name in SECRETS}


def child_settings(plain: dict, environ: Mapping[str, str]) -> Settings:
    """The parent's settings again, in the child: ``plain_settings`` and the secrets of ``secret_env``."""
    secrets = {name: environ.get(f"VERBATIM_{name.upper()}", "") for name in SECRETS}
    return Settings(**dict(plain, home=Path(plain["home"])), **secrets)


def derive(row: dict) -> None:
    """Rates from measured times. End to end is measured only for real embedding; otherwise it is derived."""
    row["chunks_per_s_excl_embedding"] = row["chunks"] / row["write_s"]
    probe = row["e5_probe"]
    if row["embed_mode"] == "real":
        row["end_to_end_s"], row["end_to_end_kind"] = row["ingest_s"], "measured"
        emb = row["ingest_embedding"]
        row["e5_in_ingest_per_s"] = emb["real_passages"] / emb["real_passage_s"] if emb["real_passage_s"] else None
    else:
        row["end_to_end_s"] = (row["write_s"] + row["chunks"] / probe["chunks_per_s"]
                               + row["sentences"] / probe["sentences_per_s"])
        row["end_to_end_kind"] = "derived"
    row["chunks_per_s_end_to_end"] = row["chunks"] / row["end_to_end_s"]
