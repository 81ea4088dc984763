"""Measuring commands: ``eval`` (hermetic retrieval and answer evaluation) and ``bench`` (latency, throughput)."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import typer

from verbatim_qa.evals.systems import ALL_SYSTEMS

from .app import COLLECTION, app, env_settings, err, fail

DEFAULT_SYSTEMS = ",".join(ALL_SYSTEMS)


@app.command("eval")
def eval_cmd(
    dataset: Path = typer.Option(None, help="JSONL eval set (default: evals/datasets/dev.jsonl)."),
    corpus: Path = typer.Option(Path("corpus"), help="Folder the dataset's quote_docs refer to."),
    squad: Path = typer.Option(None, help="A SQuAD-format JSON file instead of --dataset/--corpus."),
    limit: int = typer.Option(None, help="With --squad: only the first N paragraphs."),
    questions_from: Path = typer.Option(None, "--questions-from", help="With --squad: ask this SQuAD file's "
                                        "questions (same ids, another language: XQuAD) over --squad's paragraphs."),
    systems: str = typer.Option(DEFAULT_SYSTEMS, help="Comma-separated systems to compare."),
    out: Path = typer.Option(Path("out/eval"), help="Folder for report.md, results.json and the plot."),
    answers: bool = typer.Option(True, help="Also evaluate answers (quotes, refusals) of the default system."),
    followups: Path = typer.Option(None, help="A follow-up set (JSONL items with 'history' and 'turn'): R@5 and "
                                              "quote-hit asked alone, with the previous question, and standalone."),
    pdf: Path = typer.Option(None, "--pdf", help="A folder of PDFs, each beside its source text (NAME.paragraphs.txt, "
                             "NAME.tex.gz or NAME.src.tar.gz): sentence recall and token validity of Verbatim's "
                             "text, pdfium's and pdftotext's, per document and per producer."),
    html: Path = typer.Option(None, "--html", help="A folder of saved web pages, each beside NAME.paragraphs.txt "
                              "(its article) and NAME.boilerplate.txt: article kept and boilerplate leaked, main "
                              "content beside all visible text."),
    index: Path = typer.Option(None, help="Keep the eval's index in this folder and reuse it on the next run "
                                          "(unchanged documents are not ingested again: books take minutes)."),
    collection: str = COLLECTION,
) -> None:
    """Evaluate retrieval (and answers) on a temporary index (or --index): the user's index is left alone. With
    --pdf or --html, the fidelity of PDF or web page text extraction instead."""
    settings = env_settings(collection)  # the collection of the eval's own index (a kept --index holds several)
    if pdf is not None:
        _pdf_eval(pdf, out, settings)
        return
    if html is not None:
        _html_eval(html, out, settings)
        return
    if followups is not None:
        work = Path(tempfile.mkdtemp(prefix="verbatim-eval-"))
        try:
            _followups_in(work, followups, corpus, out, settings)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return
    names = [s.strip() for s in systems.split(",") if s.strip()]
    bad = [n for n in names if n not in ALL_SYSTEMS]
    if bad:
        choices = ", ".join(ALL_SYSTEMS)
        raise fail(f"unknown system(s) {', '.join(bad)}; choose from {choices}")
    if index is not None:
        index.mkdir(parents=True, exist_ok=True)
        _eval_in(index, dataset, corpus, squad, limit, names, out, answers, settings, questions_from)
        return
    work = Path(tempfile.mkdtemp(prefix="verbatim-eval-"))
    try:
        _eval_in(work, dataset, corpus, squad, limit, names, out, answers, settings, questions_from)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # the temporary index is the run's, not the user's


def _eval_in(work: Path, dataset, corpus, squad, limit, names, out, answers, settings,
             questions_from=None) -> None:

    from verbatim_qa.evals.dataset import DatasetError, load_items
    from verbatim_qa.evals.runner import run_retrieval_eval, write_report

    try:
        if squad is not None:
            if not squad.is_file():
                raise fail(f"{squad}: no such file")
            from verbatim_qa.evals.squad import import_squad, swap_questions

            corpus = work / "corpus"
            items = import_squad(squad, corpus, limit)
            title = f"Verbatim eval: {squad.name}" + (f" (first {limit} paragraphs)" if limit else "")
            if questions_from is not None:
                if not questions_from.is_file():
                    raise fail(f"{questions_from}: no such file")
                items = swap_questions(items, questions_from)
                title += f", questions of {questions_from.name}"
        elif questions_from is not None:
            raise fail("--questions-from needs --squad")
        else:
            dataset = dataset or Path("evals/datasets/dev.jsonl")
            if not dataset.is_file() or not corpus.is_dir():
                raise fail(f"need an existing --dataset file and --corpus folder ({dataset}, {corpus})")
            items = load_items(dataset)
            title = f"Verbatim eval: {dataset.name}"
    except DatasetError as exc:
        raise fail(exc) from exc
    result = run_retrieval_eval(items, corpus, names, settings, home=work / "home")
    if answers:
        from verbatim_qa.evals.answers import run_answer_eval

        result["answers"] = run_answer_eval(items, settings, home=work / "home")
    print(write_report(result, out, title, items))
    err.print(f"wrote {out / 'report.md'}, {out / 'results.json'}, {out / 'recall_at_k.png'}")
    for failed in result["ingest_failed"]:
        err.print(f"[red]error:[/] {failed['path']}: {failed['reason']}", soft_wrap=True)
    if result["ingest_failed"]:
        raise typer.Exit(1)  # measured over the documents that loaded: a partial result


def _pdf_eval(folder: Path, out: Path, settings) -> None:
    from verbatim_qa.evals.pdf_eval import find_pdfs, pdf_report, run_pdf_eval

    if not folder.is_dir():
        raise fail(f"--pdf {folder}: not a folder")
    if not any(truth for _, truth in find_pdfs(folder)):
        raise fail(f"--pdf {folder}: no PDF with its source text beside it (NAME.paragraphs.txt, NAME.tex.gz or "
                   "NAME.src.tar.gz)")
    try:
        result = run_pdf_eval(folder, settings, log=lambda m: err.print(m, soft_wrap=True, highlight=False))
    except RuntimeError as exc:  # pdftotext missing or failing
        raise fail(exc, code=1) from exc
    _write_report(out, "pdf", pdf_report(result), result)


def _write_report(out: Path, kind: str, text: str, result: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{kind}_report.md").write_text(text, encoding="utf-8")
    (out / f"{kind}_results.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(text)
    err.print(f"wrote {out / f'{kind}_report.md'}, {out / f'{kind}_results.json'}")


def _html_eval(folder: Path, out: Path, settings) -> None:
    from verbatim_qa.evals.html_eval import html_pages, html_report, run_html_eval

    if not folder.is_dir() or not html_pages(folder):
        raise fail(f"--html {folder}: no NAME.html beside its NAME.paragraphs.txt")
    result = run_html_eval(folder, settings)
    _write_report(out, "html", html_report(result), result)


def _followups_in(work: Path, dataset: Path, corpus: Path, out: Path, settings) -> None:
    from verbatim_qa.evals.dataset import DatasetError, load_items
    from verbatim_qa.evals.followups import followup_report, run_followup_eval

    if not dataset.is_file() or not corpus.is_dir():
        raise fail(f"need an existing --followups file and --corpus folder ({dataset}, {corpus})")
    try:
        items = load_items(dataset)
    except DatasetError as exc:
        raise fail(exc) from exc
    if not all(it.history for it in items):
        raise fail(f"{dataset}: every follow-up item needs a 'history'")
    result = run_followup_eval(items, corpus, settings, home=work / "home")
    text = followup_report(result, f"Verbatim follow-ups: {dataset.name}")
    out.mkdir(parents=True, exist_ok=True)
    (out / "followups.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    (out / "followups.md").write_text(text, encoding="utf-8")
    print(text)
    err.print(f"wrote {out / 'followups.md'}, {out / 'followups.json'}")


@app.command("bench")
def bench_cmd(
    as_json: bool = typer.Option(False, "--json"),
    corpus: Path = typer.Option(Path("corpus")),
    dataset: Path = typer.Option(Path("evals/datasets/dev.jsonl")),
    rounds: int = typer.Option(3, help="Passes over the questions for latency."),
    pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="Also time PDF ingest (a 20-page text PDF printed by "
                             "Chromium, 5 of its pages scanned) and the page-image endpoint."),
    pdf_dir: Path = typer.Option(None, "--pdf-dir", help="Also the load speed (pages/s) of each PDF in this folder, "
                                 "beside raw pdfium's and pdftotext's text extraction."),
    scale: bool = typer.Option(False, "--scale", help="Growth benchmark on synthetic corpora of --sizes chunks."),
    sizes: str = typer.Option("1000,10000,100000", help="With --scale: comma-separated chunk counts."),
    embed: str = typer.Option("auto", help="With --scale: real | cached | auto (real up to --real-limit chunks)."),
    real_limit: int = typer.Option(1000, help="With --scale --embed auto: largest size embedded for real."),
    seed: int = typer.Option(7, help="With --scale: seed of the synthetic corpora."),
    out: Path = typer.Option(Path("out/scale"), help="With --scale: folder for results.json, table.md, scale.png."),
    keep: bool = typer.Option(False, "--keep", help="With --scale: keep each size's corpus and index in OUT/size-N "
                              "(to profile it; gigabytes at 100k)."),
    collection: str = COLLECTION,
) -> None:
    """Ingest throughput, warm retrieval latency (p50/p95, Verbatim vs the LangChain recipe), HTTP answer latency;
    with --scale, how ingest, query latency, disk and memory grow with the corpus."""

    if scale:
        _scale(env_settings(collection), sizes, embed, real_limit, seed, corpus, dataset, out, keep)
        return
    from verbatim_qa.evals.bench import run_bench

    if pdf_dir is not None and (not pdf or not pdf_dir.is_dir()):
        raise fail(f"--pdf-dir {pdf_dir}: needs an existing folder and --pdf")
    try:
        result = run_bench(env_settings(collection), corpus, dataset, rounds, pdf=pdf, pdf_dir=pdf_dir)
    except RuntimeError as exc:
        raise fail(exc, code=1) from exc
    if as_json:
        print(json.dumps(result, indent=1))
        return
    for section, values in result.items():
        print(f"{section}:")
        for k, v in values.items():
            if isinstance(v, dict):
                v = ", ".join(f"{a}={b:.1f}" if isinstance(b, float) else f"{a}={b}" for a, b in v.items())
            print(f"  {k}: {v:.3f}" if isinstance(v, float) else f"  {k}: {v}")


def _scale(settings, sizes: str, embed: str, real_limit: int, seed: int, corpus: Path, dataset: Path, out: Path,
           keep: bool = False):
    from verbatim_qa.evals.scale import ScaleConfig, run_scale

    try:
        counts = tuple(int(x) for x in sizes.split(",") if x.strip())
    except ValueError:
        counts = ()
    if not counts or min(counts) < 1 or embed not in {"auto", "real", "cached"}:
        raise fail("--sizes must be positive integers (e.g. 1000,10000) and --embed real|cached|auto")
    if not corpus.is_dir() or not dataset.is_file():
        raise fail(f"need an existing --corpus folder and --dataset file ({corpus}, {dataset})")
    cfg = ScaleConfig(sizes=counts, embed=embed, real_limit=real_limit, seed=seed, corpus=str(corpus),
                      dataset=str(dataset), keep=keep)
    try:
        run_scale(settings, cfg, out, log=lambda m: err.print(m, soft_wrap=True))
    except RuntimeError as exc:
        raise fail(exc, code=1) from exc
    print((out / "table.md").read_text(encoding="utf-8"))
    err.print(f"wrote {out / 'results.json'}, {out / 'table.md'}, {out / 'scale.png'}")
