"""Script-based language detection: enough to tell Persian/Arabic script from Latin, cheaply."""

from __future__ import annotations


def is_arabic_script(ch: str) -> bool:
    o = ord(ch)
    return 0x0600 <= o <= 0x06FF or 0x0750 <= o <= 0x077F or 0xFB50 <= o <= 0xFDFF or 0xFE70 <= o <= 0xFEFF


def detect_lang(text: str) -> str:
    """'fa' when Arabic-script letters dominate, 'en' for Latin, 'und' when there are no letters."""
    arabic = latin = 0
    for ch in text:
        if is_arabic_script(ch):
            arabic += ch.isalpha()
        elif ch.isalpha():
            latin += 1
    if arabic == 0 and latin == 0:
        return "und"
    return "fa" if arabic >= latin else "en"


def detect_langs(text: str, block: int = 2000) -> tuple[str, ...]:
    """Languages present in a document (blocks of ``block`` chars), most frequent first."""
    counts: dict[str, int] = {}
    for i in range(0, max(len(text), 1), block):
        lang = detect_lang(text[i : i + block])
        if lang != "und":
            counts[lang] = counts.get(lang, 0) + 1
    return tuple(sorted(counts, key=lambda k: -counts[k])) or ("und",)
