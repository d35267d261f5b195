"""Resample per-frame motion to the scene's frame rate (bpy-free, numpy only)."""
from __future__ import annotations

import numpy as np


def resampled_frame_count(n_frames: int, src_fps: float, dst_fps: float) -> int:
    """Frames at dst_fps that cover the same duration as n_frames at src_fps (first and last included)."""
    if n_frames <= 1 or abs(src_fps - dst_fps) < 1e-9:
        return int(n_frames)
    return int(np.floor((n_frames - 1) * dst_fps / src_fps + 1e-6)) + 1


def sample_positions(n_frames: int, src_fps: float, dst_fps: float) -> np.ndarray:
    """(T',) fractional source-frame index of each destination frame."""
    return np.arange(resampled_frame_count(n_frames, src_fps, dst_fps)) * (src_fps / dst_fps)


def resample_linear(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """values (T, ...) sampled at fractional frame positions (T',) by linear interpolation → (T', ...)."""
    values = np.asarray(values)
    i0 = np.clip(np.floor(positions).astype(int), 0, len(values) - 1)
    i1 = np.minimum(i0 + 1, len(values) - 1)
    w = (positions - i0).reshape((-1,) + (1,) * (values.ndim - 1))
    return (1.0 - w) * values[i0] + w * values[i1]


def resample_quaternions(q: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """q (T, ..., 4) sign-continuous unit quaternions → (T', ..., 4) by slerp at fractional positions."""
    q = np.asarray(q, dtype=np.float64)
    i0 = np.clip(np.floor(positions).astype(int), 0, len(q) - 1)
    i1 = np.minimum(i0 + 1, len(q) - 1)
    w = (positions - i0).reshape((-1,) + (1,) * (q.ndim - 1))
    a, b = q[i0], q[i1]
    dot = np.clip(np.sum(a * b, axis=-1, keepdims=True), -1.0, 1.0)
    b = np.where(dot < 0, -b, b)
    dot = np.abs(dot)
    theta = np.arccos(dot)
    sin_theta = np.sin(theta)
    small = sin_theta < 1e-6
    safe = np.where(small, 1.0, sin_theta)
    wa = np.where(small, 1.0 - w, np.sin((1.0 - w) * theta) / safe)
    wb = np.where(small, w, np.sin(w * theta) / safe)
    out = wa * a + wb * b
    return out / np.linalg.norm(out, axis=-1, keepdims=True)
