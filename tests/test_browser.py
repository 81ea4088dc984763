"""The web chat in a real browser: ``verbatim serve`` (a subprocess) on a copy of the e5 corpus index, driven by
Playwright with the system chromium (never ``playwright install``). Each step saves a screenshot to
``artifacts/browser/``. The steps share one page and run in file order, like a user's session.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from helpers import CHROMIUM, CHROMIUM_ARGS, EN_Q, FA_Q, NOTE, NOTE_Q, stop

from verbatim_qa.ui.server import free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "artifacts" / "browser"
VERBATIM = Path(sys.executable).with_name("verbatim")
ANSWER_MS = 120_000  # a loaded 2-core machine can be slow


@pytest.fixture(scope="module", autouse=True)
def chromium_present():
    """A missing browser is a set-up failure (``.ci/run`` installs it), never a silent skip."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get update && apt-get install -y chromium")

# Markup in the heading, in the very sentence that answers (so it is quoted in the chat) and around it.
HOSTILE_ANSWER = ("The Murghab customs post at Kulma Pass opened to trucks in 2004 "
                  '<img src=x onerror="window.__pwned=2"> according to [this memo](javascript:window.__pwned=3) '
                  "and ![a pixel](/pixel.png) **as agreed**.")
HOSTILE = ('# Memo <img src=x onerror="window.__pwned=1">\n\n' + HOSTILE_ANSWER + "\n\n"
           '<script>window.__pwned=4</script> <iframe srcdoc="<script>parent.__pwned=5</script>"></iframe> '
           '<svg onload="window.__pwned=6"></svg> <a href="javascript:window.__pwned=7">click</a> '
           "${window.__pwned=8} {{constructor}}\n")
ACTIVE = ", ".join(f"{where} {tag}" for where in ("#vb-chat", "#vb-panel", "#vb-library")
                   for tag in ("script", "img", "iframe", "svg", "a[href^='javascript']"))
HOSTILE_Q = "When did the Murghab customs post at Kulma Pass open to trucks?"


