"""What a question asks for, from its wording (English and Persian), and whether a sentence carries it.

``expected_type`` reads the question: a number (how much/many, چقدر، چند), a date (when, what year, کی، چه
سالی), a person (who, چه کسی), a name (which country/company/city, where, کدام), a reason (why, چرا) or
nothing in particular. ``typed_spans`` finds the spans of a sentence that are of a type (the candidates of
``answer_span``); ``carries`` says whether a sentence has one. ``requested_roles`` names the non-body
sentences a question asks for (who wrote → bylines; which journal → references; which figure → captions).
"""

from __future__ import annotations

import re

TYPES = ("number", "date", "person", "name", "reason")

_EN_TYPE = [
    ("date", r"\b(?:when|what (?:year|date|month|day|century|decade|time|period|era)|which (?:year|date|month|day|"
             r"century|decade)|since when|how long ago|in what (?:year|month|century|decade))\b"),
    ("number", r"\bhow (?:much|many|long|far|big|large|old|tall|high|wide|deep|often|fast|heavy)\b|"
               r"\bwhat (?:percentage|percent|proportion|share|number|amount|size|population|cost|price|value|"
               r"rate|distance|length|temperature|speed|fraction|ratio|total|sum|volume|quantity)\b"),
    ("person", r"\b(?:who|whom|whose)\b|\b(?:what|which) (?:person|man|woman|author|writer|scientist|leader|"
               r"president|king|queen|emperor|minister|general|player|artist|composer|philosopher|engineer|"
               r"architect|officer|founder|inventor|poet|scholar)\b"),
    ("name", r"\b(?:what|which) (?:company|companies|country|countries|city|cities|organi[sz]ation|state|"
             r"province|region|river|team|university|group|party|language|nation|firm|bank|agency|institution|"
             r"town|capital|continent|island|mountain|sea|ocean|journal|newspaper|publication|religion|"
             r"dynasty|empire|ship|airport|station|museum|school|club|brand|corporation)\b|"
             r"\bwhere\b|\bwhat is the name\b|\bwhat was the name\b|\bwhat (?:is|was) .{0,40} called\b"),
    ("reason", r"\bwhy\b|\bfor what reason\b|\bhow come\b|\bwhat (?:caused|causes|led to|leads to)\b"),
]
_FA_TYPE = [
    ("number", r"چقدر|چه\s*قدر|چندتا|چند|چه\s*تعداد|چه\s*میزان|چه\s*مقدار|چه\s*اندازه|چند\s*درصد"),
    # colloquial "کی" is "who" at the end ("… کی بود؟") or after a preposition ("به پیشنهاد کی"), else "when"
    ("person", r"\bکیه\b|\bکیا\b|\bکی\s*(?:بود|است|هست|بودند|هستند|بوده|ه)?\s*[؟?]?\s*$|"
               r"(?:به|از|با|توسط|برای|پیشنهاد)\s+کی\b"),
    ("date", r"\bکی\b|چه\s*سالی|چه\s*زمانی|در\s*چه\s*سال|چه\s*تاریخی|چه\s*قرنی|چه\s*دهه|چه\s*ماهی|سال\s*چند|چه\s*روزی"),
    ("person", r"چه\s*کس|کدام\s*(?:شخص|فرد|نویسنده|دانشمند|رهبر|رئیس|پادشاه|شاعر)|توسط\s*چه|چه\s*شخصی"),
    ("name", r"کدام|کدوم|کجا|چه\s*(?:کشوری|شهری|شرکتی|سازمانی|نامی|زبانی|استانی|منطقه\S*)|نام\s*\S+\s*چیست|نامش|"
             r"چه\s*نام"),
    ("reason", r"چرا|به\s*چه\s*(?:دلیل|علت)|علت\s*\S*\s*چیست|دلیل\s*\S*\s*چیست|به\s*چه\s*خاطر"),
]
# order matters: "how many years" is a number, "when" a date; the Persian "چند" also reaches "چند سال" (a number)
_EN = [(t, re.compile(p, re.IGNORECASE)) for t, p in _EN_TYPE]
_FA = [(t, re.compile(p)) for t, p in _FA_TYPE]

