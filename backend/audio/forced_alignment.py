"""Phone-level forced alignment of a (normalised) transcript to one piece of audio with pocketsphinx.

Long recordings are cut into pieces and anchored by alignment.py, which calls align_words on each piece."""
from __future__ import annotations

import numpy as np

from ..analysis import Phone
from ..progress import JobControl
from .decoders import alignment_phones, decode_whole, shared_decoder, to_pcm16
from .letter_to_sound import letter_to_sound


def add_pronunciations(d, words: list[str]) -> list[str]:
    """Give decoder `d` a guessed pronunciation for each word missing from its dictionary; return the words
    of `words` whose pronunciation is a guess (added now or by an earlier call)."""
    for w in sorted({w for w in words if d.lookup_word(w) is None}):
        d.add_word(w, " ".join(letter_to_sound(w)), True)
        _guessed.add(w)
    return sorted({w for w in words if w in _guessed})


_guessed: set[str] = set()   # words given a letter-to-sound pronunciation in this process (decoders are shared)


def align_transcript(x: np.ndarray, words: list[str], control: JobControl) -> tuple[list[Phone], list[str]]:
    """Phone-level forced alignment of `words` (normalised) to 16 kHz audio x, as one piece.

    Returns (phones, warnings). Raises RuntimeError when pocketsphinx cannot align. Long recordings go
    through backend/audio/alignment.py, which cuts them into chunks and calls align_words on each.
    """
    warnings: list[str] = []
    missing = add_pronunciations(shared_decoder("align"), words)
    add_pronunciations(shared_decoder("align_wide"), words)
    if missing:
        shown = ", ".join(missing[:8]) + (" …" if len(missing) > 8 else "")
        warnings.append(f"transcript words not in dictionary (pronunciation guessed): {shown}")
    phones = align_words(to_pcm16(x), words, 0.0, control)
    if phones is None:
        raise RuntimeError("no alignment found")
    return phones, warnings


def align_words(pcm: bytes, words: list[str], offset: float, control: JobControl) -> list[Phone] | None:
    """Align `words` (all in the decoders' dictionaries) to one chunk: the narrow search, then the wide one.

    Returns phones (times + offset seconds) or None when neither finds a plausible alignment.
    """
    for kind in ("align", "align_wide"):
        d = shared_decoder(kind)
        d.set_align_text(" ".join(words))
        decode_whole(d, pcm, control)
        if d.hyp() is None:
            continue
        try:
            d.set_alignment()
            decode_whole(d, pcm, control)
            alignment = d.get_alignment()
        except RuntimeError:
            continue
        if alignment is None:
            continue
        phones = alignment_phones(alignment, offset)
        if alignment_is_plausible(phones):
            return phones
    return None


def alignment_is_plausible(phones: list[Phone]) -> bool:
    """A transcript that does not match the audio gets stretched: absurdly long phones."""
    real = [p.end - p.start for p in phones if p.label != "SIL"]
    return bool(real) and float(np.mean(real)) <= 0.25 and max(real) <= 1.0
