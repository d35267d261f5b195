"""Audio features for the neural face: per-clip normalised log-mel, brought to the 30 fps motion grid."""
from __future__ import annotations

import numpy as np

from ...audio.features import FEATURE_RATE, log_mel
from ...vocabulary.rates import MOTION_FPS



def motion_rate_log_mel(samples16k: np.ndarray, n_frames: int, n_mels: int = 80) -> np.ndarray:
    """16 kHz mono (N,) → (n_frames, n_mels) float32 log-mel at 30 fps, zero mean / unit variance per band.

    Each motion frame averages the 100 Hz mel frames of its 1/30 s (box filter, then linear
    interpolation at k / 30 s). Normalising per clip removes level and microphone colour.
    """
    mel = log_mel(np.asarray(samples16k, np.float32), n_mels=n_mels).astype(np.float64)
    width = int(round(FEATURE_RATE / MOTION_FPS))
    if len(mel) > width:
        kernel = np.ones(width) / width
        pad = np.pad(mel, ((width // 2, width - 1 - width // 2), (0, 0)), mode="edge")
        csum = np.cumsum(np.vstack([np.zeros((1, n_mels)), pad]), axis=0)
        mel = (csum[width:] - csum[:-width]) * kernel[0]
    src = np.arange(len(mel)) / FEATURE_RATE
    dst = np.arange(n_frames) / MOTION_FPS
    pos = np.interp(dst, src, np.arange(len(mel)))
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, len(mel) - 1)
    frac = (pos - lo)[:, None]
    out = mel[lo] * (1.0 - frac) + mel[hi] * frac
    mean = out.mean(axis=0, keepdims=True) if n_frames else 0.0
    std = out.std(axis=0, keepdims=True) + 1e-3 if n_frames else 1.0
    return ((out - mean) / std).astype(np.float32)
