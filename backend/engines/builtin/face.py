"""Built-in face engine: speech analysis → ARKit 52 curves at 30 fps, no learned weights.

Mouth: each phone pulls the articulators towards its viseme (visemes.py) with a dominance that
is full over the phone's core and decays as a Gaussian before (anticipation) and after (carry-over)
it; every channel is the dominance-weighted mean of the targets, per articulator group, so a weak
phone (/h/, /t/) takes its neighbours' shape and a strong one (/p/) owns the lips (a Cohen–Massaro
style model). p/b/m additionally seal the lips (lip aperture jawOpen − mouthClose → 0) through a
smooth gate that also takes back the channels parting the lips without the jaw (visemes.py). The jaw opening follows loudness. Without phone timing the mouth follows loudness and
formants instead (F1 → jaw, F2 → spread vs round, frication → narrow).

Eyes and brows: blinks (rate depends on speaking vs pausing, clustered after phrases, occasional
doubles), saccade–fixation gaze (more aversion while speaking), brow raises on pitch accents.
Emotion adds a slowly breathing expression and scales the energy of everything else.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.ndimage import gaussian_filter1d

from ...analysis import Phone, SpeechAnalysis
from ...progress import JobControl
from ...vocabulary.face import ARKIT_INDEX, NUM_ARKIT
from ...vocabulary.visemes import ARTICULATOR_GROUPS, DIPHTHONG_GLIDES, LIP_CLOSING_PHONES, REST_TARGETS, VISEMES
from .mouth_layers import add_expression, arkit_sides, emotion_gain, lip_seal_gate, seal_lips
from .plateaus import render_plateaus, window_entries


@dataclass(frozen=True)
class FaceParams:
    # mouth
    coarticulation_scale: float = 1.0        # multiplies every phone's anticipation/carry-over span
    dominance_core_margin_s: float = 0.04    # a phone pulls at full strength except this close to its edges
    lip_seal_ramp_s: float = 0.06            # lips travel this long into and out of a p/b/m closure
    lip_seal_min_hold_s: float = 0.04        # shortest full lip contact (longer than one frame)
    lip_seal_jaw_pull: float = 0.35          # share of the jaw opening a lip seal takes back
    # jaw opening gain at loudness 0 and 1: on the default character (whose jawOpen key alone opens
    # the mouth) they put the median open vowel of 50 s of LJSpeech at 12.9 mm, p95 24 mm
    # (conversation: 10–20 mm); with the jaw bone added on top the old take had 29 mm
    jaw_gain_quiet: float = 0.7
    jaw_gain_loud: float = 1.5
    loudness_smoothing_s: float = 0.05
    acoustic_smoothing_s: float = 0.045
    # blinks
    blink_rate_speaking: float = 8.0         # per minute
    blink_rate_pausing: float = 17.0
    phrase_end_blink_prob: float = 0.45
    double_blink_prob: float = 0.12
    blink_refractory_s: float = 0.7
    gaze_shift_blink_prob: float = 0.3       # large gaze shifts often come with a blink
    gaze_shift_blink_amplitude: float = 0.25
    blink_close_s: tuple[float, float] = (0.045, 0.065)   # lid closing time range
    blink_open_s: tuple[float, float] = (0.075, 0.11)     # lid opening time range
    # gaze (units: ARKit eyeLook weight, 1 ≈ the eye's full range)
    aversion_prob_speaking: float = 0.55
    aversion_prob_pausing: float = 0.2
    contact_fixation_s: float = 1.3          # median fixation on the listener
    averted_fixation_s: float = 0.75         # median fixation while looking away
    aversion_amplitude: tuple[float, float] = (0.15, 0.45)
    contact_scatter: float = 0.03            # small saccades around the listener's face
    gaze_drift: float = 0.012
    blink_gaze_dip: float = 0.08             # the eyes roll down a little during a blink
    # brows
    brow_accent_gain: float = 0.35
    brow_accent_rise_s: float = 0.12
    brow_accent_fall_s: float = 0.35
    # expression
    mood_variation: float = 0.15             # slow breathing of the emotion's expression
    mood_period_s: float = 1.5


@dataclass(frozen=True)
class EmotionStyle:
    expression: dict[str, float]  # ARKit offsets at intensity 1 (no side = both sides)
    jaw_gain: float               # speech jaw opening multiplier at intensity 1
    gesture_gain: float           # brow-accent and gaze-shift energy at intensity 1
    blink_rate_gain: float
    gaze_pitch: float             # gaze bias, negative = down


EMOTION_STYLES: dict[str, EmotionStyle] = {
    "neutral": EmotionStyle({}, 1.0, 1.0, 1.0, 0.0),
    "happy": EmotionStyle({"mouthSmile": 0.5, "cheekSquint": 0.4, "eyeSquint": 0.15, "mouthDimple": 0.1,
                           "browOuterUp": 0.05}, 1.1, 1.2, 1.0, 0.02),
    "sad": EmotionStyle({"browInnerUp": 0.45, "mouthFrown": 0.35, "mouthShrugLower": 0.15,
                         "browOuterUp": 0.0, "eyeSquint": 0.05}, 0.72, 0.55, 0.85, -0.15),
    "angry": EmotionStyle({"browDown": 0.6, "noseSneer": 0.3, "mouthPress": 0.25, "eyeSquint": 0.25,
                           "jawForward": 0.08, "mouthUpperUp": 0.08}, 1.0, 0.7, 0.8, 0.0),
    "surprised": EmotionStyle({"eyeWide": 0.55, "browInnerUp": 0.5, "browOuterUp": 0.55, "jawOpen": 0.1},
                              1.15, 1.3, 0.6, 0.05),
}

_PHONE_BLOCK = 4000  # phones per coarticulation block between cancellation checks


def generate_face(analysis: SpeechAnalysis, emotion: str, intensity: float, rng: np.random.Generator,
                  control: JobControl | None = None, params: FaceParams = FaceParams()) -> np.ndarray:
    """ARKit curves for one take.

    Returns (analysis.n_frames, 52) float32 in ARKit Apple order, values in 0..1. The mouth depends
    only on the analysis, emotion and intensity; blinks, gaze, brow choices and expression
    breathing come from `rng`.
    """
    if emotion not in EMOTION_STYLES:
        raise ValueError(f"unknown emotion {emotion!r}; expected one of {sorted(EMOTION_STYLES)}")
    intensity = float(np.clip(intensity, 0.0, 1.0))
    style = EMOTION_STYLES[emotion]
    n, fps = int(analysis.n_frames), int(analysis.fps)
    out = np.zeros((n, NUM_ARKIT), dtype=np.float64)
    if n == 0:
        return out.astype(np.float32)
    # one independent stream per feature, so tuning one leaves the others' draws unchanged
    # (Generator.spawn would do the same but needs numpy ≥ 1.25; Blender 4.2 may bring older)
    blink_rng, gaze_rng, brow_rng, mood_rng = (np.random.default_rng(int(s))
                                               for s in rng.integers(0, 2**63 - 1, size=4))
    check = control.check if control is not None else (lambda: None)

    def toward(gain: float) -> float:
        return emotion_gain(gain, intensity)

    # --- mouth ---
    if analysis.phones:
        phones = speech_phones(analysis.phones, analysis.duration)
        out += coarticulated_visemes(phones, n, fps, params, check)
        check()
        loud = gaussian_filter1d(np.asarray(analysis.loudness, np.float64),
                                 params.loudness_smoothing_s * fps, mode="nearest")
        gain = (params.jaw_gain_quiet + (params.jaw_gain_loud - params.jaw_gain_quiet) * np.clip(loud, 0, 1))
        gain *= toward(style.jaw_gain)
        rest_jaw = REST_TARGETS["jawOpen"]
        for name in ("jawOpen", "mouthLowerDownLeft", "mouthLowerDownRight"):
            base = rest_jaw if name == "jawOpen" else 0.0
            col = out[:, ARKIT_INDEX[name]]
            out[:, ARKIT_INDEX[name]] = np.maximum(base + (col - base) * gain, 0.0)
        seal = phone_lip_seal(phones, n, fps, params)
    else:
        out += acoustic_mouth(analysis, params, toward(style.jaw_gain))
        seal = None
    check()

    # --- expression (before the lip seal so a surprised jaw drop still closes on p/b/m) ---
    mood = 1.0 + params.mood_variation * _slow_noise(mood_rng, n, params.mood_period_s * fps)
    add_expression(out, ARKIT_INDEX, style.expression, intensity, mood)
    pucker = out[:, ARKIT_INDEX["mouthPucker"]] + 0.5 * out[:, ARKIT_INDEX["mouthFunnel"]]
    smile_room = 1.0 - np.clip(1.5 * pucker, 0.0, 0.8)  # rounded lips cannot smile at the same time
    for channel in ("mouthSmileLeft", "mouthSmileRight"):
        out[:, ARKIT_INDEX[channel]] *= smile_room

    seal_lips(out, ARKIT_INDEX, seal, params.lip_seal_jaw_pull)  # the lips touch, never pass through
    check()

    # --- eyes ---
    speech = np.asarray(analysis.speech, bool)
    fix_starts, fix_targets = gaze_fixations(speech, fps, gaze_rng, params, toward(style.gesture_gain))
    big_shift = np.linalg.norm(np.diff(fix_targets, axis=0), axis=1) > params.gaze_shift_blink_amplitude
    blink = blink_curve(analysis, blink_rng, params, toward(style.blink_rate_gain), fix_starts[1:][big_shift])
    check()
    for channel in ("eyeBlinkLeft", "eyeBlinkRight"):
        out[:, ARKIT_INDEX[channel]] += blink
    for channel in ("eyeWideLeft", "eyeWideRight"):
        out[:, ARKIT_INDEX[channel]] *= 1.0 - blink  # a wide eye still closes fully to blink
    yaw, pitch = gaze_path(fix_starts, fix_targets, n, fps, gaze_rng, params)
    pitch = pitch + style.gaze_pitch * intensity - params.blink_gaze_dip * blink
    write_gaze(out, yaw, pitch)
    check()

    # --- brows on pitch accents ---
    raise_ = accent_brow_raise(analysis, brow_rng, params, toward(style.gesture_gain))
    out[:, ARKIT_INDEX["browInnerUp"]] += 0.8 * raise_
    out[:, ARKIT_INDEX["browOuterUpLeft"]] += raise_
    out[:, ARKIT_INDEX["browOuterUpRight"]] += raise_

    np.clip(out, 0.0, 1.0, out=out)
    return out.astype(np.float32)


# ----------------------------------------------------------------------------------------------
# mouth from phones

MOUTH_CHANNELS: tuple[str, ...] = tuple(c for group in ARTICULATOR_GROUPS.values() for c in group)
_GROUP_NAMES = tuple(ARTICULATOR_GROUPS)
_CHANNEL_GROUP = np.array([_GROUP_NAMES.index(g) for g, chans in ARTICULATOR_GROUPS.items() for _ in chans])
_VISEME_LABELS = tuple(VISEMES)
_VISEME_ROW = {label: i for i, label in enumerate(_VISEME_LABELS)}


def _viseme_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """targets (V, C), strength (V, G), lead (V,), lag (V,) for the viseme table."""
    col = {c: i for i, c in enumerate(MOUTH_CHANNELS)}
    targets = np.zeros((len(_VISEME_LABELS), len(MOUTH_CHANNELS)))
    strength = np.ones((len(_VISEME_LABELS), len(_GROUP_NAMES)))
    for v, label in enumerate(_VISEME_LABELS):
        vis = VISEMES[label]
        for name, value in vis.targets.items():
            for channel in arkit_sides(name):
                targets[v, col[channel]] = value
        for group, value in vis.strength.items():
            strength[v, _GROUP_NAMES.index(group)] = value
    lead = np.array([VISEMES[k].lead for k in _VISEME_LABELS])
    lag = np.array([VISEMES[k].lag for k in _VISEME_LABELS])
    return targets, strength, lead, lag


_TARGETS, _STRENGTH, _LEAD, _LAG = _viseme_tables()
_REST_ROW = np.array([REST_TARGETS.get(c, 0.0) for c in MOUTH_CHANNELS])


@dataclass(frozen=True)
class PhoneTrack:
    """Phones as arrays, gap-free from 0 to the clip's end, diphthongs split into their glide ends."""
    rows: np.ndarray    # (N,) int, row in the viseme table
    start: np.ndarray   # (N,) float seconds
    end: np.ndarray     # (N,) float seconds
    closing: np.ndarray  # (N,) bool, p/b/m


