"""Rule-based ARPAbet pronunciation for words missing from the pronunciation dictionary."""
from __future__ import annotations

import re

_GRAPHEMES = [  # longest first; a small, readable rule set for unknown words
    ("tion", "SH AH N"), ("sion", "ZH AH N"), ("ough", "AO"), ("augh", "AO"), ("eigh", "EY"),
    ("igh", "AY"), ("tch", "CH"), ("dge", "JH"), ("sch", "S K"),
    ("ch", "CH"), ("sh", "SH"), ("th", "TH"), ("ph", "F"), ("wh", "W"), ("ck", "K"), ("ng", "NG"),
    ("qu", "K W"), ("gh", "G"), ("kn", "N"), ("wr", "R"),
    ("ee", "IY"), ("ea", "IY"), ("ie", "IY"), ("oo", "UW"), ("ou", "AW"), ("ow", "OW"), ("oa", "OW"),
    ("oi", "OY"), ("oy", "OY"), ("ai", "EY"), ("ay", "EY"), ("au", "AO"), ("aw", "AO"), ("ei", "EY"),
    ("ey", "IY"), ("ue", "UW"), ("ew", "UW"), ("ar", "AA R"), ("er", "ER"), ("ir", "ER"), ("ur", "ER"),
    ("or", "AO R"),
    ("a", "AE"), ("b", "B"), ("c", "K"), ("d", "D"), ("e", "EH"), ("f", "F"), ("g", "G"), ("h", "HH"),
    ("i", "IH"), ("j", "JH"), ("k", "K"), ("l", "L"), ("m", "M"), ("n", "N"), ("o", "AA"), ("p", "P"),
    ("q", "K"), ("r", "R"), ("s", "S"), ("t", "T"), ("u", "AH"), ("v", "V"), ("w", "W"), ("x", "K S"),
    ("y", "IY"), ("z", "Z"),
]


def letter_to_sound(word: str) -> list[str]:
    """Rule-based ARPAbet guess for a word missing from the dictionary ('zorblat' → Z AO R B L AE T)."""
    w = re.sub(r"[^a-z]", "", word.lower())
    w = re.sub(r"(.)\1", r"\1", w)                       # doubled letters sound once
    if len(w) > 2 and w.endswith("e") and w[-2] not in "aeiou":
        w = w[:-1]                                       # silent final e
    out: list[str] = []
    i = 0
    while i < len(w):
        if w[i] == "c" and i + 1 < len(w) and w[i + 1] in "eiy":
            out.append("S")
            i += 1
            continue
        if w[i] == "y" and i == 0:
            out.append("Y")
            i += 1
            continue
        for g, ph in _GRAPHEMES:
            if w.startswith(g, i):
                out += ph.split()
                i += len(g)
                break
    return out or ["AH"]