_ROLE_REQUESTS = [
    ("attribution", r"\b(?:who (?:wrote|authored|is the author)|author|written by|byline|writer of)\b|نویسنده|"
                    r"نگارنده|چه کسی .{0,30}(?:نوشت|نگاشت)"),
    ("reference", r"\b(?:which|what) (?:journal|source|reference|publication|book|article|paper)s?\b|\bcited?\b|"
                  r"\bbibliograph|\breferences?\b|منبع|منابع|مقاله .{0,20}کدام|کتابنامه|ارجاع"),
    ("caption", r"\b(?:figure|fig\.|table|chart|diagram|map)\b|شکل|جدول|نمودار"),
    ("title", r"\btitle\b|\bheadline\b|\bcalled\b|\bheading\b|عنوان"),
    # navigation text (qa/retriever.py ``demotion``): quoted and ranked as evidence only when asked for
    ("toc", r"\btable of contents\b|\b(?:which|what) (?:chapters?|sections?|parts?)\b|"
            r"\blist of (?:chapters|sections)\b|فهرست\s*(?:مطالب|مندرجات)|(?<!\S)(?:کدام|چه)\s+(?:فصل|بخش)"),
    ("index", r"\b(?:in|from) the index\b|\bindex (?:entry|entries|page)\b|(?<!\S)نمایه(?!\S)"),
    ("code", r"\b(?:code|listing|snippet|example|syntax)s?\b|(?<!\S)کد(?:ها|ی)?(?!\S)"),
    ("header", r"\brunning (?:head|header)s?\b|\bpage headers?\b|سرصفحه"),
    ("footer", r"\bfooters?\b|\bpage numbers?\b|پاصفحه"),
]
_ROLES = [(r, re.compile(p, re.IGNORECASE)) for r, p in _ROLE_REQUESTS]

_D = r"[0-9۰-۹٠-٩]"
_NUM = rf"{_D}+(?:[.,/٫٬]{_D}+)*"
_MONTHS_EN = (r"January|February|March|April|May|June|July|August|September|October|November|December|"
              r"Jan\.|Feb\.|Mar\.|Apr\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.")
_MONTHS_FA = (r"فروردین|اردیبهشت|خرداد|تیر|مرداد|شهریور|مهر|آبان|آذر|دی|بهمن|اسفند|ژانویه|فوریه|مارس|آوریل|مه|"
              r"ژوئن|ژوئیه|ژوئیه|اوت|آگوست|سپتامبر|اکتبر|نوامبر|دسامبر")
_UNITS = (r"percent|per cent|%|٪|million|billion|trillion|thousand|hundred|dollars?|euros?|pounds?|yuan|rubles?|"
          r"km|kilometres?|kilometers?|miles?|metres?|meters?|m|kg|kilograms?|tons?|tonnes?|years?|months?|days?|"
          r"hours?|minutes?|people|persons?|members?|countries|cubic (?:metres|meters)|square (?:kilometres|"
          r"kilometers|miles|metres|meters)|acres?|hectares?|degrees?|°[CF]?|درصد|میلیون|میلیارد|هزار|صد|"
          r"تریلیون|دلار|یورو|یوان|ریال|تومان|روبل|کیلومتر|متر|مترمکعب|متر\s*مکعب|کیلوگرم|تن|سال|ماه|روز|ساعت|"
          r"دقیقه|نفر|عضو|کشور|درجه|هکتار|مربع|مکعب")  # "متر مربع": square metres, "متر مکعب": cubic metres
_NUMBER_WORDS = (r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
                 r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
                 r"hundred|thousand|million|billion|dozen|half|several|یک|دو|سه|چهار|پنج|شش|هفت|هشت|نه|ده|"
                 r"یازده|دوازده|بیست|سی|چهل|پنجاه|شصت|هفتاد|هشتاد|نود|صد|یکصد|دویست|سیصد|چهارصد|پانصد|پونصد|ششصد|هفتصد|"
                 r"هشتصد|نهصد|هزار|میلیون|میلیارد|نیم")