def speech_phones(phones: list[Phone], duration: float) -> PhoneTrack:
    """Sort, split diphthongs, fill gaps with silence; unknown labels become a weak /h/."""
    labels, starts, ends = [], [], []
    cursor = 0.0
    for ph in sorted(phones, key=lambda p: p.start):
        s, e = max(float(ph.start), cursor), float(ph.end)
        if e <= s:
            continue
        if s - cursor > 1e-3:
            labels.append("SIL"); starts.append(cursor); ends.append(s)
        label = ph.label.upper().rstrip("012")  # tolerate CMUdict stress digits
        if label in DIPHTHONG_GLIDES:
            first, second, share = DIPHTHONG_GLIDES[label]
            mid = s + share * (e - s)
            labels += [first, second]; starts += [s, mid]; ends += [mid, e]
        else:
            # an unknown speech sound takes its neighbours' shape (weak /h/) instead of shutting the mouth
            labels.append(label if label in _VISEME_ROW else "HH"); starts.append(s); ends.append(e)
        cursor = e
    if duration - cursor > 1e-3:
        labels.append("SIL"); starts.append(cursor); ends.append(float(duration))
    rows = np.array([_VISEME_ROW[l] for l in labels], dtype=np.int64)
    closing = np.array([l in LIP_CLOSING_PHONES for l in labels], dtype=bool)
    return PhoneTrack(rows, np.array(starts, float), np.array(ends, float), closing)


