"""Speech analysis: 100 Hz acoustic tracks → voice activity, prosody events, phones → SpeechAnalysis."""
from __future__ import annotations

import bisect

import numpy as np
from scipy.ndimage import maximum_filter1d, median_filter, minimum_filter1d, uniform_filter1d

from ..analysis import Phone, SpeechAnalysis
from ..progress import JobControl
from ..vocabulary.phonemes import VOWELS
from ..vocabulary.rates import MOTION_FPS as FPS
from . import features as F
from .io import LoadedAudio
from .phones import PhoneResult, phones_for
from .voice_activity import ABS_SILENCE_DB, LOUDNESS_REF_PCT, close_gaps, runs, voice_activity

MAX_APERIODICITY = 0.25     # YIN aperiodicity below this counts as voiced
STRESS_MIN_GAP_S = 0.18
ACCENT_MIN_GAP_S = 0.25


def loudness_track(level_db: np.ndarray, speech_level_db: float) -> np.ndarray:
    """Perceptual loudness relative to the clip's speech level: 2^(ΔdB/10) (sone ratio), 0..1.

    Loudness doubles every 10 dB (Stevens); the clip's speech level maps to 1, so the track
    does not depend on recording gain. (K,) → (K,) float32.
    """
    rel = np.clip((level_db - speech_level_db) / 10.0, -10, 0)
    out = np.exp2(rel) * (level_db > ABS_SILENCE_DB)
    # keep true silence at 0: 40 dB below speech is inaudible next to it
    out = np.clip((out - 2.0 ** -4) / (1 - 2.0 ** -4), 0, 1)
    return out.astype(np.float32)


def local_peaks(x: np.ndarray, radius: int, mask: np.ndarray | None = None) -> np.ndarray:
    """Indices where x is the maximum of its ±radius neighbourhood (first of ties). (K,) → (P,)."""
    if len(x) == 0:
        return np.zeros(0, np.int64)
    mx = maximum_filter1d(x, 2 * radius + 1, mode="nearest")
    is_peak = (x >= mx) & np.r_[True, x[1:] != x[:-1]]
    if mask is not None:
        is_peak &= mask
    return np.flatnonzero(is_peak)


def thin_peaks(idx: np.ndarray, strength: np.ndarray, min_gap: int) -> np.ndarray:
    """Greedy: keep strongest peaks at least min_gap apart; returns sorted kept positions in idx."""
    order = np.argsort(-np.asarray(strength), kind="stable")
    taken: list[int] = []
    positions: list[int] = []          # sorted positions of the taken peaks
    for i in order:
        pos = int(idx[i])
        j = bisect.bisect_left(positions, pos)
        if (j > 0 and pos - positions[j - 1] < min_gap) or (j < len(positions) and positions[j] - pos < min_gap):
            continue
        positions.insert(j, pos)
        taken.append(int(i))
    return np.array(sorted(taken), np.int64)


