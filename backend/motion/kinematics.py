"""Forward kinematics and motion statistics on the SMPL-X skeleton, pure numpy."""
from __future__ import annotations

import numpy as np

from ..vocabulary.skeleton import PARENTS, REST_OFFSETS
from .rotations import axis_angle_to_matrix


def forward_kinematics(poses: np.ndarray, trans: np.ndarray,
                       offsets: np.ndarray | None = None,
                       parents: tuple[int, ...] = PARENTS) -> tuple[np.ndarray, np.ndarray]:
    """Global joint rotations and positions.

    poses: (T, J, 3) axis-angle local rotations; trans: (T, 3) root position;
    offsets: (J, 3) rest offsets from each joint's parent (default: approximate SMPL-X neutral).
    Returns (global_rot (T, J, 3, 3), positions (T, J, 3)). Parents must precede children.
    """
    offsets = np.asarray(REST_OFFSETS if offsets is None else offsets, dtype=np.float64)
    local = axis_angle_to_matrix(poses)
    t, j = poses.shape[:2]
    rot = np.empty((t, j, 3, 3))
    pos = np.empty((t, j, 3))
    for i, p in enumerate(parents):
        if p < 0:
            rot[:, i] = local[:, i]
            pos[:, i] = trans + offsets[i]
        else:
            rot[:, i] = rot[:, p] @ local[:, i]
            pos[:, i] = pos[:, p] + rot[:, p] @ offsets[i]
    return rot, pos


def local_angular_speed(poses: np.ndarray, fps: float) -> np.ndarray:
    """Angle between consecutive local rotations per joint, in rad/s.

    poses: (T, J, 3) axis-angle → (T-1, J).
    """
    m = axis_angle_to_matrix(poses)
    rel = np.einsum("tjab,tjac->tjbc", m[:-1], m[1:])  # R_t^T R_{t+1}
    cos = np.clip((np.trace(rel, axis1=-2, axis2=-1) - 1.0) * 0.5, -1.0, 1.0)
    return np.arccos(cos) * fps