def coarticulated_visemes(track: PhoneTrack, n_frames: int, fps: int, params: FaceParams,
                          check=lambda: None) -> np.ndarray:
    """Dominance-blended mouth channels → (n_frames, 52) float64 (other channels zero).

    Phone i pulls group g with D_ig(t) = strength_ig · exp(−(d_i(t)/τ)²), d_i = distance of t from
    the phone's core (its span less a margin at each edge), τ = lead before the core, lag after.
    Channel c of group g = Σ_i D_ig T_ic / Σ_i D_ig.
    """
    t_scale = params.coarticulation_scale
    lead, lag = _LEAD[track.rows] * t_scale, _LAG[track.rows] * t_scale
    margin = np.minimum(params.dominance_core_margin_s, 0.5 * (track.end - track.start))
    core_a, core_b = track.start + margin, track.end - margin
    targets_by_group = _STRENGTH[:, _CHANNEL_GROUP] * _TARGETS  # (V, C) strength of the channel's group × target
    num = np.zeros((n_frames, len(MOUTH_CHANNELS)))
    den = np.zeros((n_frames, len(_GROUP_NAMES)))
    for b0 in range(0, len(track.rows), _PHONE_BLOCK):
        check()
        sl = slice(b0, b0 + _PHONE_BLOCK)
        a, b, ld, lg = core_a[sl], core_b[sl], lead[sl], lag[sl]
        item, frame = window_entries(np.floor((a - 3 * ld) * fps).astype(np.int64),
                                     np.ceil((b + 3 * lg) * fps).astype(np.int64), n_frames)
        t = frame / fps
        before = np.maximum(a[item] - t, 0.0) / ld[item]
        after = np.maximum(t - b[item], 0.0) / lg[item]
        dom = np.exp(-(before + after) ** 2)  # at most one of before/after is non-zero
        weights = sparse.csr_matrix((dom, (frame, item)), shape=(n_frames, len(a)))
        rows = track.rows[sl]
        num += weights @ targets_by_group[rows]
        den += weights @ _STRENGTH[rows]
    floor = 1e-6  # a faint pull to rest keeps frames far from any phone defined
    mouth = (num + floor * _REST_ROW) / (den[:, _CHANNEL_GROUP] + floor)
    out = np.zeros((n_frames, NUM_ARKIT))
    out[:, [ARKIT_INDEX[c] for c in MOUTH_CHANNELS]] = mouth
    return out