# Persian joins the parts of a number with "و" ("یک میلیون و چهارصد هزار": one million four hundred thousand)
_NUMBER_JOIN = r"(?:\s+و\s+|[\s-]+)"
# a bound written before a figure is part of it: "بیش از ۶ میلیون" (more than 6 million) is not "6 million"
# ("over" is not one: "operate over 760 mm" is a preposition's)
_BOUND = (r"(?:(?:more than|about|around|nearly|almost|approximately|roughly|at least|up to|less than|"
          r"fewer than|بیش\s*از|بیشتر\s*از|حدود|نزدیک\s*به|تقریباً|تقریبا|کمتر\s*از|دست\s*کم|بالغ\s*بر)\s+)?")
_ORDINALS = (r"first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|"
             r"اولین|نخستین|دومین|سومین|چهارمین|پنجمین|ششمین|هفتمین|هشتمین|نهمین|دهمین|[^\s]{2,8}مین")
_YEAR_RX = r"(?<![0-9۰-۹٠-٩.,/٫٬])(?:[1۱][0-9۰-۹]|[2۲][0۰])[0-9۰-۹]{2}(?![0-9۰-۹٠-٩])"
_SPANS = {
    "date": re.compile(
        # a range first ("between 2005 and 2010", "1870 to 1939", "2016-2022"): the answer to "when" is all of it
        rf"(?:(?:between|from)\s+{_YEAR_RX}\s+(?:and|to|until)\s+{_YEAR_RX}|{_YEAR_RX}\s*(?:[–-]|to)\s*{_YEAR_RX}|"
        rf"(?:{_D}{{1,2}}\s+)?(?:{_MONTHS_EN}|{_MONTHS_FA})(?:\s+{_D}{{1,2}},?)?\s+{_D}{{3,4}}|"
        rf"(?:{_MONTHS_EN})\s+{_D}{{1,2}}|"
        rf"(?:(?:early|late|mid)[\s-]+)?(?:spring|summer|autumn|fall|winter)\s+(?:of\s+)?{_YEAR_RX}|"
        rf"(?<![0-9۰-۹٠-٩.,/٫٬])(?:[1۱][0-9۰-۹]|[2۲][0۰])[0-9۰-۹]{{2}}s?(?![0-9۰-۹٠-٩]|[.,/٫٬][0-9۰-۹])|"
        rf"(?:{_D}+(?:st|nd|rd|th)?\s+(?:century|centuries))|(?:قرن\s+{_D}+))",
        re.IGNORECASE),
    "number": re.compile(
        rf"(?<![\d:]){_D}{{1,2}}:{_D}{{2}}(?![\d:])|"  # a clock's time or a duration ("3:08", "4:51 left")
        rf"{_BOUND}(?:[$€£¥]\s?)?{_NUM}(?:\s*(?:{_UNITS})(?!\w))*|"
        rf"{_BOUND}\b(?:{_NUMBER_WORDS})\b(?:{_NUMBER_JOIN}(?:{_NUMBER_WORDS})\b)*(?:\s+(?:{_UNITS})(?!\w))*|"
        rf"\b(?:{_ORDINALS})\b|{_D}+(?:st|nd|rd|th)\b",
        re.IGNORECASE),
    # a capitalized sequence not at a sentence's start, or at the start when two words or more long and not opened
    # by a function word ("Aruuke Uran Kyzy, …" is a byline; "The Diplomat reports" still yields "Diplomat")
    "name": re.compile(r"(?:(?<![.!?]\s)(?<!^)\b|^(?!(?:The|A|An|In|On|At|For|But|And|Or|This|That|These|Those|It|"
                       r"Its|He|She|They|We|His|Her|Their|However|According|Since|While|After|Before|When|If|As|By|"
                       r"From|With|To|Of|Some|Many|Most|Other)\b)(?=[A-Z][\w'’\-]*\s+[A-Z]))"
                       r"[A-Z][\w'’\-]*(?:\s+(?:of|the|de|von|van|al|bin|and|&)?\s*[A-Z][\w'’\-]*)*"),
    "reason": re.compile(r"\b(?:because|due to|owing to|as a result of|since|so that|in order to|thanks to)\b.*|"
                         r"(?:زیرا|چون|چرا\s*که|به\s*دلیل|به\s*علت|به\s*خاطر|از\s*آنجا\s*که|تا\s*)\S.*",
                         re.IGNORECASE),
}
_SPANS["person"] = _SPANS["name"]


