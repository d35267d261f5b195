"""Rotations in each bone's own mode: Euler in all six orders (checked against Blender's mathutils when
bpy is here), continuous across frames through gimbal flips and whole turns; axis-angle."""
from __future__ import annotations

import numpy as np
import pytest

from backend.motion import rotations
from rigs.rotation_modes import (EULER_ORDERS, blender_euler_to_matrix, channel_property,
                                 quaternions_to_axis_angle, quaternions_to_euler, rotation_values)


def random_path(seed: int, frames: int = 240, bones: int = 5) -> np.ndarray:
    """(T, B, 4) smooth sign-continuous quaternions that turn far (several full turns about some axes)."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, frames)[:, None, None]
    rates = rng.normal(0.0, 9.0, (1, bones, 3))
    aa = rates * t + 0.3 * np.sin(7.0 * t * rng.normal(size=(1, bones, 3)))
    q = rotations.axis_angle_to_quat(aa)
    return rotations.quat_make_continuous(q, axis=0)


def euler_path(order: str, seed: int, frames: int = 240, bones: int = 4) -> np.ndarray:
    """(T, B, 3) smooth Blender Euler angles: the first and last axes turn several whole turns, the middle
    one stays within ±70° (away from gimbal lock, where the decomposition is unique up to whole turns)."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, frames)[:, None]
    e = np.empty((frames, bones, 3))
    first, mid, last = ("XYZ".index(a) for a in order)
    e[..., first] = rng.normal(0, 8, bones) * t + 0.5
    e[..., last] = rng.normal(0, 8, bones) * t - 0.2
    e[..., mid] = np.radians(70) * np.sin(5 * t * rng.uniform(0.5, 2.0, bones))
    return e


@pytest.mark.parametrize("order", EULER_ORDERS)
def test_euler_recovers_a_continuous_path_through_whole_turns(order):
    truth = euler_path(order, 1)
    q = rotations.quat_make_continuous(rotations.matrix_to_quat(blender_euler_to_matrix(truth, order)), axis=0)
    e = quaternions_to_euler(q, order, previous=truth[0])
    np.testing.assert_allclose(e, truth, atol=1e-9)  # the very curves that were keyed: no flips, no 2π jumps
    # any rotation, gimbal lock included, is reproduced exactly
    rough = random_path(1)
    np.testing.assert_allclose(blender_euler_to_matrix(quaternions_to_euler(rough, order), order),
                               rotations.quat_to_matrix(rough), atol=1e-9)


def test_euler_starts_near_previous_angles():
    q = random_path(2, frames=3, bones=1)
    first = quaternions_to_euler(q, "XYZ")[0, 0]
    shifted = quaternions_to_euler(q, "XYZ", previous=first[None] + 2 * np.pi)[0, 0]
    np.testing.assert_allclose(shifted, first + 2 * np.pi, atol=1e-9)


def test_euler_matches_blender_mathutils():
    pytest.importorskip("bpy")
    import mathutils

    q = random_path(3, frames=30, bones=2)
    m = rotations.quat_to_matrix(q)
    for order in EULER_ORDERS:
        e = quaternions_to_euler(q, order)
        blender = np.array([[np.array(mathutils.Euler(e[t, b], order).to_matrix()) for b in range(2)]
                            for t in range(30)])
        np.testing.assert_allclose(blender, m, atol=2e-6)


def test_axis_angle_and_quaternion_modes():
    q = random_path(4)
    aa = quaternions_to_axis_angle(q)
    back = rotations.axis_angle_to_quat(aa[..., 1:] * aa[..., :1])
    np.testing.assert_allclose(np.abs(np.sum(back * q, -1)), 1.0, atol=1e-9)
    assert np.abs(np.diff(aa[..., 0], axis=0)).max() < 0.5  # angle continuous for continuous quaternions
    np.testing.assert_array_equal(rotation_values(q, "QUATERNION"), q)
    assert channel_property("AXIS_ANGLE") == ("rotation_axis_angle", 4)
    assert channel_property("YXZ") == ("rotation_euler", 3)
    with pytest.raises(ValueError):
        channel_property("SIDEWAYS")