def phone_lip_seal(track: PhoneTrack, n_frames: int, fps: int, params: FaceParams) -> np.ndarray:
    """(n_frames,) 0..1: 1 while the lips are sealed for the track's p/b/m (mouth_layers.lip_seal_gate)."""
    return lip_seal_gate(track.start[track.closing], track.end[track.closing], n_frames, fps,
                         params.lip_seal_min_hold_s, params.lip_seal_ramp_s)


# ----------------------------------------------------------------------------------------------
# mouth from acoustics (no phone timing)

def _masked_smooth(values: np.ndarray, mask: np.ndarray, sigma: float, fill: float) -> np.ndarray:
    """Gaussian smoothing of `values` using only frames where `mask`; `fill` where none is near."""
    w = gaussian_filter1d(mask.astype(np.float64), sigma, mode="nearest")
    v = gaussian_filter1d(np.where(mask, values, 0.0), sigma, mode="nearest")
    return np.where(w > 1e-3, v / np.maximum(w, 1e-3), fill)


def _speaker_normalised(formant: np.ndarray, voiced: np.ndarray, default_range: tuple[float, float],
                        min_frames: int = 30) -> np.ndarray:
    """(T,) formant mapped to 0..1 over this speaker's own 10th–90th percentile range (voices differ
    by hundreds of Hz); a fixed adult range when there is too little voicing to measure it."""
    lo, hi = default_range
    if np.count_nonzero(voiced) >= min_frames:
        lo, hi = np.percentile(formant[voiced], [10.0, 90.0])
        hi = max(hi, lo + 100.0)
    return np.clip((formant - lo) / (hi - lo), 0.0, 1.0)


