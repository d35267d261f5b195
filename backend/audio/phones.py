"""The phone source of a clip: forced alignment of the transcript, word or phone recognition, or none (the
acoustic mouth), by language and what the user gave. The parts: transcript_text.py (written → spoken words),
letter_to_sound.py, decoders.py (pocketsphinx), forced_alignment.py (one piece), alignment.py (any length),
recognition.py (no transcript), phone_timing.py (the result).
"""
from __future__ import annotations

import numpy as np

from ..progress import JobControl
from ..vocabulary.choices import RECOGNIZERS
from .alignment import align_long
from .decoders import SR, decoder_lock
from .phone_timing import PhoneResult, tidy_phones
from .recognition import ENGLISH_MAX_SCORE, recognize_phones
from .transcript_text import normalize_transcript

MIN_CONFIDENCE = 0.45         # below this, 'auto' drops recognised phones


def phones_for(x: np.ndarray, transcript: str | None, language: str, speech: np.ndarray, rate: int,
               control: JobControl, recognizer: str = "words") -> PhoneResult:
    """Choose and run the phone source for a clip (see analyze_speech for the language rules)."""
    if recognizer not in RECOGNIZERS:
        raise ValueError(f"unknown recognizer {recognizer!r}")
    duration = len(x) / SR
    if language == "other":
        return PhoneResult([], "acoustic", 0.0, [], "other")
    warnings: list[str] = []
    check_language = language == "auto"
    if transcript is not None and transcript.strip():
        words = normalize_transcript(transcript)
        if not words:
            warnings.append("the transcript has no words after normalisation; the lips follow recognised words")
        else:
            with decoder_lock:
                result = align_long(x, words, speech, rate, control, check_language)
            if result is not None:
                result.phones = tidy_phones(result.phones, duration)
                return result
            warnings.append("the speech does not sound like English: the transcript was not used, the mouth "
                            "follows the sound (set Language to English to force the alignment)")
            return PhoneResult([], "acoustic", 0.0, warnings, "other")
    with decoder_lock:
        phones, confidence, english = recognize_phones(x, speech, rate, control, recognizer,
                                                       check_language and recognizer == "words")
    if english is not None and english > ENGLISH_MAX_SCORE:
        warnings.append("the speech does not sound like English (word-search score "
                        f"{english:.4f} > {ENGLISH_MAX_SCORE}): no English words were used, the mouth follows "
                        "the sound; set Language to English to force word recognition")
        return PhoneResult([], "acoustic", 0.0, warnings, "other")
    phones = tidy_phones(phones, duration)
    if language == "auto" and confidence < MIN_CONFIDENCE:
        warnings.append(f"low phone-recognition confidence ({confidence:.2f}), using acoustic mouth")
        return PhoneResult([], "acoustic", confidence, warnings, "other")
    method = "word recognition" if recognizer == "words" else "phone recognition"
    return PhoneResult(phones, "recognized", confidence, warnings, "en", [(0.0, duration, method)])
