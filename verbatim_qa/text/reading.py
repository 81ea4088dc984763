"""A deterministic reading of a short Persian/Arabic-script span for a reader of another script.

Digits to ASCII (Persian decimal and thousands separators read as such), units, scales and months from fixed
tables, everything else kept as written: a reading, never a translation, and never an invented word.
"۴۲۳,۲ میلیارد مترمکعب" reads "423.2 billion cubic metres".
"""

from __future__ import annotations

import re

_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_WORDS = {
    "درصد": "%", "٪": "%", "میلیارد": "billion", "میلیون": "million", "هزار": "thousand", "صد": "hundred",
    "تریلیون": "trillion", "دلار": "dollars", "یورو": "euros", "یوان": "yuan", "روبل": "rubles", "ریال": "rials",
    "تومان": "tomans", "مترمکعب": "cubic metres", "متر مکعب": "cubic metres", "کیلومتر": "kilometres",
    "کیلومترمربع": "square kilometres", "کیلومتر مربع": "square kilometres", "متر": "metres", "کیلوگرم": "kilograms",
    "تن": "tonnes", "سال": "years", "ماه": "months", "روز": "days", "ساعت": "hours", "دقیقه": "minutes",
    "نفر": "people", "عضو": "members", "کشور": "countries", "درجه": "degrees", "هکتار": "hectares", "بشکه": "barrels",
    "قرن": "century", "دهه": "decade", "و": "and",
    "ژانویه": "January", "فوریه": "February", "مارس": "March", "آوریل": "April", "مه": "May", "می": "May",
    "ژوئن": "June", "ژوئیه": "July", "جولای": "July", "اوت": "August", "آگوست": "August", "سپتامبر": "September",
    "اکتبر": "October", "نوامبر": "November", "دسامبر": "December",
    "فروردین": "Farvardin", "اردیبهشت": "Ordibehesht", "خرداد": "Khordad", "تیر": "Tir", "مرداد": "Mordad",
    "شهریور": "Shahrivar", "مهر": "Mehr", "آبان": "Aban", "آذر": "Azar", "دی": "Dey", "بهمن": "Bahman",
    "اسفند": "Esfand",
}
# number words, read as digits are: "هشت سال" reads "eight years", not "هشت years"
_NUMBER_WORDS = {
    "یک": "one", "دو": "two", "سه": "three", "چهار": "four", "پنج": "five", "شش": "six", "هفت": "seven",
    "هشت": "eight", "نه": "nine", "ده": "ten", "یازده": "eleven", "دوازده": "twelve", "سیزده": "thirteen",
    "چهارده": "fourteen", "پانزده": "fifteen", "شانزده": "sixteen", "هفده": "seventeen", "هجده": "eighteen",
    "هیجده": "eighteen", "نوزده": "nineteen", "بیست": "twenty", "سی": "thirty", "چهل": "forty", "پنجاه": "fifty",
    "شصت": "sixty", "هفتاد": "seventy", "هشتاد": "eighty", "نود": "ninety", "دویست": "two hundred",
    "سیصد": "three hundred", "چهارصد": "four hundred", "پانصد": "five hundred", "ششصد": "six hundred",
    "هفتصد": "seven hundred", "هشتصد": "eight hundred", "نهصد": "nine hundred", "نیم": "half",
}
_WORDS |= _NUMBER_WORDS
# a figure's bound, which its span holds (qa/answertype.py): "بیش از ۶ میلیون" reads "more than 6 million"
_WORDS |= {"بیش از": "more than", "بیشتر از": "more than", "حدود": "about", "نزدیک به": "nearly",
           "تقریباً": "approximately", "تقریبا": "approximately", "کمتر از": "less than", "دست کم": "at least",
           "بالغ بر": "over", "متر مربع": "square metres", "متر مکعب": "cubic metres"}
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_UNITS_1 = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_COMPOUND = re.compile(rf"\b({'|'.join(_TENS)}) and ({'|'.join(_UNITS_1)})\b")
_PHRASES = sorted((w for w in _WORDS if " " in w), key=len, reverse=True)
_ARABIC_SCRIPT = re.compile(r"[\u0600-\u06FF]")
_NUMBER = re.compile(r"[0-9]+(?:[,.٫٬][0-9]+)*")


def needs_reading(span: str, question_lang: str) -> bool:
    """A span in Arabic script (Persian digits included) for a question that is not in Persian."""
    return question_lang != "fa" and bool(_ARABIC_SCRIPT.search(span))


def reading(span: str) -> str:
    text = " ".join(span.translate(_DIGITS).replace("\u200c", " ").split())
    for phrase in _PHRASES:
        text = text.replace(phrase, phrase.replace(" ", "\x00"))
    out = []
    for word in text.split(" "):
        word = word.replace("\x00", " ")
        bare = word.strip("،؛.,:()«»\"")
        if _NUMBER.fullmatch(bare):
            out.append(_number(bare))
        elif bare in _WORDS:
            out.append(_WORDS[bare])
        else:
            out.append(word)
    text = _COMPOUND.sub(r"\1-\2", " ".join(out))  # "بیست و پنج": "twenty-five", as English writes it
    return re.sub(r"\s+%", "%", text)


def _number(s: str) -> str:
    """Persian separators: '٫' (or a ',' before one or two digits) is the decimal point; '٬' and ',' before three
    digits group thousands."""
    s = s.replace("٫", ".").replace("٬", ",")
    parts = s.split(",")
    if len(parts) == 2 and 1 <= len(parts[1]) <= 2:
        return f"{parts[0]}.{parts[1]}"
    return s