def acoustic_mouth(analysis: SpeechAnalysis, params: FaceParams, jaw_gain: float = 1.0) -> np.ndarray:
    """Mouth from loudness, formants and frication → (n_frames, 52) float64 (other channels zero).

    F1 high → jaw open; F2 low → rounded (pucker/funnel), F2 high → spread; frication narrows the
    jaw. Silence closes the lips to rest.
    """
    n, fps = analysis.n_frames, analysis.fps
    sigma = params.acoustic_smoothing_s * fps
    speech = gaussian_filter1d(np.asarray(analysis.speech, np.float64), 2.0 * sigma, mode="nearest")
    loud = gaussian_filter1d(np.clip(np.asarray(analysis.loudness, np.float64), 0, 1), sigma, mode="nearest")
    loud *= speech
    formants = np.asarray(analysis.formants, np.float64).reshape(n, 2)
    voiced = np.asarray(analysis.voiced, bool) & (formants[:, 0] > 0)
    f1 = _masked_smooth(_speaker_normalised(formants[:, 0], voiced, (250.0, 800.0)), voiced, 2 * sigma, 0.4)
    f2 = _masked_smooth(_speaker_normalised(formants[:, 1], voiced, (900.0, 2200.0)), voiced, 2 * sigma, 0.5)
    fric = gaussian_filter1d(np.clip(np.asarray(analysis.fricative, np.float64), 0, 1), sigma, mode="nearest")
    rounded = np.clip((0.45 - f2) / 0.45, 0, 1) * loud
    spread = np.clip((f2 - 0.55) / 0.45, 0, 1) * loud
    rest_jaw, rest_close = REST_TARGETS["jawOpen"], REST_TARGETS["mouthClose"]
    opening = loud * (0.1 + 0.5 * f1) * (1.0 - 0.6 * fric) * jaw_gain
    out = np.zeros((n, NUM_ARKIT))
    out[:, ARKIT_INDEX["jawOpen"]] = rest_jaw + opening
    out[:, ARKIT_INDEX["mouthClose"]] = rest_close * (1.0 - speech)
    for side in ("Left", "Right"):
        out[:, ARKIT_INDEX["mouthLowerDown" + side]] = 0.4 * opening
        out[:, ARKIT_INDEX["mouthStretch" + side]] = 0.3 * spread + 0.15 * fric * speech
        out[:, ARKIT_INDEX["mouthSmile" + side]] = 0.1 * spread
    out[:, ARKIT_INDEX["mouthPucker"]] = 0.55 * rounded
    out[:, ARKIT_INDEX["mouthFunnel"]] = 0.3 * rounded
    return out


# ----------------------------------------------------------------------------------------------
# eyes, brows, mood

