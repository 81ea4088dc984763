"""Stopwords of the search form (``tokenize`` output), per language.

English and Persian keep their hand lists: function words plus the words questions ask with ("describe",
"document"). The maintained lists of ``stopwordsiso`` lowered quote-hit on dev, PersianQA and en-de in their
place: they remove content words the questions turn on ("ai", "research", "year"; "داده" data), see
docs/measurements.md#stopwords. Every other language
takes the library's list (German, Spanish, Turkish, Russian, Arabic, Chinese, ...), folded to the search form.
"""

from __future__ import annotations

from functools import lru_cache

import stopwordsiso

from .normalize import tokenize

EN_STOP = frozenset(
    "a an the of to in on at by for from with about as into over under between and or but not no nor is are was "
    "were be been being do does did doing have has had having what which who whom whose when where why how "
    "that this these those there here it its it's they them their he she his her we our you your i me my "
    "can could would should will shall may might must than then so such very also just only any some all "
    "each both more most much many other according say says said tell me please does did give list "
    "name describe explain mention mentioned document documents paper article text author authors".split()
)
FA_STOP = frozenset(
    "و در به از که این را با است برای آن یک تا می ها های هم بر شده شود کرد کند نیز ای اند خود او ما "
    "شد باشد بود دارد داد همه هر یا اما چه چون پس اگر دیگر بین بی وی آنها آن‌ها سال کشور کشورهای "
    "میشود میکند کرده است؛ بوده داشت داشته گفت نمی".split()
)
_HAND = {"en": EN_STOP, "fa": FA_STOP}


@lru_cache(maxsize=256)
def stopwords(lang: str | None) -> frozenset[str]:
    """The stopwords of ``lang`` (ISO 639-1) in the search form; an unknown language has none."""
    if lang in _HAND:
        return _HAND[lang]
    if not lang or not stopwordsiso.has_lang(lang):
        return frozenset()
    # one token in the search form: a multi-word entry ("به عنوان") or one tokenize splits is left out
    return frozenset(t[0] for w in stopwordsiso.stopwords(lang) if len(t := tokenize(w)) == 1)


def is_stop(token: str, lang: str | None = None) -> bool:
    """A stopword of English, Persian (the bundled corpus's languages) or ``lang``."""
    return token in EN_STOP or token in FA_STOP or token in stopwords(lang)
