"""Joint rotations that follow the face curves: the jaw from jawOpen, the eyes from eyeLook*.

Pure functions; SMPL-X frames (Y up, Z forward, X = body's left), axis-angle.
"""
from __future__ import annotations

import numpy as np

from .rotations import axis_angle_to_matrix, matrix_to_euler
from ..vocabulary.face import ARKIT_INDEX
from ..vocabulary.skeleton import HEAD, LEFT_EYE, NECK, RIGHT_EYE

JAW_OPEN_MAX_RAD = 0.30     # jaw pitch at jawOpen = 1 (SMPL-X jaw, mouth fully open)
JAW_SIDE_MAX_RAD = 0.08     # jaw yaw at jawLeft/jawRight = 1
EYE_YAW_MAX_RAD = 0.50      # eye yaw at eyeLookIn/Out = 1 (≈ 30°, ARKit's range)
EYE_PITCH_MAX_RAD = 0.35    # eye pitch at eyeLookUp/Down = 1


def _col(arkit: np.ndarray, name: str) -> np.ndarray:
    return arkit[:, ARKIT_INDEX[name]].astype(np.float64)


def jaw_rotation_from_arkit(arkit: np.ndarray) -> np.ndarray:
    """arkit (T,52) → jaw axis-angle (T,3): +X rotation drops the chin; jawLeft turns toward +X."""
    pitch = JAW_OPEN_MAX_RAD * _col(arkit, "jawOpen")
    yaw = JAW_SIDE_MAX_RAD * (_col(arkit, "jawLeft") - _col(arkit, "jawRight"))
    return np.stack([pitch, yaw, np.zeros_like(pitch)], axis=1)


def eye_rotations_from_arkit(arkit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """arkit (T,52) → (left eye (T,3), right eye (T,3)) axis-angle.

    'Out' looks away from the nose: toward +X (body's left) for the left eye, −X for the right.
    Positive pitch (about +X) looks down.
    """
    def eye(side: str, out_sign: float) -> np.ndarray:
        yaw = out_sign * EYE_YAW_MAX_RAD * (_col(arkit, f"eyeLookOut{side}") - _col(arkit, f"eyeLookIn{side}"))
        pitch = EYE_PITCH_MAX_RAD * (_col(arkit, f"eyeLookDown{side}") - _col(arkit, f"eyeLookUp{side}"))
        return np.stack([pitch, yaw, np.zeros_like(yaw)], axis=1)

    return eye("Left", 1.0), eye("Right", -1.0)


def head_and_eye_angles(poses: np.ndarray) -> np.ndarray:
    """poses (T,55,3) → (T,9) radians: head yaw/pitch/roll relative to the chest (spine3), then each eye's
    yaw/pitch/roll relative to the head — the Live Link Face pose columns.

    Yaw turns toward the body's left, pitch looks down, roll tilts toward the body's left.
    Head relative to chest is neck·head (local rotations); eyes are already local to the head.
    """
    local = axis_angle_to_matrix(poses[:, (NECK, HEAD, LEFT_EYE, RIGHT_EYE)].astype(np.float64))  # (T,4,3,3)
    out = np.zeros((poses.shape[0], 9))
    for k, m in enumerate((local[:, 0] @ local[:, 1], local[:, 2], local[:, 3])):
        yaw, pitch, roll = matrix_to_euler(m, "YXZ").T
        out[:, 3 * k:3 * k + 3] = np.stack([yaw, pitch, -roll], axis=1)
    return out
