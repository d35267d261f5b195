"""Raised-cosine plateaus and per-item frame windows: the curve shapes of the built-in face (lip seals,
blinks, brow raises), vectorised over items."""
from __future__ import annotations

import numpy as np


def window_entries(first: np.ndarray, last: np.ndarray, n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """For items with frame windows first..last (inclusive, (N,) int) → (item index, frame) pairs (E,)."""
    first = np.clip(first, 0, n_frames - 1)
    last = np.clip(last, first - 1, n_frames - 1)
    lengths = last - first + 1
    item = np.repeat(np.arange(len(first)), lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return item, first[item] + offsets


def render_plateaus(n_frames: int, fps: int, start: np.ndarray, end: np.ndarray, rise: np.ndarray,
                    fall: np.ndarray, height: np.ndarray) -> np.ndarray:
    """Max-combined raised-cosine bumps → (n_frames,).

    Item i is `height` over [start, end] seconds, rising over `rise` s before and falling over
    `fall` s after with half-cosine ramps (all (N,) arrays).
    """
    curve = np.zeros(n_frames)
    if len(start) == 0:
        return curve
    item, frame = window_entries(np.floor((start - rise) * fps).astype(np.int64),
                                  np.ceil((end + fall) * fps).astype(np.int64), n_frames)
    t = frame / fps
    u = np.maximum(start[item] - t, 0.0) / rise[item] + np.maximum(t - end[item], 0.0) / fall[item]
    value = height[item] * 0.5 * (1.0 + np.cos(np.pi * np.minimum(u, 1.0)))
    np.maximum.at(curve, frame, value)
    return curve
