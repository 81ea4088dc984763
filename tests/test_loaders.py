"""Loaders on real files: exact text, honest refusals (one-line LoadError), never mojibake or crashes."""

from __future__ import annotations

import codecs
import pickle
import random
import tempfile
import zipfile
from pathlib import Path

import docx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reportlab.pdfgen import canvas

from verbatim_qa.ingest.loaders import SUPPORTED, LoadError, decode_text, iter_files, load_document
from verbatim_qa.types import content_hash

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
MAX = 50 * 1024 * 1024
# cp1256 has no Persian yeh (U+06CC); Windows-era Persian files use Arabic yeh (U+064A) instead.
FA = "همکاری چین با آسیای مرکزی در حوزه هوش مصنوعی گسترش یافته است.".replace("ی", "ي")
EN = "China’s cooperation with Central Asia — a “naïve” café résumé."


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    p = tmp_path / name
    p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return p


def refusal(path: Path, max_bytes: int = MAX) -> str:
    with pytest.raises(LoadError) as info:
        load_document(path, max_bytes)
    err = info.value
    assert str(err) == f"{path.name}: {err.reason}" and "\n" not in err.reason
    return err.reason


# ---------------------------------------------------------------- corpus
@pytest.mark.parametrize("path", sorted(CORPUS.iterdir()), ids=lambda p: p.name)
def test_corpus_loads_exactly(path: Path):
    doc = load_document(path, MAX)
    expected = path.read_bytes().decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    assert doc.text == expected
    assert doc.source == path.name and doc.path == str(path.resolve())
    assert doc.doc_id == content_hash(str(path.resolve()))[:16]
    assert doc.sha == content_hash(doc.text) and doc.pages == ()


def test_corpus_titles_and_langs():
    md = load_document(CORPUS / "china-central-asia-ai-rezapour-2024.md", MAX)
    assert md.title == "China's Cooperation with Central Asia with an Emphasis on Artificial Intelligence"
    assert {"fa", "en"} <= set(md.langs)
    txt = load_document(CORPUS / "why-china-leans-hard-on-central-asia.txt", MAX)
    assert txt.langs == ("en",)
    assert txt.title == "Why China Leans Hard on Central Asia"  # first heading-like line, not the banner


def test_markdown_title_markup_stripped_and_text_kept(tmp_path):
    text = "```sh\n# not a title\n```\n\n## **Title<sup>۱</sup>** __here__ ##\n\nBody **bold**.\n"
    doc = load_document(write(tmp_path, "a.md", text), MAX)
    assert doc.title == "Title here"
    assert doc.text == text  # markdown is quoted as-is


def test_txt_title_falls_back_to_short_line_then_stem(tmp_path):
    assert load_document(write(tmp_path, "a.txt", "\n\n  First line  \nrest"), MAX).title == "First line"
    assert load_document(write(tmp_path, "notes.txt", "x" * 200), MAX).title == "notes"


# ---------------------------------------------------------------- decoding
@pytest.mark.parametrize(
    "data",
    [
        codecs.BOM_UTF8 + f"{FA}\n{EN}".encode(),
        codecs.BOM_UTF16_LE + f"{FA}\n{EN}".encode("utf-16-le"),
        codecs.BOM_UTF16_BE + f"{FA}\n{EN}".encode("utf-16-be"),
    ],
    ids=["utf8-bom", "utf16le-bom", "utf16be-bom"],
)
def test_bom_encodings(tmp_path, data):
    assert load_document(write(tmp_path, "a.txt", data), MAX).text == f"{FA}\n{EN}"


def test_cp1256_persian(tmp_path):
    text = f"{FA}\nسیاست‌های اقتصادی و امنیتی چین؛ «جاده ابریشم».\n".replace("ی", "ي")
    doc = load_document(write(tmp_path, "fa.txt", text.encode("cp1256")), MAX)
    assert doc.text == text and doc.langs == ("fa",)


def test_cp1252_english(tmp_path):
    doc = load_document(write(tmp_path, "en.txt", EN.encode("cp1252")), MAX)
    # fastText reads this loanword-dense line ("naïve café résumé") as French (0.61, English 0.14): one line says
    # little; what the test is about is the cp1252 decoding
    assert doc.text == EN and doc.langs in (("en",), ("fr",))


def test_crlf_and_cr_normalized(tmp_path):
    assert load_document(write(tmp_path, "a.txt", b"one\r\ntwo\rthree\n"), MAX).text == "one\ntwo\nthree\n"


