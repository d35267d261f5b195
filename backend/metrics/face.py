"""Face measures on ARKit curves: lip closure on bilabials, mouth aperture per phone class, jitter,
blink rate.

A phone covers the frames analysis.phone_frames gives.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from ..analysis import Phone, phone_frames
from ..vocabulary.face import ARKIT_INDEX, lip_aperture
from ..vocabulary.phonemes import BILABIALS
from ..vocabulary.rates import MOTION_FPS


def bilabial_closure_rate(arkit: np.ndarray, phones: Sequence[Phone], fps: int = MOTION_FPS,
                          threshold: float = 0.05) -> float:
    """Fraction of P/B/M phones during which lip aperture (jawOpen − mouthClose) gets ≤ threshold.

    arkit (T, 52). NaN when there are no bilabial phones inside the clip.
    """
    aperture = lip_aperture(np.asarray(arkit))
    closed = [bool(np.min(aperture[f]) <= threshold)
              for ph in phones if ph.label.upper() in BILABIALS
              for f in [phone_frames(ph, fps, len(aperture))] if len(f)]
    return float(np.mean(closed)) if closed else float("nan")


def mean_aperture(arkit: np.ndarray, phones: Sequence[Phone], labels: Iterable[str], fps: int = MOTION_FPS) -> float:
    """Mean lip aperture over all frames of the phones whose label is in `labels`.

    arkit (T, 52). Frames shared by two selected phones count once per phone. NaN when none.
    """
    wanted = {label.upper() for label in labels}
    aperture = lip_aperture(np.asarray(arkit))
    frames = [phone_frames(ph, fps, len(aperture)) for ph in phones if ph.label.upper() in wanted]
    frames = [f for f in frames if len(f)]
    return float(np.mean(aperture[np.concatenate(frames)])) if frames else float("nan")


def jitter(curves: np.ndarray) -> np.ndarray | float:
    """Mean absolute frame-to-frame second difference, per channel.

    curves (T, C) → (C,); (T,) → float. Smooth motion scores near 0; a held value that jumps, or
    noise, scores high. 0 for fewer than 3 frames.
    """
    x = np.asarray(curves, np.float64)
    if x.shape[0] < 3:
        return np.zeros(x.shape[1:]) if x.ndim > 1 else 0.0
    d2 = np.abs(x[2:] - 2.0 * x[1:-1] + x[:-2]).mean(axis=0)
    return float(d2) if x.ndim == 1 else d2


def blink_rate(arkit: np.ndarray, fps: int = MOTION_FPS, threshold: float = 0.5) -> float:
    """Blinks per minute: rising crossings of `threshold` by the mean of eyeBlinkLeft/Right.

    arkit (T, 52).
    """
    a = np.asarray(arkit)
    if a.shape[0] == 0:
        return 0.0
    lids = 0.5 * (a[:, ARKIT_INDEX["eyeBlinkLeft"]] + a[:, ARKIT_INDEX["eyeBlinkRight"]])
    above = lids >= threshold
    rises = int(np.count_nonzero(above[1:] & ~above[:-1]) + above[0])
    return rises / (a.shape[0] / fps / 60.0)
