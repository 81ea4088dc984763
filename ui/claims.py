"""What a file claims: each quote it shows, with its provenance. Read from a briefing (.md, .html, .docx: the
footnote's visible quote and the Provenance appendix line of the same number) or from ``ask --json`` output
(one answer object, or JSON lines: each citation's exact quote and the answer's ``provenance`` list).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from .provenance import Record, parse_lines, unescape

FORMATS = (".md", ".html", ".htm", ".docx", ".json", ".jsonl")
_MD_NOTE = re.compile(r"^\[\^(\d+)\]: “(.*)” — ", re.MULTILINE)  # greedy: a quote may hold "” — " itself
_DOCX_NOTE = re.compile(r"^(\d+)\. “(.*)” — ", re.DOTALL)


class ClaimsError(Exception):
    """A file verify cannot read (a usage error): ``str`` is one line naming the file and the reason."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")


@dataclass(frozen=True)
class Claim:
    label: str  # footnote number, or "answer.citation" for several answers
    record: Record
    quote: str | None  # what the file shows; None when its footnote is gone
    exact: bool  # answer objects hold the exact quote; briefings show it with whitespace collapsed
    # The briefing's whole text, whitespace collapsed: where a quote is looked for when a converter (pandoc,
    # LibreOffice) rebuilt the footnotes so that footnote ``n`` cannot be found by its number any more.
    context: str = ""


def read_claims(path: Path) -> list[Claim]:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ClaimsError(path, f"unsupported file type {suffix or '(no extension)'}: use .md, .html, .docx or "
                                "the JSON of `verbatim ask --json`")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ClaimsError(path, f"cannot read file: {exc.strerror or exc}") from exc
    if suffix == ".docx":
        notes, records, whole = _docx(path, data)
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ClaimsError(path, f"not UTF-8 text (invalid byte at {exc.start})") from exc
        if suffix in (".json", ".jsonl"):
            claims = _answers(path, text)
            if not claims:
                raise ClaimsError(path, "no quotes to verify (no citations)")
            return claims
        notes, records, whole = _html(text) if suffix in (".html", ".htm") else _markdown(text)
    if not records:
        raise ClaimsError(path, "no provenance found (not a briefing written by `verbatim brief`, or its "
                                "Provenance appendix was removed)")
    context = " ".join(whole.split())
    return [Claim(str(r.n), r, notes.get(r.n), exact=False, context=context) for r in records]


def _markdown(text: str) -> tuple[dict[int, str], list[Record], str]:
    return {int(m[1]): unescape(m[2]) for m in _MD_NOTE.finditer(text)}, parse_lines(text), unescape(text)


def _html(text: str) -> tuple[dict[int, str], list[Record], str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")
    notes = {}
    for li in soup.select('li[id^="fn-"]'):
        span = li.find("span")
        num = li["id"].removeprefix("fn-")
        if span is not None and num.isdigit():
            notes[int(num)] = span.get_text().strip().removeprefix("“").removesuffix("”")
    appendix = soup.select_one("section.provenance") or soup
    return notes, parse_lines(appendix.get_text("\n")), soup.get_text(" ")


def _docx(path: Path, data: bytes) -> tuple[dict[int, str], list[Record], str]:
    import io
    import zipfile

    import docx

    try:
        paras = [p.text for p in docx.Document(io.BytesIO(data)).paragraphs]
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:  # not a zip, or a zip without a Word document
        raise ClaimsError(path, "not a valid .docx") from exc
    notes = {int(m[1]): m[2] for p in paras if (m := _DOCX_NOTE.match(p))}
    return notes, parse_lines("\n".join(paras)), " ".join(paras)


def _answers(path: Path, text: str) -> list[Claim]:
    try:
        objects = [json.loads(text)]
    except json.JSONDecodeError:
        try:
            objects = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise ClaimsError(path, f"not JSON or JSON lines (line {exc.lineno}: {exc.msg})") from exc
    claims = []
    for k, obj in enumerate(objects, 1):
        if not isinstance(obj, dict) or not isinstance(obj.get("citations"), list):
            raise ClaimsError(path, f"answer {k} is not an answer object (no 'citations' list)")
        try:
            known = {int(p["n"]): Record.from_dict(p) for p in obj.get("provenance") or []}
            for c in obj["citations"]:
                n = int(c["n"])
                p = known.get(n)
                record = Record(n, str(c["source"]), p.doc_id if p else "", p.sha256 if p else "",
                                int(c["char_start"]), int(c["char_end"]), p.collection if p else "")
                claims.append(Claim(f"{k}.{n}" if len(objects) > 1 else str(n), record, str(c["quote"]), exact=True))
        except (KeyError, TypeError, ValueError) as exc:
            raise ClaimsError(path, f"answer {k}: a citation or provenance entry lacks {exc}") from exc
    return claims
