"""Mouth layers shared by the built-in face and the neural face (which puts a learned mouth under them):
the emotion's expression offsets and gains, the lip seal on p/b/m, and lips that never pass through each
other. One implementation, so both faces close on p/b/m the same way.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ...vocabulary.face import ARKIT_INDEX
from .plateaus import render_plateaus
from ...vocabulary.visemes import LIP_OPENING_CHANNELS


def arkit_sides(name: str) -> tuple[str, ...]:
    """'mouthSmile' → both side channels; a full channel name → itself."""
    if name in ARKIT_INDEX:
        return (name,)
    sided = (name + "Left", name + "Right")
    if not all(s in ARKIT_INDEX for s in sided):
        raise KeyError(f"not an ARKit channel or side pair: {name}")
    return sided


def emotion_gain(gain: float, intensity: float) -> float:
    """An emotion's multiplier at intensity 1 → its multiplier at `intensity` 0..1 (0 → 1, 1 → gain)."""
    return 1.0 + (gain - 1.0) * intensity


def add_expression(curves: np.ndarray, columns: Mapping[str, int], expression: Mapping[str, float],
                   intensity: float, mood: np.ndarray | float = 1.0) -> None:
    """curves (T, C) += value · intensity · mood, in place, for each channel of `expression` (ARKit name or
    side pair → offset at intensity 1) that `columns` (ARKit name → column of curves) holds.
    mood: (T,) slow breathing of the expression, or 1."""
    for name, value in expression.items():
        for channel in arkit_sides(name):
            if channel in columns:
                curves[:, columns[channel]] += value * intensity * mood


def lip_seal_gate(starts: np.ndarray, ends: np.ndarray, n_frames: int, fps: int, min_hold_s: float,
                  ramp_s: float) -> np.ndarray:
    """p/b/m phones [starts, ends] (N,) seconds → (n_frames,) 0..1: 1 while the lips are sealed, smooth ramps
    around. The seal covers the middle 60 % of the phone, at least min_hold_s (so at least one frame falls
    inside it however short the phone is), and ramps in and out over ramp_s (raised cosine)."""
    s, e = np.asarray(starts, float), np.asarray(ends, float)
    mid, half = 0.5 * (s + e), 0.5 * (e - s)
    hold = np.maximum(0.6 * half, 0.5 * min_hold_s)
    ramp = np.full(len(s), ramp_s)
    return render_plateaus(n_frames, fps, mid - hold, mid + hold, ramp, ramp, np.ones(len(s)))


def seal_lips(curves: np.ndarray, columns: Mapping[str, int], seal: np.ndarray | None, jaw_pull: float) -> None:
    """Close the lips where seal (T,) 0..1 is up, in place on curves (T, C) (columns: ARKit name → column):
    the jaw gives back jaw_pull of its opening, mouthClose rises to meet jawOpen (aperture → 0) and the
    channels that part the lips without the jaw let go. Then, everywhere, the lips may touch but not pass
    through each other (mouthClose ≤ jawOpen). seal None: only that last rule."""
    jaw, close = columns["jawOpen"], columns["mouthClose"]
    if seal is not None:
        curves[:, jaw] *= 1.0 - jaw_pull * seal
        curves[:, close] += seal * np.maximum(curves[:, jaw] - curves[:, close], 0.0)
        for name in LIP_OPENING_CHANNELS:
            curves[:, columns[name]] *= 1.0 - seal
    curves[:, close] = np.minimum(curves[:, close], curves[:, jaw])