def onset_events(flux: np.ndarray, speech: np.ndarray, rate: int = F.FEATURE_RATE
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Onset envelope 0..1 and onset times from spectral flux. (K,) → (K,) float32, (N,) s."""
    sm = uniform_filter1d(flux.astype(np.float64), 3, mode="nearest")
    near_speech = maximum_filter1d(speech.astype(np.uint8), int(0.1 * rate) * 2 + 1).astype(bool)
    ref = np.percentile(sm[near_speech], 98) if near_speech.any() else 1.0
    env = np.clip(sm / max(ref, 1e-6), 0, 1) * near_speech
    base = median_filter(env, int(0.5 * rate) | 1, mode="nearest")
    peaks = local_peaks(env, int(0.05 * rate), near_speech & (env > base + 0.15) & (env > 0.2))
    return env.astype(np.float32), peaks / rate


def semitones(f0: np.ndarray, ref: float) -> np.ndarray:
    return np.where(f0 > 0, 12.0 * np.log2(np.maximum(f0, 1e-6) / ref), np.nan)


def pitch_accent_events(f0: np.ndarray, voiced: np.ndarray, loud: np.ndarray,
                        rate: int = F.FEATURE_RATE) -> tuple[np.ndarray, np.ndarray]:
    """Pitch accents: local f0 peaks that rise above their surroundings and the speaker's range.

    f0 (K,) Hz, voiced (K,), loud (K,) 0..1 → times (A,) s, strength (A,) 0..1.
    """
    if voiced.sum() < 10:
        return np.zeros(0), np.zeros(0)
    ref = float(np.median(f0[voiced]))
    st = semitones(np.where(voiced, f0, 0), ref)
    lo, hi = np.nanpercentile(st, 10), np.nanpercentile(st, 90)
    filled = np.where(voiced, st, -1e3)
    filled = median_filter(filled, 5, mode="nearest")
    cand = local_peaks(filled, int(0.15 * rate), voiced & (filled > -100))
    if len(cand) == 0:
        return np.zeros(0), np.zeros(0)
    back = int(0.3 * rate)
    low_before = minimum_filter1d(np.where(voiced, st, 1e3), back, origin=(back - 1) // 2, mode="nearest")
    rise = filled[cand] - np.minimum(low_before[cand], filled[cand])
    height = (filled[cand] - lo) / max(hi - lo, 1.0)
    strength = np.clip(0.5 * rise / 4.0 + 0.5 * height, 0, 1) * np.clip(loud[cand] * 1.5, 0, 1)
    ok = (rise >= 1.0) & (height >= 0.4) & (strength >= 0.25)
    cand, strength = cand[ok], strength[ok]
    kept = thin_peaks(cand, strength, int(ACCENT_MIN_GAP_S * rate))
    return cand[kept] / rate, strength[kept].astype(np.float64)


def zscore(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float64)
    sd = x.std()
    return (x - x.mean()) / sd if sd > 1e-9 else np.zeros_like(x)


def stresses_from_phones(phones: list[Phone], loud_db: np.ndarray, f0: np.ndarray, voiced: np.ndarray,
                         rate: int = F.FEATURE_RATE) -> tuple[np.ndarray, np.ndarray]:
    """Stressed vowel nuclei: prominence = z(loudness) + z(f0) + z(log duration) (+ lexical stress).

    Returns times (S,) s at each chosen vowel's loudest frame, strength (S,) 0..1.
    """
    vow = [p for p in phones if p.label in VOWELS and p.end > p.start]
    if not vow:
        return np.zeros(0), np.zeros(0)
    ref = float(np.median(f0[voiced])) if voiced.any() else 100.0
    st = semitones(np.where(voiced, f0, 0), ref)
    k = len(loud_db)
    L, P, D, T, lex = [], [], [], [], []
    for p in vow:
        a = min(int(p.start * rate), k - 1)
        b = max(min(int(np.ceil(p.end * rate)), k), a + 1)
        seg = loud_db[a:b]
        L.append(seg.max())
        s = st[a:b]
        P.append(np.nanmean(s) if np.isfinite(s).any() else np.nan)
        D.append(np.log(p.end - p.start))
        T.append((a + int(np.argmax(seg))) / rate)
        lex.append(1.0 if p.stress == 1 else (0.3 if p.stress == 2 else (0.0 if p.stress == 0 else 0.5)))
    P = np.array(P)
    P = np.where(np.isfinite(P), P, np.nanmean(P) if np.isfinite(P).any() else 0.0)
    prom = zscore(L) + 0.7 * zscore(P) + 0.7 * zscore(D) + 1.0 * (np.array(lex) - 0.5)
    chosen = np.flatnonzero(prom > np.mean(prom) + 0.2 * np.std(prom))
    if len(chosen) == 0:
        chosen = np.array([int(np.argmax(prom))])
    span = max(prom.max() - prom.min(), 1e-6)
    strength = np.clip((prom - prom.min()) / span, 0.05, 1)
    times = np.array(T)[chosen]
    kept = thin_peaks(np.round(times * rate).astype(np.int64), strength[chosen], int(STRESS_MIN_GAP_S * rate))
    return times[kept], strength[chosen][kept]


def stresses_from_energy(nucleus_db: np.ndarray, f0: np.ndarray, voiced: np.ndarray, speech: np.ndarray,
                         rate: int = F.FEATURE_RATE) -> tuple[np.ndarray, np.ndarray]:
    """Syllable nuclei as peaks of the vowel-band energy, scored by loudness, f0 and spacing.

    (K,) tracks → times (S,) s, strength (S,) 0..1 of the prominent nuclei.
    """
    env = uniform_filter1d(nucleus_db.astype(np.float64), 5, mode="nearest")
    peaks = local_peaks(env, int(0.06 * rate), speech & voiced)
    if len(peaks) == 0:
        return np.zeros(0), np.zeros(0)
    # a nucleus needs a dip of ≥ 2 dB against the valley toward its neighbours
    valley = minimum_filter1d(env, int(0.2 * rate) | 1, mode="nearest")
    peaks = peaks[env[peaks] - valley[peaks] >= 2.0]
    if len(peaks) == 0:
        return np.zeros(0), np.zeros(0)
    ref = float(np.median(f0[voiced])) if voiced.any() else 100.0
    st = semitones(np.where(voiced, f0, 0), ref)
    P = np.array([np.nanmean(st[max(p - 3, 0):p + 4]) if np.isfinite(st[max(p - 3, 0):p + 4]).any() else np.nan
                  for p in peaks])
    P = np.where(np.isfinite(P), P, np.nanmean(P) if np.isfinite(P).any() else 0.0)
    spacing = np.diff(np.r_[peaks[0] - 20, peaks, peaks[-1] + 20]).astype(np.float64)
    dur = np.log(np.minimum(spacing[:-1], spacing[1:]) + 1)
    prom = zscore(env[peaks]) + 0.7 * zscore(P) + 0.5 * zscore(dur)
    chosen = np.flatnonzero(prom > np.mean(prom) + 0.2 * np.std(prom))
    if len(chosen) == 0:
        chosen = np.array([int(np.argmax(prom))])
    span = max(prom.max() - prom.min(), 1e-6)
    strength = np.clip((prom - prom.min()) / span, 0.05, 1)[chosen]
    kept = thin_peaks(peaks[chosen], strength, int(STRESS_MIN_GAP_S * rate))
    return peaks[chosen][kept] / rate, strength[kept]


def speech_segments(speech: np.ndarray, rate: int, duration: float) -> list[tuple[float, float]]:
    return [(s / rate, min(e / rate, duration)) for s, e in runs(speech)]


def analyze_speech(audio: LoadedAudio, transcript: str | None = None, language: str = "auto",
                   control: JobControl | None = None, recognizer: str = "words") -> SpeechAnalysis:
    """Everything the engines need from one recording (see backend/analysis.py for the contract).

    language: 'en' (English phones), 'auto' (recognise, drop phones if unconvincing), 'other'
    (acoustic mouth only). A transcript forces alignment unless language is 'other'.
    recognizer (no transcript): 'words' or 'phones' (faster, less exact lips), see audio/recognition.py.
    """
    control = control or JobControl()
    x = audio.samples
    duration = audio.duration
    n_frames = max(1, int(round(duration * FPS)))
    warnings: list[str] = []

    ff = F.compute_frame_features(x, control.sub(0.0, 0.3))
    rate = F.FEATURE_RATE
    voiced_raw = (ff.aperiodicity < MAX_APERIODICITY) & (ff.f0 > 0) & (ff.level_db > ABS_SILENCE_DB)
    speech, floor_db, level_db = voice_activity(ff.level_db, voiced_raw, rate)
    # voicing also needs to stand out of the background
    voiced = voiced_raw & speech & (ff.level_db > floor_db + 0.15 * (level_db - floor_db))
    voiced = close_gaps(voiced, 3)
    for s, e in runs(voiced):          # isolated blips are not voicing
        if e - s < 3:
            voiced[s:e] = False
    f0 = np.where(voiced, median_filter(np.where(voiced, ff.f0, 0), 5, mode="nearest"), 0).astype(np.float32)
    voiced &= f0 > 0

    if speech.any():
        ref_db = float(np.percentile(ff.level_db[speech], LOUDNESS_REF_PCT))
    else:
        ref_db = level_db
        warnings.append("no speech detected: the character will stay mostly idle")
    loud100 = loudness_track(ff.level_db, ref_db) if speech.any() else np.zeros_like(ff.level_db)
    onset100, onsets = onset_events(ff.flux, speech, rate)
    accents, accent_strength = pitch_accent_events(f0, voiced, loud100, rate)
    control.report(0.35, "prosody")

    # phones
    if speech.any():
        result = phones_for(x, transcript, language, speech, rate, control.sub(0.35, 0.95), recognizer)
    else:
        result = PhoneResult([], "acoustic", 0.0, [], "other" if language == "other" else "en")
    warnings += result.warnings

    if result.phones:
        stresses, stress_strength = stresses_from_phones(result.phones, ff.level_db, f0, voiced, rate)
    else:
        stresses, stress_strength = stresses_from_energy(ff.nucleus_db, f0, voiced, speech, rate)
    control.report(0.96, "formants")

    t30 = np.arange(n_frames) / FPS
    speech30 = F.to_motion_rate(speech.astype(np.float32), n_frames, smooth=False) >= 0.5
    voiced30 = (F.to_motion_rate(voiced.astype(np.float32), n_frames) >= 0.5) & speech30
    f0_filled = f0.astype(np.float64)
    if voiced.any():
        vi = np.flatnonzero(voiced)
        f0_filled = np.interp(np.arange(len(f0)), vi, f0[vi])
    f0_30 = np.where(voiced30, F.to_motion_rate(f0_filled, n_frames), 0).astype(np.float32)
    formants = np.zeros((n_frames, 2), np.float32)
    if voiced30.any():
        formants[voiced30] = F.formants_at(x, t30[voiced30], control)
    fric = F.to_motion_rate(ff.hf_share * speech * (~voiced | (ff.aperiodicity > 0.4)), n_frames)
    control.report(1.0, "analysis done")
    return SpeechAnalysis(
        duration=duration,
        n_frames=n_frames,
        loudness=np.clip(F.to_motion_rate(loud100, n_frames), 0, 1).astype(np.float32),
        speech=speech30,
        voiced=voiced30,
        f0=f0_30,
        onset_strength=np.clip(F.to_motion_rate(onset100, n_frames), 0, 1).astype(np.float32),
        formants=formants,
        fricative=np.clip(fric, 0, 1).astype(np.float32),
        onsets=np.asarray(onsets, np.float64),
        pitch_accents=np.asarray(accents, np.float64),
        accent_strength=np.asarray(accent_strength, np.float64),
        stresses=np.asarray(stresses, np.float64),
        stress_strength=np.asarray(stress_strength, np.float64),
        segments=speech_segments(speech, rate, duration),
        phones=result.phones,
        phone_source=result.source,
        phone_confidence=float(result.confidence),
        language=result.language,
        warnings=warnings,
        samples=audio.samples,
        phone_spans=result.spans,
    )