def test_random_bytes_refused(tmp_path):
    rng = random.Random(1234)
    noise = bytes(rng.randrange(256) for _ in range(4096))
    assert refusal(write(tmp_path, "noise.txt", noise)) == "binary file (NUL bytes)"
    high = bytes(rng.randrange(0x80, 0x100) for _ in range(4096))  # no NULs, invalid UTF-8
    assert refusal(write(tmp_path, "high.txt", high)) == "cannot decode as UTF-8, UTF-16, cp1256 or cp1252"


def test_nul_bytes_are_binary(tmp_path):
    assert refusal(write(tmp_path, "a.md", b"hello\x00world")) == "binary file (NUL bytes)"


def test_damaged_utf8_is_refused_not_mojibake(tmp_path):
    data = (FA * 4).encode() + "آسیا".encode()[:-1] + b" end"  # last char cut in half
    assert refusal(write(tmp_path, "a.txt", data)).startswith("invalid UTF-8 at byte")


@pytest.mark.parametrize("encoding", ["cp1251", "koi8-r"])
def test_other_codepages_refused_not_read_as_cp1256(encoding):
    russian = "Китай активно сотрудничает со странами Центральной Азии в области искусственного интеллекта."
    with pytest.raises(ValueError, match="cannot decode"):
        decode_text(russian.encode(encoding))


# ---------------------------------------------------------------- HTML
HTML = """<!DOCTYPE html><html><head><title> China  &amp; AI </title>
<style>p { color: red }</style><script>var secret = 1;</script><meta charset="utf-8"></head>
<body><!-- a comment --><h1>Main <b>heading</b></h1><p>First   paragraph
 with a <a href="#">link</a>.</p><div><p>Second paragraph.</p>Loose text<br>next line</div>
<h2>Sub section</h2><ul><li>one</li><li>two</li></ul><noscript>enable js</noscript>
<p>همکاری چین</p></body></html>"""


def test_html_visible_text_headings_and_title(tmp_path):
    doc = load_document(write(tmp_path, "page.html", HTML), MAX)
    assert doc.title == "China & AI"
    assert doc.text == (
        "# Main heading\n\nFirst paragraph with a link.\n\nSecond paragraph.\n\nLoose text\nnext line\n\n"
        "## Sub section\n\none\ntwo\n\nهمکاری چین"
    )
    for hidden in ("secret", "color", "enable js", "comment", "DOCTYPE"):
        assert hidden not in doc.text


def test_cp1256_html_markup_does_not_hide_persian(tmp_path):
    html = f"<html><head><title>عنوان</title></head><body><h1>سلام</h1><p>{FA}</p></body></html>"
    doc = load_document(write(tmp_path, "fa.html", html.encode("cp1256")), MAX)
    assert (doc.title, doc.text) == ("عنوان", f"# سلام\n\n{FA}")


def test_html_title_falls_back_to_first_heading(tmp_path):
    doc = load_document(write(tmp_path, "a.htm", "<div><h2>Only <i>heading</i></h2><p>text</p></div>"), MAX)
    assert doc.title == "Only heading"


def test_html_without_visible_text(tmp_path):
    assert "empty" in refusal(write(tmp_path, "a.html", "<html><script>x()</script></html>"))


def test_deeply_nested_html_does_not_recurse(tmp_path):
    n = 5000
    path = write(tmp_path, "deep.html", "<div>" * n + "deep text" + "</div>" * n)
    try:
        assert load_document(path, MAX).text == "deep text"
    except LoadError:
        pass  # refusing is acceptable; a RecursionError is not


# ---------------------------------------------------------------- PDF
def make_pdf(path: Path, pages: list[str | None]) -> Path:
    c = canvas.Canvas(str(path))
    for text in pages:
        if text is None:
            c.rect(72, 72, 200, 200, fill=1)  # drawing only, no text layer
        else:
            c.drawString(72, 720, text)
        c.showPage()
    c.save()
    return path


def test_pdf_pages(tmp_path):
    path = make_pdf(tmp_path / "two.pdf", ["Page one about Central Asia.", "Page two on AI."])
    doc = load_document(path, MAX)
    assert len(doc.pages) == 2
    (s1, e1, p1), (s2, e2, p2) = doc.pages
    assert (s1, p1, p2) == (0, 1, 2) and e2 == len(doc.text) and s2 == e1 + 2
    assert doc.text[e1:s2] == "\n\n"
    assert "Page one about Central Asia." in doc.text[s1:e1]
    assert "Page two on AI." in doc.text[s2:e2]
    assert doc.page_at(doc.text.index("Central")) == 1
    assert doc.page_at(doc.text.index("two on")) == 2
    assert doc.title == "two" and doc.langs == ("en",)


