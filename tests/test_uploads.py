"""Upload names and staging, without a server: whatever name a client sends, the stored name is one safe path
component, and an oversize file is cut off while it streams in (the HTTP side is in test_api.py)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verbatim_qa.settings import Settings
from verbatim_qa.ui.uploads import MAX_NAME_BYTES, STAGING, StagedFile, UploadError, checked_name, safe_filename

RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{d}{i}" for d in ("COM", "LPT") for i in range(1, 10)}
NAME_PARTS = st.sampled_from(
    ["..", ".", "/", "\\", "C:", "etc", "passwd", ".txt", ".md", ".pdf", "\u202e", "\u202d", "\u200f", "\x00", "\n",
     "\ufeff", "\u2028", " ", "CON", "nul", "Com1", "lpt9", "گزارش", "\u200c", "\uff0f", "\u2024", "e\u0301", "%2e",
     ":", "*", "?", "<", ">", "|", '"', "~", "$"]
)
NAMES = st.one_of(st.text(max_size=300), st.lists(NAME_PARTS, max_size=30).map("".join))


@settings(max_examples=400, deadline=None)
@given(NAMES)
def test_any_name_becomes_one_safe_component_or_nothing(raw):
    name = safe_filename(raw)
    if not name:
        return
    assert "/" not in name and "\\" not in name and name not in {".", ".."}
    assert not name.startswith((".", " ")) and not name.endswith((".", " "))
    assert len(name.encode("utf-8")) <= MAX_NAME_BYTES
    for ch in name:  # no controls, bidi overrides, line separators; ZWNJ/ZWJ are parts of Persian words
        assert ch in "\u200c\u200d" or unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
    assert not set('<>:"|?*') & set(name)
    assert name.split(".")[0].rstrip().upper() not in RESERVED


@pytest.mark.parametrize("raw, expected", [
    ("../../evil.txt", "evil.txt"),
    ("/etc/passwd.txt", "passwd.txt"),
    ("C:\\Users\\me\\..\\report.md", "report.md"),
    ("..\uff0f..\uff0fevil.txt", "evil.txt"),  # fullwidth solidus: NFKC makes it a "/" before splitting
    ("gnp\u202e.txt", "gnp.txt"),  # RTL override (would show as "txt.png")
    ("a\x00b.md", "ab.md"),
    (".bashrc.txt", "bashrc.txt"),  # no dot files: they would be hidden (and skipped by folder ingest)
    ("evil.txt. . ", "evil.txt"),
    ("CON.txt", "_CON.txt"),
    ("nul.md", "_nul.md"),
    ("lpt1.tar.md", "_lpt1.tar.md"),
    ("console.md", "console.md"),
    ("a:b?.md", "a_b_.md"),
    ("گزارش\u200cها.md", "گزارش\u200cها.md"),
])
def test_examples(raw, expected):
    assert safe_filename(raw) == expected


def test_very_long_names_keep_their_extension_within_the_byte_budget():
    for raw in ("x" * 1000 + ".txt", "گ" * 1000 + ".md", "CON." + "y" * 500 + ".txt"):
        name = checked_name(raw)
        assert len(name.encode("utf-8")) <= MAX_NAME_BYTES and name.endswith((".txt", ".md"))


@pytest.mark.parametrize("raw, status", [("..", 400), ("\u202e\x00", 400), ("", 400), ("/", 400),
                                         (".txt", 415), ("evil.txt\x00.exe", 415), ("noext", 415)])
def test_unusable_names_are_refused(raw, status):
    with pytest.raises(UploadError) as info:
        checked_name(raw)
    assert info.value.status == status


def test_oversize_stream_is_cut_off_and_nothing_is_left(tmp_path):
    settings = Settings(home=tmp_path / "home", max_file_mb=0.01)  # 10 KB
    staged = StagedFile(settings, "../big.txt")
    assert staged.path.parent.parent == settings.uploads_dir / STAGING and staged.name == "big.txt"
    staged.write(b"a" * 8000)
    with pytest.raises(UploadError) as info:
        staged.write(b"a" * 8000)
    assert info.value.status == 413 and "limit" in info.value.reason
    assert not any((settings.uploads_dir / STAGING).iterdir())  # the partial file is gone
    assert [p for p in settings.uploads_dir.rglob("*") if p.is_file()] == []
