"""Resample per-frame motion from one frame rate to another (the add-on: 30 fps motion → the scene's fps).

Pure numpy: positions are fractional source-frame indices, so any rate pair works, first and last frames
included. Shapes in each docstring.
"""
from __future__ import annotations

import numpy as np

from .rotations import axis_angle_to_quat, quat_conjugate, quat_multiply, quat_to_axis_angle


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
    """q (T, ..., 4) sign-continuous unit quaternions (w, x, y, z) → (T', ..., 4), slerped at the positions.

    Slerp as a ⊗ (a⁻¹ ⊗ b)^w: the relative rotation's axis-angle (shortest arc, so a neighbour stored
    with the opposite sign never sends it the long way round) scaled by w; the result stays on a's side.
    """
    q = np.asarray(q, dtype=np.float64)
    i0, i1, w = _neighbours(len(q), positions, q.ndim)
    a = q[i0]
    relative = quat_to_axis_angle(quat_multiply(quat_conjugate(a), q[i1]))
    out = quat_multiply(a, axis_angle_to_quat(w * relative))
    return out / np.linalg.norm(out, axis=-1, keepdims=True)
