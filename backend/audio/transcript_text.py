"""A written transcript → the words as spoken: numbers, years, ordinals, money and symbols spelled out in English,
punctuation and casing removed. Pure text; forced alignment (forced_alignment.py) consumes the result."""
from __future__ import annotations

import re

_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen " \
        "fifteen sixteen seventeen eighteen nineteen".split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SYMBOLS = {"&": " and ", "%": " percent ", "+": " plus ", "@": " at ", "=": " equals "}


def number_to_words(n: int) -> list[str]:
    """Cardinal number in English words, 0 ≤ n < 10^12. 1905 → ['one', 'thousand', 'nine', 'hundred', 'five']."""
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        return [_TENS[n // 10]] + ([_ONES[n % 10]] if n % 10 else [])
    if n < 1000:
        return [_ONES[n // 100], "hundred"] + (number_to_words(n % 100) if n % 100 else [])
    for size, name in ((10 ** 9, "billion"), (10 ** 6, "million"), (1000, "thousand")):
        if n >= size:
            return number_to_words(n // size) + [name] + (number_to_words(n % size) if n % size else [])
    raise ValueError(n)


_ORDINALS = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
             "nine": "ninth", "twelve": "twelfth"}


def ordinal_words(n: int) -> list[str]:
    """21 → ['twenty', 'first']."""
    words = number_to_words(n)
    last = words[-1]
    if last in _ORDINALS:
        words[-1] = _ORDINALS[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return words


def year_words(n: int) -> list[str]:
    """How a year is read: 1455 → fourteen fifty five, 1900 → nineteen hundred, 1905 → nineteen oh five,
    2005 → two thousand five, 2024 → twenty twenty four."""
    hi, lo = divmod(n, 100)
    if 2000 <= n < 2010:
        return number_to_words(n)
    if lo == 0:
        return number_to_words(hi) + ["hundred"]
    return number_to_words(hi) + (["oh"] if lo < 10 else []) + number_to_words(lo)


def normalize_transcript(text: str) -> list[str]:
    """Lower-case words as spoken: digits spelled out (years as years, ordinals, decimals, money), punctuation
    removed ("it's" keeps its apostrophe)."""
    t = text.lower()
    t = re.sub(r"\$\s?(\d+)\.(\d\d)\b", r"\1 dollars \2 cents", t)
    t = re.sub(r"\$\s?(\d+(?:,\d{3})*)", r"\1 dollars", t)
    for sym, word in _SYMBOLS.items():
        t = t.replace(sym, word)
    t = re.sub(r"\b\d{1,3}(?:,\d{3})+\b",                # 1,200 is a count, never a year
               lambda m: " " + " ".join(number_to_words(int(m.group(0).replace(",", "")))) + " ", t)
    t = re.sub(r"(\d+)\.(\d+)", lambda m: f"{m.group(1)} point " + " ".join(m.group(2)), t)

    def spell_ordinal(m: re.Match) -> str:
        return " " + " ".join(ordinal_words(int(m.group(1)))) + " " if len(m.group(1)) <= 12 else m.group(1)

    t = re.sub(r"\b(\d+)(?:st|nd|rd|th)\b", spell_ordinal, t)

    def spell(m: re.Match) -> str:
        digits = m.group(0)
        if len(digits) > 12 or (len(digits) > 1 and digits[0] == "0"):
            return " " + " ".join(_ONES[int(d)] for d in digits) + " "
        n = int(digits)
        if len(digits) == 4 and (1100 <= n <= 1999 or 2000 <= n <= 2099):
            return " " + " ".join(year_words(n)) + " "
        return " " + " ".join(number_to_words(n)) + " "

    t = re.sub(r"\d+", spell, t)
    t = re.sub(r"[^a-z']+", " ", t)
    words = [w.strip("'") for w in t.split()]
    return [w for w in words if w]
