"""Voice activity: which 100 Hz frames are speech (adaptive energy threshold, voicing check, hangover), and the
run helpers on boolean frame masks that the phrase cutting uses."""
from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter1d, uniform_filter1d

from . import features as F

ABS_SILENCE_DB = -75.0      # frames quieter than this (A-weighted dBFS) are never speech
MIN_RANGE_DB = 3.0          # speech must rise this far above the noise floor
PHRASE_GAP_S = 0.30         # pauses shorter than this stay inside a phrase (hangover)
SPEECH_PAD_S = 0.08         # activity starts slightly before / ends after the energy
MIN_SPEECH_S = 0.10
MIN_VOICED_SHARE = 0.15     # a speech region needs this share of voiced frames
LOUDNESS_REF_PCT = 95.0     # speech level = this percentile of speech-frame level


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) index pairs of the True runs of a (K,) bool array."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    d = np.flatnonzero(np.diff(m.astype(np.int8)))
    return list(zip(d[::2].tolist(), d[1::2].tolist()))


def close_gaps(mask: np.ndarray, max_gap: int) -> np.ndarray:
    """Fill False runs shorter than max_gap that lie between True runs. (K,) → (K,)."""
    out = np.asarray(mask, bool).copy()
    r = runs(out)
    for (_, e), (s, _) in zip(r[:-1], r[1:]):
        if s - e < max_gap:
            out[e:s] = True
    return out


def voice_activity(level_db: np.ndarray, voiced: np.ndarray, rate: int = F.FEATURE_RATE
                   ) -> tuple[np.ndarray, float, float]:
    """Energy VAD with adaptive threshold, voicing check and hangover.

    level_db (K,), voiced (K,) bool → speech (K,) bool, noise floor dB, speech level dB.
    """
    audible = level_db > ABS_SILENCE_DB
    if not audible.any():
        return np.zeros(len(level_db), bool), float(level_db.min()), float(level_db.max())
    floor = float(np.percentile(level_db, 10))
    level = float(np.percentile(level_db[audible], LOUDNESS_REF_PCT))
    span = level - floor
    thr = floor + max(0.3 * span, MIN_RANGE_DB)
    active = audible & (uniform_filter1d(level_db, 3, mode="nearest") > thr)
    active = close_gaps(active, int(PHRASE_GAP_S * rate))
    keep = np.zeros_like(active)
    for s, e in runs(active):
        v = voiced[s:e]
        if e - s >= MIN_SPEECH_S * rate and v.mean() >= MIN_VOICED_SHARE and v.sum() >= 3:
            keep[s:e] = True
    pad = int(SPEECH_PAD_S * rate)
    keep = maximum_filter1d(keep.astype(np.uint8), 2 * pad + 1).astype(bool) if keep.any() else keep
    return keep, floor, level