def _slow_noise(rng: np.random.Generator, n: int, sigma_frames: float) -> np.ndarray:
    """(n,) smooth noise with unit standard deviation, correlated over ~sigma_frames."""
    noise = gaussian_filter1d(rng.standard_normal(n + 1), sigma_frames, mode="wrap")[:n]
    return noise / max(float(noise.std()), 1e-9) if n > 1 else np.zeros(n)


def blink_times(analysis: SpeechAnalysis, rng: np.random.Generator, params: FaceParams,
                rate_gain: float = 1.0, gaze_shifts: np.ndarray | None = None) -> np.ndarray:
    """(B,) blink peak times in seconds, sorted.

    Poisson blinks at a speaking or pausing rate, extra blinks just after phrase ends and with
    some large gaze shifts (`gaze_shifts` (S,) times in seconds), a refractory gap between
    blinks, and some double blinks.
    """
    duration, fps = float(analysis.duration), analysis.fps
    speech = np.asarray(analysis.speech, bool)
    r_speak = params.blink_rate_speaking * rate_gain / 60.0
    r_pause = params.blink_rate_pausing * rate_gain / 60.0
    r_max = max(r_speak, r_pause)
    count = rng.poisson(r_max * duration)
    t = np.sort(rng.uniform(0.0, duration, count))
    speaking = speech[np.clip(np.round(t * fps).astype(np.int64), 0, len(speech) - 1)] if len(speech) else \
        np.zeros(len(t), bool)
    keep = rng.uniform(size=len(t)) < np.where(speaking, r_speak, r_pause) / max(r_max, 1e-9)
    times = [t[keep]]
    ends = np.array([seg[1] for seg in analysis.segments], float)
    ends = ends[ends < duration - 0.3]
    extra = rng.uniform(size=len(ends)) < params.phrase_end_blink_prob
    times.append(ends[extra] + rng.uniform(0.05, 0.3, int(extra.sum())))
    if gaze_shifts is not None and len(gaze_shifts):
        evoked = rng.uniform(size=len(gaze_shifts)) < params.gaze_shift_blink_prob
        times.append(np.asarray(gaze_shifts, float)[evoked] + 0.03)
    candidates = np.sort(np.concatenate(times))
    kept, last = [], -np.inf
    for time in candidates:  # refractory gap: one pass over a few blinks per minute
        if time - last >= params.blink_refractory_s:
            kept.append(time)
            last = time
    kept = np.array(kept, float)
    doubles = kept[rng.uniform(size=len(kept)) < params.double_blink_prob]
    doubles = doubles + rng.uniform(0.22, 0.32, len(doubles))
    out = np.sort(np.concatenate([kept, doubles]))
    return out[(out > 0.1) & (out < duration - 0.1)]


def blink_curve(analysis: SpeechAnalysis, rng: np.random.Generator, params: FaceParams,
                rate_gain: float = 1.0, gaze_shifts: np.ndarray | None = None) -> np.ndarray:
    """(n_frames,) eyeBlink weight, the same for both eyes: fast close, slower open, ~0.1–0.18 s."""
    fps = analysis.fps
    times = blink_times(analysis, rng, params, rate_gain, gaze_shifts)
    peaks = np.round(times * fps) / fps  # full closure on a frame
    closing = rng.uniform(*params.blink_close_s, len(peaks))
    opening = rng.uniform(*params.blink_open_s, len(peaks))
    depth = rng.uniform(0.9, 1.0, len(peaks))
    return render_plateaus(analysis.n_frames, fps, peaks, peaks, closing, opening, depth)


def _min_jerk(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, 0.0, 1.0)
    return u ** 3 * (10.0 - 15.0 * u + 6.0 * u * u)


