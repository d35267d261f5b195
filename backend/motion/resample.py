"""Resample per-frame motion from one frame rate to another (the add-on: 30 fps motion → the scene's fps).

Pure numpy: positions are fractional source-frame indices, so any rate pair works, first and last frames
included. Shapes in each docstring.
"""
from __future__ import annotations

import numpy as np

from .rotations import quat_slerp


def resampled_frame_count(n_frames: int, src_fps: float, dst_fps: float) -> int:
    """Frames at dst_fps that cover the same duration as n_frames at src_fps (first and last included)."""
    if n_frames <= 1 or abs(src_fps - dst_fps) < 1e-9:
        return int(n_frames)
    return int(np.floor((n_frames - 1) * dst_fps / src_fps + 1e-6)) + 1


def sample_positions(n_frames: int, src_fps: float, dst_fps: float) -> np.ndarray:
    """(T',) fractional source-frame index of each destination frame."""
    return np.arange(resampled_frame_count(n_frames, src_fps, dst_fps)) * (src_fps / dst_fps)


def _neighbours(n: int, positions: np.ndarray, ndim: int):
    """Indices (T',) of the frames before and after each position, and the weight (T', 1, …) of the later."""
    i0 = np.clip(np.floor(positions).astype(int), 0, n - 1)
    i1 = np.minimum(i0 + 1, n - 1)
    w = (positions - i0).reshape((-1,) + (1,) * (ndim - 1))
    return i0, i1, w


def resample_linear(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """values (T, ...) sampled at fractional frame positions (T',) by linear interpolation → (T', ...)."""
    values = np.asarray(values)
    i0, i1, w = _neighbours(len(values), positions, values.ndim)
    return (1.0 - w) * values[i0] + w * values[i1]


def resample_quaternions(q: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """q (T, ..., 4) sign-continuous unit quaternions (w, x, y, z) → (T', ..., 4), slerped at the positions
    (the project's one slerp, the short way round, so a neighbour stored with the opposite sign never sends
    it the long way)."""
    q = np.asarray(q, dtype=np.float64)
    i0, i1, w = _neighbours(len(q), positions, q.ndim)
    out = quat_slerp(q[i0], q[i1], w[..., 0])
    return out / np.linalg.norm(out, axis=-1, keepdims=True)
