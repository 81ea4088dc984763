"""The growth benchmark's outputs: results.json, a markdown table that labels every number, and a log-log plot."""

from __future__ import annotations

import json
from pathlib import Path


def write_outputs(result: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(result, indent=1, ensure_ascii=False))
    (out / "table.md").write_text(table(result["rows"]), encoding="utf-8")
    plot(result["rows"], out / "scale.png")


def table(rows: list[dict]) -> str:
    head = ("| chunks asked | chunks stored | sentences | docs | embedding | ingest s | in embedder s "
            "| ingest excl. embedding s | chunks/s excl. embedding | chunks/s end to end | retriever prep s "
            "| query p50 ms | query p95 ms | disk MB | peak RSS MB | load avg |")
    lines = ["# Growth benchmark", "", head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        e2e = f"{r['chunks_per_s_end_to_end']:.1f} ({r['end_to_end_kind']})"
        lines.append(
            f"| {r['requested']} | {r['chunks']} | {r['sentences']} | {r['documents']} | {r['embed_mode']} "
            f"| {r['ingest_s']:.1f} | {r['embed_s']:.1f} | {r['write_s']:.1f} | {r['chunks_per_s_excl_embedding']:.1f} "
            f"| {e2e} | {r['prepare_s']:.1f} | {r['query_ms']['p50']:.0f} | {r['query_ms']['p95']:.0f} "
            f"| {r['disk_mb']:.0f} | {r['peak_rss_mb']:.0f} | {r['load_avg']['mean']:.1f} |")
    lines += ["", "Scans and linearity (seconds, each timed once after the queries):", "",
              "| chunks | all_chunks | BM25 build | Persian terms | version | sweep | terms (embedded, s) "
              "| ingest ms/chunk first 10% | last 10% |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        c = r["components_s"]
        first, last = r["ms_per_chunk_first_last_10pct"]
        lines.append(f"| {r['chunks']} | {c['all_chunks']:.1f} | {c['bm25_build']:.1f} | {c['persian_terms']:.1f} "
                     f"| {c['version']:.2f} | {c['sweep']:.1f} | {r['terms']} ({r['terms_embedded']}, "
                     f"{r['terms_embed_s']:.1f}) | {first:.1f} | {last:.1f} |")
    lines += ["", *notes(rows), ""]
    return "\n".join(lines)


def notes(rows: list[dict]) -> list[str]:
    out = [
        "- *ingest s*: wall time of `ingest_paths` (load, chunk, embed, write), measured. *in embedder s*: time "
        "inside the embedder during ingest (real e5 in `real` mode; memo lookups and vector means in `cached` "
        "mode). *ingest excl. embedding* = the difference, measured.",
        "- *chunks/s end to end*: `measured` for real embedding; `derived` for cached mode = ingest excl. "
        "embedding + chunks / e5 chunk rate + sentences / e5 sentence rate (rates measured in the same process). "
        "A derived number is not a measurement.",
        "- `cached` mode: sentence and heading vectors are real e5 vectors of a bounded pool (embedded before "
        "the timed ingest); a chunk's vector is its real e5 vector when memoized, else the normalized mean of "
        "its sentences' real vectors. Queries and Persian terms are always embedded by the real model.",
        "- *retriever prep*: `HybridRetriever.from_store` after ingest (BM25 build and Persian term vocabulary, "
        "including embedding the terms, cold cache). *query*: `.retrieve(q, 5)`, warm (each question asked once "
        "untimed), English and Persian dev questions. *load avg*: mean 1-minute load average while the size ran.",
    ]
    for r in rows:
        if "ms_per_chunk_by_tenth" in r:
            out.append(f"- {r['chunks']} chunks: ingest ms/chunk by tenth of the files, in order: "
                       + ", ".join(f"{v:.1f}" for v in r["ms_per_chunk_by_tenth"]) + ".")
        if "cold" in r["query_ms"]:
            c = r["query_ms"]["cold"]
            out.append(f"- {r['chunks']} chunks: a question's first asking (new words to embed, chunks not seen "
                       f"yet) p50 {c['p50']:.0f} / p95 {c['p95']:.0f} ms over {c['n']}.")
    for r in rows:
        p = r["e5_probe"]
        line = (f"- {r['chunks']} chunks: e5 measured {p['sentences_per_s']:.1f} sentences/s, "
                f"{p['chunks_per_s']:.1f} chunk texts/s")
        if r.get("e5_in_ingest_per_s"):
            line += f"; {r['e5_in_ingest_per_s']:.1f} texts/s inside the ingest"
        emb = r["ingest_embedding"]
        line += (f"; ingest embedded {emb['real_passages']:.0f} texts for real, {emb['memo_hits']:.0f} memo hits, "
                 f"{emb['composed']:.0f} composed chunk vectors")
        out.append(line + ".")
    return out


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = [r["chunks"] for r in rows]
    panels = [
        ("ingest seconds", [("excl. embedding (measured)", [r["write_s"] for r in rows], "-o"),
                            ("end to end (real: measured, cached: derived)", [r["end_to_end_s"] for r in rows],
                             "--s")]),
        ("query p95 ms", [("HybridRetriever.retrieve, k=5", [r["query_ms"]["p95"] for r in rows], "-o")]),
        ("disk MB", [("VERBATIM_HOME (du)", [r["disk_mb"] for r in rows], "-o")]),
        ("peak RSS MB", [("VmHWM of the size's process", [r["peak_rss_mb"] for r in rows], "-o")]),
    ]
    fig, axes = plt.subplots(2, 2, figsize=(10, 8))
    for ax, (title, series) in zip(axes.flat, panels):
        for label, ys, style in series:
            ax.plot(x, ys, style, label=label)
        if len(x) > 1:  # slope-1 reference through the first point: linear growth runs parallel to it
            y0 = series[0][1][0]
            ax.plot(x, [y0 * v / x[0] for v in x], ":", color="grey", label="linear reference")
        if title.startswith("query"):
            ax.axhline(150, color="red", lw=0.8, label="target 150 ms")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel("chunks")
        ax.legend(fontsize=7)
    fig.suptitle("Verbatim: cost vs corpus size")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