def gaze_fixations(speech: np.ndarray, fps: int, rng: np.random.Generator, params: FaceParams,
                   energy: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Fixation plan: start times (F,) in seconds (the first is 0) and gaze targets (F, 2) as
    (yaw, pitch) in eyeLook units, yaw + = the face's left, pitch + = up.

    Fixations alternate between the listener (small scatter) and averted targets; aversion is
    likelier while speaking, and every phrase start or end prompts a new decision.
    """
    n = len(speech)
    duration = n / fps
    # phrase starts and ends force a new gaze decision (look away to plan, back to hand over)
    changes = (np.flatnonzero(np.diff(speech.astype(np.int8))) + 1) / fps
    starts, targets = [], []
    t = 0.0
    while t < duration:
        starts.append(t)
        speaking = bool(speech[min(int(t * fps) + 3, n - 1)])  # gaze shifts lead the voice a little
        averted = rng.uniform() < (params.aversion_prob_speaking if speaking else params.aversion_prob_pausing)
        if averted:
            angle = rng.uniform(0.0, 2.0 * np.pi)
            amp = rng.uniform(*params.aversion_amplitude) * min(energy, 1.5)
            targets.append((amp * np.cos(angle), 0.6 * amp * np.sin(angle)))
            hold = params.averted_fixation_s
        else:
            targets.append(tuple(rng.normal(0.0, params.contact_scatter, 2)))
            hold = params.contact_fixation_s
        t_next = t + float(np.clip(hold * np.exp(rng.normal(0.0, 0.5)) / max(energy, 0.3) ** 0.5, 0.25, 5.0))
        k = np.searchsorted(changes, t + 0.25)
        if k < len(changes) and changes[k] - 0.1 < t_next:
            t_next = changes[k] + rng.uniform(-0.1, 0.1)
        t = t_next
    return np.array(starts), np.array(targets)


def gaze_path(starts: np.ndarray, targets: np.ndarray, n_frames: int, fps: int, rng: np.random.Generator,
              params: FaceParams) -> tuple[np.ndarray, np.ndarray]:
    """Gaze yaw and pitch (T,) from a fixation plan (see gaze_fixations): minimum-jerk saccades
    whose duration grows with amplitude, then fixation with a slow drift."""
    n, tgt = n_frames, targets
    amplitude = np.linalg.norm(np.diff(tgt, axis=0), axis=1)
    saccade = np.concatenate([[1e-3], 0.02 + 0.12 * amplitude])  # s, main-sequence-like
    time = np.arange(n) / fps
    k = np.searchsorted(starts, time, side="right") - 1
    prev = tgt[np.maximum(k - 1, 0)]
    s = _min_jerk((time - starts[k]) / saccade[k])[:, None]
    path = prev + (tgt[k] - prev) * s
    drift = params.gaze_drift * np.stack([_slow_noise(rng, n, 0.4 * fps), _slow_noise(rng, n, 0.4 * fps)], 1)
    path = path + drift
    return path[:, 0], path[:, 1]


def write_gaze(out: np.ndarray, yaw: np.ndarray, pitch: np.ndarray) -> None:
    """Write a shared gaze direction into the eight eyeLook channels of out (T, 52), in place.

    Looking to the face's left moves the left eye outward and the right eye inward.
    """
    left, right = np.maximum(yaw, 0.0), np.maximum(-yaw, 0.0)
    up, down = np.maximum(pitch, 0.0), np.maximum(-pitch, 0.0)
    out[:, ARKIT_INDEX["eyeLookOutLeft"]] = left
    out[:, ARKIT_INDEX["eyeLookInRight"]] = left
    out[:, ARKIT_INDEX["eyeLookInLeft"]] = right
    out[:, ARKIT_INDEX["eyeLookOutRight"]] = right
    for side in ("Left", "Right"):
        out[:, ARKIT_INDEX["eyeLookUp" + side]] = up
        out[:, ARKIT_INDEX["eyeLookDown" + side]] = down


def accent_brow_raise(analysis: SpeechAnalysis, rng: np.random.Generator, params: FaceParams,
                      energy: float = 1.0) -> np.ndarray:
    """(n_frames,) brow raise: a bump on most pitch accents, taller for stronger accents."""
    times = np.asarray(analysis.pitch_accents, float)
    strength = np.clip(np.asarray(analysis.accent_strength, float), 0.0, 1.0)
    chosen = rng.uniform(size=len(times)) < 0.3 + 0.7 * strength
    times, strength = times[chosen], strength[chosen]
    height = params.brow_accent_gain * energy * strength * rng.uniform(0.6, 1.0, len(times))
    rise = np.full(len(times), params.brow_accent_rise_s)
    fall = np.full(len(times), params.brow_accent_fall_s)
    return render_plateaus(analysis.n_frames, analysis.fps, times, times, rise, fall, height)