def asked_first(question: str, lang: str) -> bool:
    """Is the type's wording the question's first question word? "What has Tajikistan had to give China when it
    could not repay?" asks what, not when: its "when" opens a clause. Persian puts its question word anywhere: yes."""
    if lang == "fa":  # a bare colloquial "کی" is "who" as often as "when": the type is a guess
        return not (expected_type(question, lang) == "date" and _FA_WHEN_OR_WHO.search(question)
                    and not _FA_WHEN.search(question))
    found = [m for _, rx in _EN if (m := rx.search(question))]
    first = _WH.search(question)
    if not found or first is None:
        return bool(found)
    m = min(found, key=lambda m: m.start())
    return m.start() <= first.start() < m.end()


_FA_WHEN_OR_WHO = re.compile(r"(?<!\S)کی(?!\S)")
_FA_WHEN = re.compile(dict(_FA_TYPE)["date"].replace(r"\bکی\b|", ""))
_WH = re.compile(r"\b(?:what|which|who|whom|whose|when|where|why|how)\b", re.IGNORECASE)


def expected_type(question: str, lang: str) -> str | None:
    """The type whose wording comes first ("How much time remained … when …" asks for a number); at the same
    place the first listed wins ("how many years" is a number)."""
    found = [(m.start(), i, t) for i, (t, rx) in enumerate(_FA if lang == "fa" else _EN + _FA)
             if (m := rx.search(question))]
    return min(found)[2] if found else None


_COUNTED = re.compile(r"\bhow (?:many|much)\s+(?:\d+\s+)?([^\W\d_]+(?:\s+[^\W\d_]+){0,3})|چند\s+(?:تا\s+)?(\S+)",
                      re.IGNORECASE)
_HINTS = [
    (re.compile(r"percent|percentage|proportion|share of|درصد", re.IGNORECASE), ("%", "percent", "درصد", "٪")),
    (re.compile(r"\b(?:cost|costs|worth|price|paid|pay|spend|spent|dollars?|value)\b|هزینه|ارزش|دلار|قیمت|بها",
                re.IGNORECASE), ("$", "dollar", "million", "billion", "دلار", "یورو", "میلیون", "میلیارد")),
    (re.compile(r"\bhow old\b|\bage\b|سن", re.IGNORECASE), ("year", "سال", "age")),
]


# A unit of measure the question names ("How long, in kilometres, …", "how many tonnes"): (what it measures,
# the unit in the question, the unit's spellings in the answer, English and Persian). A figure in another unit
# (a pipeline's 423.2 billion cubic metres for its length) does not answer it.
_UNITS = [
    ("length", re.compile(r"\b(?:kilomet(?:re|er)s?|km|miles?)\b|کیلومتر|مایل", re.IGNORECASE),
     re.compile(r"kilomet|\bkm\b|\bmiles?\b|کیلومتر|مایل", re.IGNORECASE)),
    ("area", re.compile(r"\b(?:hectares?|acres?|square)\b|هکتار|مربع", re.IGNORECASE),
     re.compile(r"hectare|acre|square|km2|km²|هکتار|مربع", re.IGNORECASE)),
    ("volume", re.compile(r"\b(?:cubic|lit(?:re|er)s?|barrels?|bcm)\b|مکعب|لیتر|بشکه", re.IGNORECASE),
     re.compile(r"cubic|lit(?:re|er)|barrel|\bbcm\b|مکعب|لیتر|بشکه", re.IGNORECASE)),
    ("weight", re.compile(r"\b(?:tonnes?|tons?|kilograms?|kg)\b|کیلوگرم|\bتن\b", re.IGNORECASE),
     re.compile(r"\bton|kilogram|\bkg\b|کیلوگرم|(?<![\u0600-\u06ff])تن(?![\u0600-\u06ff])", re.IGNORECASE)),
]


def asked_unit(question: str) -> tuple[str, re.Pattern] | None:
    """The unit of measure the question names, as (the unit as the question spells it, its pattern in an
    answer)."""
    for _, asked, answer in _UNITS:
        m = asked.search(question)
        if m:
            return m.group(), answer
    return None


