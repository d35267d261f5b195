"""Per-frame face and head for the live stream, from the built-in face engine's pieces.

For frame t the mouth is the engine's coarticulated viseme blend (coarticulated_visemes) over the phones
known at t + look-ahead, computed on a 0.5 s window ending at t, the newest phone held to the edge of what
was heard (anticipation of phones not yet heard is impossible). The jaw scales with loudness as in
generate_face. Lips seal (the engine's seal rule: jawOpen pulled back, mouthClose up to jawOpen, the
lip-parting channels taken back) on a raised-cosine gate around each acoustic closure (analysis.
ClosureDetector) and each recognised p/b/m. Blinks, gaze and brows use FaceParams' rates and the engine's
write_gaze and blink shapes, drawn on line (Poisson blinks per frame, fixations planned one at a time).
Head: slow min-jerk wandering (knots every ~1.2 s, larger while speaking) plus a nod on pitch accents.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from ..analysis import Phone
from ..engines.builtin.face import (EMOTION_STYLES, FaceParams, speech_phones, coarticulated_visemes,
                                    render_plateaus, write_gaze)
from ..engines.builtin.idle import min_jerk
from ..vocabulary.face import ARKIT_INDEX, NUM_ARKIT
from ..vocabulary.rates import MOTION_FPS
from ..vocabulary.visemes import LIP_OPENING_CHANNELS, REST_TARGETS
from .analysis import Hop

FPS = MOTION_FPS
LOOKAHEAD_S = 0.08             # frame t is made once audio up to t + this has arrived (issue budget ≤ 0.1)
WINDOW_FRAMES = 15             # coarticulation looks back 0.5 s (the longest lag × 3 is 0.3 s)
CLOSURE_RAMP_S = 0.055         # lips travel this long into and out of an acoustic closure
CLOSURE_MERGE_S = 0.035        # closure hops this close form one closure (no flutter inside a stop)
MOUTH_SMOOTHING_S = 0.03       # one-pole smoothing of the phone-driven shapes: a partial hypothesis that
#                                changes its newest word moved mouthStretch by up to 0.1 per frame
EYE_RAD_PER_UNIT = 0.5         # eyeLook weight 1 ≈ 29° of eye rotation
HEAD_KNOT_S = 1.2

_JAW, _CLOSE = ARKIT_INDEX["jawOpen"], ARKIT_INDEX["mouthClose"]
_OPENING = [ARKIT_INDEX[c] for c in LIP_OPENING_CHANNELS]


@dataclass(frozen=True)
class LiveFrame:
    """One output frame: t seconds of stream time; weights (52,) ARKit Apple order; head (pitch, yaw, roll)
    radians (pitch + = down, yaw + = the face's left, roll + = tilts left); eyes (2, 2) (pitch, yaw) radians
    for left and right eye (pitch + = up)."""
    index: int
    t: float
    weights: np.ndarray
    head: np.ndarray
    eyes: np.ndarray


class FaceStream:
    def __init__(self, seed: int = 0, emotion: str = "neutral", intensity: float = 0.5,
                 params: FaceParams = FaceParams()) -> None:
        if emotion not in EMOTION_STYLES:
            raise ValueError(f"unknown emotion {emotion!r}; expected one of {sorted(EMOTION_STYLES)}")
        self.p = params
        self.style = EMOTION_STYLES[emotion]
        self.intensity = float(np.clip(intensity, 0, 1))
        self.rng = np.random.default_rng(seed)
        self.frame = 0
        self._hops: deque[Hop] = deque(maxlen=60)
        self._closures: deque[float] = deque(maxlen=64)
        self._loud = 0.0
        self._speaking = False
        self._was_speaking = False
        # blinks: peak times (past and scheduled)
        self._blinks: deque[tuple[float, float, float, float]] = deque(maxlen=8)  # (peak, close, open, depth)
        self._last_blink = -10.0
        # gaze plan
        self._fix_start, self._fix_next = 0.0, 0.0
        self._gaze_from = np.zeros(2)
        self._gaze_to = np.zeros(2)
        self._saccade_s = 1e-3
        # head: min-jerk knots
        self._knots: deque[tuple[float, np.ndarray]] = deque([(-HEAD_KNOT_S, np.zeros(3)), (0.0, np.zeros(3))],
                                                            maxlen=4)
        self._nod = 0.0
        self._nod_target = 0.0
        self._f0_ref = 0.0
        self._last_accent = -10.0
        self._brow = 0.0
        self._mouth: np.ndarray | None = None

    # ------------------------------------------------------------------ input
    def push_hop(self, hop: Hop, closure: bool) -> None:
        self._hops.append(hop)
        if closure:
            self._closures.append(hop.t)

    # ------------------------------------------------------------------ output
    def next_frame(self, phones: list[Phone], heard_until: float) -> LiveFrame:
        p, fps, k = self.p, FPS, self.frame
        t = k / fps
        self.frame += 1
        near = [h for h in self._hops if t - 0.02 <= h.t <= t + 0.02]
        speech = any(h.speech for h in near)
        loud_now = max((h.loudness for h in near), default=0.0)
        a = 1.0 - np.exp(-1.0 / (fps * p.loudness_smoothing_s))
        self._loud += a * (loud_now - self._loud)
        out = np.zeros(NUM_ARKIT)

        # --- mouth
        t0 = t - (WINDOW_FRAMES - 1) / fps
        window = [Phone(ph.label, ph.start - t0, min(ph.end, heard_until) - t0)
                  for ph in phones if ph.end > t0 - 0.3 and ph.start < heard_until]
        rest_jaw = REST_TARGETS["jawOpen"]
        jaw_gain = (1.0 + (self.style.jaw_gain - 1.0) * self.intensity)
        if window:
            if window[-1].end < heard_until - t0:  # hold the newest phone to the edge of what was heard
                last = window[-1]
                window[-1] = Phone(last.label, last.start, heard_until - t0)
            track = speech_phones(window, heard_until - t0)
            out += coarticulated_visemes(track, WINDOW_FRAMES, fps, p)[-1]
            gain = (p.jaw_gain_quiet + (p.jaw_gain_loud - p.jaw_gain_quiet) * np.clip(self._loud, 0, 1)) * jaw_gain
            for name in ("jawOpen", "mouthLowerDownLeft", "mouthLowerDownRight"):
                base = rest_jaw if name == "jawOpen" else 0.0
                i = ARKIT_INDEX[name]
                out[i] = max(base + (out[i] - base) * gain, 0.0)
            if not speech:  # recognised words may trail into a pause: the face follows the voice
                out *= 0.5
                out[_JAW] = max(out[_JAW], rest_jaw)
        if not window or not speech:
            opening = self._loud * 0.45 * jaw_gain
            out[_JAW] = max(out[_JAW], rest_jaw + opening)
            out[_CLOSE] = max(out[_CLOSE], REST_TARGETS["mouthClose"] * (0.0 if speech else 1.0))
            for side in ("Left", "Right"):
                out[ARKIT_INDEX["mouthLowerDown" + side]] = max(out[ARKIT_INDEX["mouthLowerDown" + side]],
                                                                0.4 * opening)

        # expression
        for name, value in self.style.expression.items():
            for ch in ((name,) if name in ARKIT_INDEX else (name + "Left", name + "Right")):
                out[ARKIT_INDEX[ch]] += value * self.intensity

        # --- lip seal: acoustic closures and recognised bilabials, the engine's seal rule
        # --- smooth what the phones drive before the seal, so the seal itself stays exact
        a_m = 1.0 - np.exp(-1.0 / (fps * MOUTH_SMOOTHING_S))
        if self._mouth is None:
            self._mouth = out.copy()
        self._mouth += a_m * (out - self._mouth)
        out = self._mouth.copy()
        starts, ends = _runs([c for c in self._closures if abs(c - t) < 0.3], CLOSURE_MERGE_S)
        bil = [ph for ph in phones if ph.label in ("P", "B", "M") and abs(0.5 * (ph.start + ph.end) - t) < 0.3]
        mids = np.array([0.5 * (b.start + b.end) for b in bil])
        starts, ends = np.concatenate([starts, mids]) - t0, np.concatenate([ends, mids]) - t0
        ramp = np.full(len(starts), CLOSURE_RAMP_S)
        seal = render_plateaus(WINDOW_FRAMES, fps, starts, ends, ramp, ramp, np.ones(len(starts)))[-1] \
            if len(starts) else 0.0
        out[_JAW] *= 1.0 - p.lip_seal_jaw_pull * seal
        out[_CLOSE] += seal * max(out[_JAW] - out[_CLOSE], 0.0)
        out[_OPENING] *= 1.0 - seal
        out[_CLOSE] = min(out[_CLOSE], out[_JAW])

        # --- blinks
        self._update_speaking(speech, t)
        blink = self._blink(t)
        for ch in ("eyeBlinkLeft", "eyeBlinkRight"):
            out[ARKIT_INDEX[ch]] += blink
        # --- gaze
        yaw, pitch = self._gaze(t, speech)
        pitch = pitch + self.style.gaze_pitch * self.intensity - p.blink_gaze_dip * blink
        g = np.zeros((1, NUM_ARKIT))
        write_gaze(g, np.array([yaw]), np.array([pitch]))
        look = [i for n, i in ARKIT_INDEX.items() if n.startswith("eyeLook")]
        out[look] = g[0, look]
        # --- brows and head on pitch accents
        accent = self._accent(t, near)
        self._brow = max(self._brow * np.exp(-1.0 / (fps * p.brow_accent_fall_s)), accent * p.brow_accent_gain)
        out[ARKIT_INDEX["browInnerUp"]] += 0.8 * self._brow
        out[ARKIT_INDEX["browOuterUpLeft"]] += self._brow
        out[ARKIT_INDEX["browOuterUpRight"]] += self._brow
        head = self._head(t, speech, accent)
        np.clip(out, 0.0, 1.0, out=out)
        eyes = np.array([[pitch, yaw], [pitch, yaw]]) * EYE_RAD_PER_UNIT
        return LiveFrame(k, t, out.astype(np.float32), head, eyes)

    # ------------------------------------------------------------------ parts
    def _update_speaking(self, speech: bool, t: float) -> None:
        self._was_speaking, self._speaking = self._speaking, speech
        if self._was_speaking and not speech and self.rng.uniform() < self.p.phrase_end_blink_prob:
            self._schedule_blink(t + self.rng.uniform(0.1, 0.3))

    def _schedule_blink(self, peak: float) -> None:
        if peak - self._last_blink < self.p.blink_refractory_s:
            return
        p = self.p
        self._blinks.append((peak, self.rng.uniform(*p.blink_close_s), self.rng.uniform(*p.blink_open_s),
                             self.rng.uniform(0.9, 1.0)))
        self._last_blink = peak
        if self.rng.uniform() < p.double_blink_prob:
            self._blinks.append((peak + self.rng.uniform(0.22, 0.32), self.rng.uniform(*p.blink_close_s),
                                 self.rng.uniform(*p.blink_open_s), self.rng.uniform(0.9, 1.0)))
            self._last_blink = self._blinks[-1][0]

    def _blink(self, t: float) -> float:
        p = self.p
        rate = (p.blink_rate_speaking if self._speaking else p.blink_rate_pausing) / 60.0
        rate *= 1.0 + (self.style.blink_rate_gain - 1.0) * self.intensity
        if self.rng.uniform() < rate / FPS:
            self._schedule_blink(t + 0.07)  # a closing lid needs a couple of frames
        value = 0.0
        for peak, close, open_, depth in self._blinks:
            u = (peak - t) / close if t < peak else (t - peak) / open_
            if u < 1.0:
                value = max(value, depth * 0.5 * (1.0 + np.cos(np.pi * u)))
        return value

    def _gaze(self, t: float, speech: bool) -> tuple[float, float]:
        p, rng = self.p, self.rng
        energy = 1.0 + (self.style.gesture_gain - 1.0) * self.intensity
        if t >= self._fix_next or speech != self._was_speaking and t - self._fix_start > 0.25:
            cur = self._gaze_now(t)
            averted = rng.uniform() < (p.aversion_prob_speaking if speech else p.aversion_prob_pausing)
            if averted:
                angle = rng.uniform(0, 2 * np.pi)
                amp = rng.uniform(*p.aversion_amplitude) * min(energy, 1.5)
                target = np.array([amp * np.cos(angle), 0.6 * amp * np.sin(angle)])
                hold = p.averted_fixation_s
            else:
                target = rng.normal(0.0, p.contact_scatter, 2)
                hold = p.contact_fixation_s
            self._gaze_from, self._gaze_to = cur, target
            self._saccade_s = 0.02 + 0.12 * float(np.linalg.norm(target - cur))
            self._fix_start = t
            self._fix_next = t + float(np.clip(hold * np.exp(rng.normal(0, 0.5)) / max(energy, 0.3) ** 0.5,
                                               0.25, 5.0))
            if float(np.linalg.norm(target - cur)) > p.gaze_shift_blink_amplitude and \
                    rng.uniform() < p.gaze_shift_blink_prob:
                self._schedule_blink(t + 0.07)
        g = self._gaze_now(t)
        return float(g[0]), float(g[1])

    def _gaze_now(self, t: float) -> np.ndarray:
        s = float(min_jerk(np.array((t - self._fix_start) / self._saccade_s)))
        return self._gaze_from + (self._gaze_to - self._gaze_from) * s

    def _accent(self, t: float, near: list[Hop]) -> float:
        voiced = [h.f0 for h in near if h.voiced and h.f0 > 0]
        if not voiced:
            return 0.0
        f0 = float(np.mean(voiced))
        if self._f0_ref <= 0:
            self._f0_ref = f0
        semis = 12.0 * np.log2(f0 / self._f0_ref)
        self._f0_ref *= 2.0 ** (np.clip(semis, -3, 3) / 12.0 * 0.02)  # slow running reference (~1.7 s)
        if semis > 2.0 and t - self._last_accent > 0.35 and self._loud > 0.3:
            self._last_accent = t
            return float(np.clip((semis - 2.0) / 4.0 + 0.4, 0.0, 1.0))
        return 0.0

    def _head(self, t: float, speech: bool, accent: float) -> np.ndarray:
        if t >= self._knots[-1][0]:
            amp = np.radians([2.5, 4.0, 1.5]) * (1.0 if speech else 0.5)
            self._knots.append((self._knots[-1][0] + HEAD_KNOT_S * self.rng.uniform(0.7, 1.3),
                                self.rng.standard_normal(3) * amp))
        (ta, va), (tb, vb) = self._knots[-2], self._knots[-1]
        base = va + (vb - va) * float(min_jerk(np.array((t - ta) / (tb - ta))))
        if accent > 0:
            self._nod_target = np.radians(4.0) * accent
        self._nod += 0.35 * (self._nod_target - self._nod)   # rises in ~0.15 s
        self._nod_target *= 0.8                                # and falls back
        return (base + np.array([self._nod, 0.0, 0.0])).astype(np.float32)


def _runs(times: list[float], merge_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Sorted closure hop times → (starts, ends) of runs whose neighbours are at most merge_s apart."""
    if not times:
        return np.zeros(0), np.zeros(0)
    t = np.sort(np.asarray(times, float))
    cut = np.flatnonzero(np.diff(t) > merge_s) + 1
    return t[np.r_[0, cut]], t[np.r_[cut - 1, len(t) - 1]]
