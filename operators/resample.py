"""Resample per-frame motion to the scene's frame rate (bpy-free, numpy only)."""
from __future__ import annotations

import numpy as np

try:
    from ..backend.motion.rotations import quat_slerp
except ImportError:  # loaded by file path (tests, without bpy): the repo root is on sys.path
    from backend.motion.rotations import quat_slerp


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
    w = (positions - i0).reshape((-1,) + (1,) * (q.ndim - 2))
    out = quat_slerp(q[i0], q[i1], w)
    return out / np.linalg.norm(out, axis=-1, keepdims=True)
