"""Resampling motion to the scene's frame rate (backend.motion.resample: pure numpy, no bpy)."""
from __future__ import annotations

import numpy as np

from backend.motion import resample


def test_frame_counts_cover_the_same_duration():
    assert resample.resampled_frame_count(31, 30, 30) == 31
    assert resample.resampled_frame_count(31, 30, 24) == 25  # 1 s at 30 fps → 1 s at 24 fps
    assert resample.resampled_frame_count(31, 30, 60) == 61
    assert resample.resampled_frame_count(1, 30, 24) == 1


def test_linear_resampling_keeps_a_ramp():
    ramp = np.arange(31, dtype=float)[:, None] * [1.0, -2.0]
    pos = resample.sample_positions(31, 30, 24)
    out = resample.resample_linear(ramp, pos)
    np.testing.assert_allclose(out[:, 0], pos)
    np.testing.assert_allclose(out[-1], ramp[-1])


def test_quaternion_slerp_follows_a_constant_rotation_speed():
    angles = np.linspace(0.0, 2.0, 31)  # rotation about z at a constant speed, 30 fps
    q = np.stack([np.cos(angles / 2), 0 * angles, 0 * angles, np.sin(angles / 2)], axis=-1)
    pos = resample.sample_positions(31, 30, 24)
    out = resample.resample_quaternions(q, pos)
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), 1.0, atol=1e-12)
    np.testing.assert_allclose(2 * np.arctan2(out[:, 3], out[:, 0]), pos * 2.0 / 30, atol=1e-9)
    # a sign flip between neighbours must not send the interpolation the long way round
    flipped = q.copy()
    flipped[1::2] *= -1
    out2 = resample.resample_quaternions(flipped, pos)
    np.testing.assert_allclose(np.abs(np.sum(out2 * out, axis=-1)), 1.0, atol=1e-9)


def test_quaternion_slerp_of_many_bones_matches_the_closed_form():
    """(T, B, 4) at once, general axes: the halfway sample is the rotation halfway along each arc."""
    rng = np.random.default_rng(0)
    axes = rng.normal(size=(3, 3))
    axes /= np.linalg.norm(axes, axis=-1, keepdims=True)
    angle = np.array([0.0, 1.0, 2.5])[:, None, None] * np.array([1.0, 0.5, 2.0])[None, :, None]  # (T, B, 1)
    q = np.concatenate([np.cos(angle / 2), np.sin(angle / 2) * axes[None]], axis=-1)           # (T, B, 4)
    out = resample.resample_quaternions(q, np.array([0.5, 1.5]))
    assert out.shape == (2, 3, 4)
    mid = (angle[:-1] + angle[1:]) / 2
    expected = np.concatenate([np.cos(mid / 2), np.sin(mid / 2) * axes[None]], axis=-1)
    np.testing.assert_allclose(out, expected, atol=1e-9)