def test_truncated_pdf(tmp_path):
    data = make_pdf(tmp_path / "ok.pdf", ["Some text here.", "More text."]).read_bytes()
    path = write(tmp_path, "cut.pdf", data[: len(data) // 2])
    assert refusal(path).startswith("corrupt PDF:")


@pytest.mark.integration  # Tesseract reads the blank page
def test_pdf_without_text_layer(tmp_path):
    # a blank page has no text layer: it is read by OCR, which finds nothing
    assert refusal(make_pdf(tmp_path / "scan.pdf", [None])) == \
        "PDF has no text layer and OCR found no text (blank or unreadable scan)"


# ---------------------------------------------------------------- DOCX
def test_docx_headings_paragraphs_tables(tmp_path):
    d = docx.Document()
    d.add_heading("China and Central Asia", level=1)
    d.add_paragraph(FA)
    d.add_heading("Details", level=2)
    d.add_paragraph("China offers surveillance technology to Central Asian states.")
    table = d.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Kazakhstan", "قزاقستان"
    path = tmp_path / "report.docx"
    d.save(str(path))
    doc = load_document(path, MAX)
    assert doc.text == (
        f"# China and Central Asia\n\n{FA}\n\n## Details\n\n"
        "China offers surveillance technology to Central Asian states.\n\nKazakhstan | قزاقستان"
    )
    assert doc.title == "China and Central Asia"


def test_text_renamed_or_truncated_docx(tmp_path):
    assert "not a valid .docx" in refusal(write(tmp_path, "fake.docx", "just some text"))
    d = docx.Document()
    d.add_paragraph("hello")
    d.save(str(tmp_path / "ok.docx"))
    data = (tmp_path / "ok.docx").read_bytes()
    assert "not a valid .docx" in refusal(write(tmp_path, "cut.docx", data[: len(data) // 2]))


def test_zip_bomb_docx(tmp_path):
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("word/document.xml", "w", force_zip64=True) as member:
            block = bytes(1 << 20)
            for _ in range(300):  # 300 MB of zeros, streamed: ~1.4 MB on disk, 1 MB in memory
                member.write(block)
    reason = refusal(path)
    assert "zip bomb" in reason and "compressed" in reason and "ratio" in reason


# ---------------------------------------------------------------- refusals in general
def test_oversize_checked_first(tmp_path):
    reason = refusal(write(tmp_path, "big.xyz", "x" * 5000), max_bytes=1000)
    assert reason == "file is 4.9 KB, over the 1000 bytes limit"
    big = tmp_path / "big.txt"
    with big.open("wb") as f:
        f.truncate(3 * 1024 * 1024)  # sparse: 3 MB without writing it
    assert refusal(big, max_bytes=2 * 1024 * 1024) == "file is 3 MB, over the 2 MB limit"


def test_unsupported_missing_dir_and_empty(tmp_path):
    assert refusal(write(tmp_path, "data.xyz", "hello")) == "unsupported file type .xyz"
    assert refusal(write(tmp_path, "Makefile", "all:")) == "unsupported file type (no extension)"
    assert refusal(tmp_path / "missing.txt") == "file not found"
    (tmp_path / "folder.txt").mkdir()
    assert refusal(tmp_path / "folder.txt") == "not a regular file"
    assert refusal(write(tmp_path, "empty.md", b"")) == "empty file"
    assert refusal(write(tmp_path, "blank.txt", " \r\n\t\n")) == "empty file"


def test_uppercase_extension_supported(tmp_path):
    assert load_document(write(tmp_path, "A.TXT", "hello"), MAX).text == "hello"
    assert ".txt" in SUPPORTED


def test_load_error_pickles():
    err = pickle.loads(pickle.dumps(LoadError(Path("/x/a.pdf"), "corrupt PDF: bad")))
    assert str(err) == "a.pdf: corrupt PDF: bad" and err.reason == "corrupt PDF: bad"


# ---------------------------------------------------------------- iter_files
def test_iter_files(tmp_path):
    root = tmp_path / "docs"
    kept = ["b.md", "a.txt", "sub/c.pdf", "sub/deeper/d.docx", "notes.xyz"]
    junk = [".hidden.txt", ".git/config", "sub/.cache/e.txt", "~$lock.docx", ".DS_Store", "Thumbs.db"]
    for rel in kept + junk:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x")
    explicit = write(tmp_path, "other.xyz", "x")
    explicit_hidden = write(tmp_path, ".explicit.txt", "x")
    got = iter_files([root, explicit, root / "a.txt", explicit_hidden, tmp_path / "missing.md"])
    names = [p.relative_to(tmp_path).as_posix() for p in got]
    assert names == [
        "docs/a.txt", "docs/b.md", "docs/notes.xyz", "docs/sub/c.pdf", "docs/sub/deeper/d.docx",
        "other.xyz", ".explicit.txt", "missing.md",
    ]  # fmt: skip
    assert refusal(got[2]) == "unsupported file type .xyz"


# ---------------------------------------------------------------- fuzz: nothing but LoadError, ever
def _seed_files() -> dict[str, bytes]:
    """One valid file per format, for byte-level mutation (reaches deeper than random bytes ever do)."""
    with tempfile.TemporaryDirectory() as tmp:
        pdf = make_pdf(Path(tmp) / "s.pdf", ["Page one about Central Asia.", "Page two."]).read_bytes()
        d = docx.Document()
        d.add_heading("Title", level=1)
        d.add_paragraph(FA)
        d.add_table(rows=1, cols=2).rows[0].cells[0].text = "cell"
        d.save(str(Path(tmp) / "s.docx"))
        return {".pdf": pdf, ".docx": (Path(tmp) / "s.docx").read_bytes(), ".html": HTML.encode("utf-8"),
                ".txt": f"{FA}\n{EN}\n".encode(), ".md": f"# {EN}\n\n{FA}\n".encode()}


SEEDS = _seed_files()


def load_or_refuse(suffix: str, data: bytes) -> None:
    """load_document on ``data`` as a ``suffix`` file: a Document with sound text, or a one-line LoadError."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"fuzz{suffix}"
        path.write_bytes(data)
        try:
            doc = load_document(path, MAX)
        except LoadError as exc:
            assert exc.reason and "\n" not in exc.reason
            return
    assert doc.text.strip() and doc.sha == content_hash(doc.text) and "\r" not in doc.text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(suffix=st.sampled_from(sorted(SUPPORTED)), data=st.binary(max_size=2048))
def test_arbitrary_bytes_give_a_document_or_a_load_error(suffix, data):
    load_or_refuse(suffix, data)


@st.composite
def mutated(draw) -> tuple[str, bytes]:
    """A valid file with a few bytes flipped, cut, inserted or truncated."""
    suffix = draw(st.sampled_from(sorted(SEEDS)))
    data = bytearray(SEEDS[suffix])
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
        if op == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif op == "cut":
            del data[at : at + draw(st.integers(1, 64))]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "truncate":
            del data[at:]
    return suffix, bytes(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_damaged_files_give_a_document_or_a_load_error(case):
    load_or_refuse(*case)


@pytest.mark.parametrize("data", [
    b"%PDF-1.4\n1 0 obj<</Filter/Bogus/Length 4>>stream\nabcd\nendstream endobj\ntrailer<</Root 1 0 R>>\n%%EOF",
    SEEDS[".pdf"].replace(b"/FlateDecode", b"/FlateDecodX"),  # NotImplementedError in pypdf
], ids=["bogus-filter", "unknown-filter"])
def test_pdf_parser_errors_are_load_errors(tmp_path, data):
    assert refusal(write(tmp_path, "odd.pdf", data)).startswith("corrupt PDF:")


def test_corrupt_deflate_in_docx_is_a_load_error(tmp_path):
    data = bytearray(SEEDS[".docx"])
    start = data.index(b"word/document.xml") + len(b"word/document.xml")  # the member's compressed bytes follow
    data[start + 40 : start + 60] = bytes(20)  # zlib.error inside python-docx, not BadZipFile
    assert refusal(write(tmp_path, "damaged.docx", bytes(data))).startswith("corrupt DOCX: word/document.xml: Error -3")


@pytest.mark.parametrize("name, data, reason", [
    ("paper.txt", SEEDS[".pdf"], "wrong extension: the content is a PDF document, not .txt"),
    ("report.md", SEEDS[".docx"], "wrong extension: the content is a zip archive (e.g. .docx), not .md"),
    ("photo.html", b"\x89PNG\r\n\x1a\n" + bytes(64), "wrong extension: the content is a PNG image, not .html"),
    ("paper.docx", SEEDS[".pdf"], "wrong extension: the content is a PDF document, not .docx"),
    ("notes.pdf", b"Just some notes, not a PDF at all.\n", "not a PDF (no %PDF- header)"),
])
def test_wrong_extension_is_named(tmp_path, name, data, reason):
    assert refusal(write(tmp_path, name, data)) == reason


@pytest.mark.parametrize("data", [
    "Le café était naïve. ".encode() * 10 + "Le café était naïve. ".encode("cp1252") * 10,
    "سلام دنیا، این متن است. ".encode() * 10 + "سلام دنیا، این متن است. ".replace("ی", "ي").encode("cp1256") * 20,
], ids=["utf8+cp1252", "utf8+cp1256"])
def test_mixed_encodings_are_refused_not_mojibake(tmp_path, data):
    assert refusal(write(tmp_path, "mixed.txt", data)).startswith("mixed encodings")