def counted(question: str) -> tuple[str, ...]:
    """The counted noun of "how many points …" / "چند کشاورز …" (lower case; up to two words)."""
    m = _COUNTED.search(question)
    if not m:
        return ()
    words = (m.group(1) or m.group(2) or "").split()
    if words and words[0].lower() in _AUXILIARIES:  # "How much did Tajikistan pay": nothing is counted
        return ()
    nouns = []
    for w in words:
        if w.lower() in _AUXILIARIES or w.lower() in ("and", "or"):  # the noun phrase ends at its verb ("how many
            break  # … players were selected") or at a second noun phrase
        if w.lower() not in _NOT_NOUNS:
            nouns.append(w.lower().strip("؟?"))
    # its head, the last noun: "how many Panthers defense players" counts players, not the Panthers' defense,
    # "how many 2015 season interceptions" counts interceptions
    return tuple(nouns[-1:])


def unit_hints(question: str) -> tuple[str, ...]:
    """Words the answer's number should come with: the counted noun ("how many points" -> points), or the unit a
    question implies (a percentage, a sum of money, an age)."""
    hints = list(counted(question))
    for rx, words in _HINTS:
        if rx.search(question):
            hints += words
    return tuple(dict.fromkeys(hints))


_AUXILIARIES = {"did", "do", "does", "was", "were", "is", "are", "has", "have", "had", "will", "would", "can",
                "could"}
_NOT_NOUNS = {"did", "do", "does", "was", "were", "is", "are", "has", "have", "had", "of", "the", "a", "an", "in",
              "more", "less", "total", "money", "time", "long", "will", "would", "can", "could"}


def requested_roles(question: str) -> frozenset[str]:
    return frozenset(r for r, rx in _ROLES if rx.search(question))


_DOC_WORDS = r"(?:sources?|papers?|text|documents?|articles?|study|version|side|evidence|passages?)"
_EVIDENCE_LANGS = (
    ("fa", re.compile(rf"\b(?:in|from)\s+(?:the\s+)?(?:persian|farsi)(?:\s+{_DOC_WORDS})?\b"
                      rf"|\b(?:persian|farsi)\s+{_DOC_WORDS}\b"
                      r"|(?:منابع|متن|مقاله|نوشتار|سند|اسناد)\s*(?:ی\s*)?فارسی|به\s+فارسی", re.I)),
    ("en", re.compile(rf"\b(?:in|from)\s+(?:the\s+)?english(?:\s+{_DOC_WORDS})?\b"
                      rf"|\benglish\s+{_DOC_WORDS}\b"
                      r"|(?:منابع|متن|مقاله|نوشتار|سند|اسناد)\s*(?:ی\s*)?انگلیسی|به\s+انگلیسی", re.I)),
)


def requested_lang(question: str) -> str | None:
    """The language of evidence the question asks for ("And in Persian sources?" -> "fa"); None when it names
    none, or both."""
    found = {lang for lang, rx in _EVIDENCE_LANGS if rx.search(question)}
    return found.pop() if len(found) == 1 else None


def without_lang_request(question: str) -> str:
    """The question without the words that ask for a language of evidence (they name no topic)."""
    for _, rx in _EVIDENCE_LANGS:
        question = rx.sub(" ", question)
    return question


def typed_spans(text: str, kind: str) -> list[tuple[int, int]]:
    """(start, end) of the spans of ``text`` that are of ``kind`` (relative offsets), in text order."""
    rx = _SPANS.get(kind)
    if rx is None:
        return []
    out = []
    for m in rx.finditer(text):
        s, e = m.span()
        while e > s and text[e - 1] in " ,.;:،؛)(-–":
            e -= 1
        if e > s and (kind != "number" or _has_digit_or_word(text[s:e])):
            out.append((s, e))
    if kind == "number":  # a year is a date, not a count: "in 2017" answers when, not how many
        dates = typed_spans(text, "date")
        out = [sp for sp in out if not any(d[0] <= sp[0] and sp[1] <= d[1] for d in dates)]
    return out


def carries(text: str, kind: str | None) -> bool:
    return kind is None or bool(typed_spans(text, kind))


def _has_digit_or_word(s: str) -> bool:
    return any(ch.isdigit() for ch in s) or len(s) > 2
