"""Anchoring transcript words on recognised words (alignment.match_words) when the transcript repeats itself."""
from __future__ import annotations

import numpy as np

from backend.audio.alignment import match_words


def test_a_repeated_passage_is_matched_in_place_not_to_its_other_saying():
    """Two sayings of the same 3 sentences among others, with recognition errors: one global longest-match
    paired the second saying with the first and called everything between unspoken (5 min of joined LJSpeech)."""
    rng = np.random.default_rng(3)
    vocabulary = [f"w{k}" for k in range(300)]
    sentences = [list(rng.choice(vocabulary, 12)) for _ in range(8)]
    order = [0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3]          # sentences 0-3 said twice
    words = [w for k in order for w in sentences[k]]
    heard = []
    for k, w in enumerate(words):     # all before the second saying poorly recognised (30 % misheard)
        r = rng.random()
        if k < 96 and r < 0.05:
            continue
        heard.append("x" + w if k < 96 and r < 0.35 else w)
    at, unspoken, untranscribed = match_words(words, heard)
    assert unspoken == [] and untranscribed == []
    anchored = [j for j in at if j is not None]
    assert anchored == sorted(anchored) and len(anchored) >= 0.9 * len(words)
    # every word sits within a few places of where it was heard
    expected = np.cumsum([0] + [1] * (len(words) - 1)) * len(heard) / len(words)
    assert max(abs(j - e) for j, e in zip(at, expected) if j is not None) < 12


def test_a_sentence_missing_from_the_transcript_is_still_found():
    rng = np.random.default_rng(4)
    sentences = [list(rng.choice([f"w{k}" for k in range(300)], 12)) for _ in range(6)]
    heard = [w for s in sentences for w in s]
    words = [w for k, s in enumerate(sentences) if k != 2 for w in s]
    _, unspoken, untranscribed = match_words(words, heard)
    assert unspoken == [] and untranscribed == [(24, 36)]