@pytest.fixture(scope="module")
def server(corpus_home, tmp_path_factory):
    home = tmp_path_factory.mktemp("browser") / "home"
    shutil.copytree(corpus_home, home)
    port = free_port()
    env = {**os.environ, "VERBATIM_HOME": str(home), "VERBATIM_EMBEDDER": "e5", "GRADIO_ANALYTICS_ENABLED": "False",
           "HF_HUB_OFFLINE": "1"}
    env.pop("VERBATIM_TOKEN", None)
    proc = subprocess.Popen([str(VERBATIM), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    threading.Thread(target=lambda: output.extend(proc.stdout), daemon=True).start()
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 300
    while True:
        try:
            if httpx.get(url + "api/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("verbatim serve did not start:\n" + "".join(output))
        time.sleep(0.5)
    time.sleep(0.2)
    assert any(f"serving at {url}" in line for line in output), output
    yield url.rstrip("/")
    stop(proc, 20)


@pytest.fixture(scope="module")
def session(server):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1360, "height": 1000},
                                      permissions=["clipboard-read", "clipboard-write"])
        page = context.new_page()
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(server + "/", wait_until="domcontentloaded")
        page.wait_for_selector("#vb-question textarea", timeout=60_000)
        yield {"page": page, "requests": requests, "base": server}
        browser.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def ask(page, question: str):
    """Ask in the chat tab; returns the new turn once its answer is complete."""
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Chat").click()
    n = page.locator("#vb-chat .vb-turn").count()
    page.fill("#vb-question textarea", question)
    page.click("#vb-ask")
    turn = page.locator("#vb-chat .vb-turn").nth(n)
    expect(turn.locator(".vb-bot:not(.vb-streaming), .vb-error")).to_be_visible(timeout=ANSWER_MS)
    return turn


def upload(page, *paths: Path) -> list[str]:
    """Upload through the Library tab; returns the status lines."""
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Library").click()
    page.evaluate("document.getElementById('vb-upload-status').dataset.before = "
                  "document.getElementById('vb-upload-status').innerText")
    page.set_input_files("#vb-upload input[type=file]", [str(p) for p in paths])
    status = page.locator("#vb-upload-status li")
    expect(status).to_have_count(len(paths), timeout=ANSWER_MS)
    expect(status.first).to_contain_text(paths[0].name)
    return status.all_inner_texts()


def library_files(page) -> list[str]:
    page.get_by_role("tab", name="Library").click()
    return page.locator("#vb-library tbody tr td:nth-child(2)").all_inner_texts()


def test_welcome_and_examples(session):
    from playwright.sync_api import expect

    page = session["page"]
    assert "Ask a question about your documents" in page.inner_text("#vb-chat")
    examples = page.locator("#vb-examples").inner_text()
    assert FA_Q in examples
    font = page.eval_on_selector("#vb-chat", "el => getComputedStyle(el).fontFamily")
    assert "Vazirmatn" in font and "Tahoma" in font
    expect(page.locator("#vb-question textarea")).to_have_attribute("dir", "auto", timeout=10_000)
    shot(page, "01-welcome")


def test_english_answer_streams_with_citations(session):
    page = session["page"]
    page.evaluate("""() => {
        window.__sawStreaming = false;
        const seen = () => { if (document.querySelector('#vb-chat .vb-streaming')) window.__sawStreaming = true; };
        new MutationObserver(seen).observe(document.getElementById('vb-chat'), {subtree: true, childList: true});
    }""")
    turn = ask(page, EN_Q)
    assert page.evaluate("window.__sawStreaming") is True
    bot = turn.locator(".vb-bot")
    assert "Astana, Kazakhstan in 2017 Huawei held its inaugural Central Asia Innovation Day" in bot.inner_text()
    assert turn.locator(".vb-cite").count() >= 1 and turn.locator(".vb-card").count() >= 1
    assert "Why China Leans Hard on Central Asia" in turn.locator(".vb-card").first.inner_text()
    assert "vb-refusal" not in (bot.get_attribute("class") or "")
    turn.locator(".vb-copy").click()
    markdown = page.evaluate("navigator.clipboard.readText()")
    assert markdown.startswith(f"**Q:** {EN_Q}") and "[^1]: “At a conference in Astana" in markdown
    shot(page, "02-english-answer")


def test_citation_opens_the_source_with_the_span_highlighted(session):
    from playwright.sync_api import expect

    page = session["page"]
    turn = page.locator("#vb-chat .vb-turn").last
    turn.locator(".vb-cite").first.click()
    mark = page.locator("#vb-panel-body mark")
    expect(mark).to_be_visible(timeout=10_000)
    quote = turn.locator(".vb-bot p .vb-quote").first.inner_text()
    assert mark.inner_text() == quote
    panel = page.locator("#vb-panel-body").inner_text()
    assert "Why China Leans Hard on Central Asia" in panel and "why-china-leans-hard-on-central-asia.txt" in panel
    assert "Section" in panel and "Page" in panel
    shot(page, "03-source-panel")


def test_persian_evidence_is_right_to_left(session):
    from playwright.sync_api import expect

    page = session["page"]
    turn = ask(page, FA_Q)
    quotes = turn.locator(".vb-bot p .vb-quote")
    texts = quotes.all_inner_texts()
    persian = [i for i, t in enumerate(texts) if re.search("[\u0600-\u06ff]", t)]
    assert persian, texts
    q = quotes.nth(persian[0])
    assert q.evaluate("el => getComputedStyle(el).direction") == "rtl"
    assert q.evaluate("el => getComputedStyle(el.closest('p')).direction") == "rtl"
    intro = turn.locator(".vb-bot p:not(.vb-key):not(.vb-caveat)").first
    assert "Persian" in intro.inner_text() and intro.evaluate("el => getComputedStyle(el).direction") == "ltr"
    card = turn.locator(".vb-card").nth(persian[0])
    card.click()
    expect(page.locator("#vb-panel-body mark")).to_have_text(texts[persian[0]], timeout=10_000)
    assert page.eval_on_selector("#vb-panel-body .vb-src-text", "el => getComputedStyle(el).direction") == "rtl"
    shot(page, "04-persian-rtl")


def test_follow_up_is_answered_from_the_passage_it_means(session):
    page = session["page"]
    ask(page, "Which country opened a new police centre equipped with facial recognition in its capital?")
    turn = ask(page, "Who built it?")  # the conversation so far is its history
    quotes = " ".join(turn.locator(".vb-bot p .vb-quote").all_inner_texts())
    assert "هوآوی" in quotes and "پلیس" in quotes, quotes  # Huawei opened Bishkek's police command centre
    searched = turn.locator(".vb-searched").inner_text()
    assert searched.startswith("Searched as: Who built it? ") and "police" in searched
    shot(page, "05-follow-up")


def test_upload_then_ask_cites_it(session, tmp_path):
    page = session["page"]
    note = tmp_path / "glacier-notes.txt"
    note.write_text(NOTE, encoding="utf-8")
    lines = upload(page, note)
    assert lines == ["glacier-notes.txt: added: 1 chunk"]
    assert "glacier-notes.txt" in library_files(page)
    shot(page, "05-uploaded")
    turn = ask(page, NOTE_Q)
    assert "rebuilt in 2003" in turn.locator(".vb-bot p .vb-quote").first.inner_text()
    turn.locator(".vb-card").first.click()
    assert "glacier-notes.txt" in page.locator("#vb-panel-body").inner_text()
    shot(page, "06-answer-from-upload")


def test_bad_uploads_show_their_reason_and_change_nothing(session, tmp_path):
    page = session["page"]
    before = library_files(page)
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ\x90\x00\x03")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    lines = upload(page, exe, empty)
    assert lines[0].startswith("tool.exe: unsupported file type .exe")
    assert lines[1] == "empty.txt: empty file"
    assert page.locator("#vb-upload-status li.vb-bad").count() == 2
    assert library_files(page) == before
    shot(page, "07-bad-uploads")


def test_untrusted_document_is_shown_as_text(session, tmp_path):
    """HTML, markdown and template syntax in a document are text in the chat quote, the source panel and the
    library: no element is created from them and nothing runs."""
    page = session["page"]
    hostile = tmp_path / "hostile.txt"
    hostile.write_text(HOSTILE, encoding="utf-8")
    lines = upload(page, hostile)
    assert len(lines) == 1 and lines[0].startswith("hostile.txt: added:")
    assert "Memo" in page.locator("#vb-library").inner_text()
    turn = ask(page, HOSTILE_Q)
    quote = turn.locator(".vb-bot p .vb-quote").first.inner_text()
    assert quote.startswith(HOSTILE_ANSWER)  # the raw markup, character for character, as the quoted text
    assert turn.locator(".vb-quote *").count() == 0  # no element made from markdown or HTML inside the quote
    turn.locator(".vb-card").first.click()
    panel = page.locator("#vb-panel-body .vb-src-text").inner_text()
    for raw in (HOSTILE_ANSWER, "<script>window.__pwned=4</script>", '<svg onload="window.__pwned=6"></svg>',
                '<iframe srcdoc="<script>parent.__pwned=5</script>"></iframe>', "${window.__pwned=8} {{constructor}}"):
        assert raw in panel, raw
    page.wait_for_timeout(500)  # an onerror/onload would have fired by now
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator(ACTIVE).count() == 0
    shot(page, "08-untrusted-text")


def test_refusal_is_styled_as_a_refusal(session):
    page = session["page"]
    turn = ask(page, "What is the boiling point of mercury in Kelvin?")
    refusal = turn.locator(".vb-bot.vb-refusal")
    assert refusal.count() == 1 and turn.locator(".vb-error").count() == 0
    assert "Not answered by the documents" in refusal.inner_text()
    assert "The documents do not answer this question." in refusal.inner_text()
    shot(page, "09-refusal")


def test_briefing_download(session):
    page = session["page"]
    page.get_by_role("tab", name="Chat").click()
    with page.expect_download(timeout=30_000) as dl:
        page.click("#vb-dl-md")
    text = Path(dl.value.path()).read_text(encoding="utf-8")
    assert f"## 1. {EN_Q}" in text and f"## 2. {FA_Q}" in text and "## Sources" in text
    assert "[^1]: “At a conference in Astana" in text
    assert "## Provenance" in text and "- [1] why-china-leans-hard-on-central-asia.txt · doc " in text  # for verify


def test_delete_a_document(session):
    from playwright.sync_api import expect

    page = session["page"]
    assert "hostile.txt" in library_files(page)
    page.click("#vb-delete-doc input")
    page.get_by_role("option", name=re.compile(r"hostile\.txt")).click()
    page.click("#vb-delete")
    expect(page.locator("#vb-delete-status")).to_contain_text("Deleted", timeout=ANSWER_MS)
    expect(page.locator("#vb-library")).not_to_contain_text("hostile.txt", timeout=10_000)
    assert "glacier-notes.txt" in library_files(page)
    shot(page, "10-deleted")


def test_no_request_left_the_server(session):
    base = session["base"]
    outside = [u for u in session["requests"] if not (u.startswith(base + "/") or u.startswith(("data:", "blob:")))]
    assert session["requests"] and outside == []
