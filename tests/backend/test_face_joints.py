"""Jaw and eye joints follow the ARKit curves; head/eye angles for the Live Link columns."""
from __future__ import annotations

import numpy as np

from backend.motion.face_joints import (EYE_YAW_MAX_RAD, JAW_OPEN_MAX_RAD, eye_rotations_from_arkit,
                                 head_and_eye_angles, jaw_rotation_from_arkit)
from backend.motion.kinematics import forward_kinematics
from backend.vocabulary.face import ARKIT_INDEX


def arkit_with(**values):
    a = np.zeros((1, 52), np.float32)
    for name, v in values.items():
        a[0, ARKIT_INDEX[name]] = v
    return a


def test_jaw_open_drops_the_chin():
    poses = np.zeros((1, 55, 3))
    poses[:, 22] = jaw_rotation_from_arkit(arkit_with(jawOpen=1.0))
    assert np.isclose(poses[0, 22, 0], JAW_OPEN_MAX_RAD)
    rot, _ = forward_kinematics(poses, np.zeros((1, 3)))
    chin = rot[0, 22] @ np.array([0.0, 0.0, 1.0])  # forward-pointing jaw axis
    assert chin[1] < -0.2, "chin moves down"


def test_eyes_look_the_same_way_when_one_looks_out_and_the_other_in():
    # gaze to the character's left: left eye looks out, right eye looks in
    left, right = eye_rotations_from_arkit(arkit_with(eyeLookOutLeft=1.0, eyeLookInRight=1.0))
    assert np.isclose(left[0, 1], EYE_YAW_MAX_RAD) and np.isclose(right[0, 1], EYE_YAW_MAX_RAD)
    down_l, down_r = eye_rotations_from_arkit(arkit_with(eyeLookDownLeft=1.0, eyeLookDownRight=1.0))
    assert down_l[0, 0] > 0 and down_r[0, 0] > 0


def test_head_angles_read_back_yaw_pitch_roll():
    poses = np.zeros((3, 55, 3))
    poses[0, 15] = [0.0, 0.3, 0.0]        # turn toward the left
    poses[1, 12] = [0.2, 0.0, 0.0]        # neck pitches down
    poses[1, 15] = [0.1, 0.0, 0.0]        # head pitches further
    poses[2, 15] = [0.0, 0.0, -0.25]      # top of the head toward the left
    poses[2, 23] = [0.0, 0.4, 0.0]
    angles = head_and_eye_angles(poses)
    np.testing.assert_allclose(angles[0, :3], [0.3, 0.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(angles[1, :3], [0.0, 0.3, 0.0], atol=1e-9)
    np.testing.assert_allclose(angles[2, :3], [0.0, 0.0, 0.25], atol=1e-9)
    np.testing.assert_allclose(angles[2, 3:6], [0.4, 0.0, 0.0], atol=1e-9)
