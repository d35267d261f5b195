"""Pose-bone rotations in each bone's own rotation mode, from quaternions. Pure numpy.

Blender stores a pose bone's rotation in one of: `QUATERNION` (w, x, y, z), `AXIS_ANGLE`
(angle, x, y, z) or an Euler order `XYZ` … `ZYX`, where Blender's 'XYZ' rotates about X first:
R = Rz(z) · Ry(y) · Rx(x). Keying a bone in the mode it already has means Orator never changes
`rotation_mode`, so an action the user keyed in Euler still plays after a take was generated.
Euler curves are made continuous frame to frame (the two Euler solutions of each matrix, each
shifted by whole turns towards the previous frame, the nearer one wins), so interpolation between
keys never spins a bone the long way round.
"""
from __future__ import annotations

import numpy as np

from ._backend import rotations

EULER_ORDERS = ("XYZ", "XZY", "YXZ", "YZX", "ZXY", "ZYX")
ROTATION_MODES = ("QUATERNION", "AXIS_ANGLE") + EULER_ORDERS
TWO_PI = 2.0 * np.pi


def channel_property(mode: str) -> tuple[str, int]:
    """(pose-bone property, number of channels) that carries rotations in `mode`."""
    if mode == "QUATERNION":
        return "rotation_quaternion", 4
    if mode == "AXIS_ANGLE":
        return "rotation_axis_angle", 4
    if mode in EULER_ORDERS:
        return "rotation_euler", 3
    raise ValueError(f"unknown rotation mode {mode!r}")


def matrix_to_blender_euler(m: np.ndarray, order: str) -> np.ndarray:
    """(..., 3, 3) → (..., 3) angles (x, y, z) of Blender Euler `order` (principal solution)."""
    # Blender's order lists the first-applied axis first: R = R_last · … · R_first, which is the
    # intrinsic decomposition in the reversed order.
    reversed_order = order[::-1]
    intrinsic = rotations.matrix_to_euler(m, reversed_order)[..., ::-1]    # angles in Blender's order
    out = np.empty_like(intrinsic)
    for slot, axis in enumerate(order):
        out[..., "XYZ".index(axis)] = intrinsic[..., slot]
    return out


def blender_euler_to_matrix(angles: np.ndarray, order: str) -> np.ndarray:
    """(..., 3) angles (x, y, z) of Blender Euler `order` → (..., 3, 3)."""
    angles = np.asarray(angles, dtype=np.float64)
    out = np.broadcast_to(np.eye(3), angles.shape[:-1] + (3, 3)).copy()
    for axis in order:
        aa = np.zeros(angles.shape[:-1] + (3,))
        i = "XYZ".index(axis)
        aa[..., i] = angles[..., i]
        out = rotations.axis_angle_to_matrix(aa) @ out
    return out


def _alternative(angles: np.ndarray, order: str) -> np.ndarray:
    """The other Euler solution of the same rotation: first and last axes + π, middle π − angle."""
    alt = angles.copy()
    first, mid, last = ("XYZ".index(a) for a in order)
    alt[..., first] += np.pi
    alt[..., mid] = np.pi - alt[..., mid]
    alt[..., last] += np.pi
    return alt


def _towards(angles: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """angles shifted by whole turns, per component, to lie within π of previous."""
    return angles + TWO_PI * np.round((previous - angles) / TWO_PI)


def quaternions_to_euler(q: np.ndarray, order: str, previous: np.ndarray | None = None) -> np.ndarray:
    """(T, B, 4) quaternions (w, x, y, z) → (T, B, 3) continuous Blender Euler angles in `order`.

    previous: (B, 3) angles the first frame should stay close to (e.g. the bone's current
    `rotation_euler`); None → the principal solution at frame 0.
    """
    if order not in EULER_ORDERS:
        raise ValueError(f"not an Euler order: {order!r}")
    m = rotations.quat_to_matrix(np.asarray(q, dtype=np.float64))
    principal = matrix_to_blender_euler(m, order)
    alternative = _alternative(principal, order)
    out = np.empty_like(principal)
    prev = principal[0] if previous is None else np.asarray(previous, dtype=np.float64)
    for t in range(len(principal)):
        a = _towards(principal[t], prev)
        b = _towards(alternative[t], prev)
        pick_b = np.abs(b - prev).sum(-1) < np.abs(a - prev).sum(-1)
        out[t] = np.where(pick_b[..., None], b, a)
        prev = out[t]
    return out


def quaternions_to_axis_angle(q: np.ndarray) -> np.ndarray:
    """(T, B, 4) sign-continuous quaternions (w, x, y, z) → (T, B, 4) Blender axis-angle
    (angle, x, y, z); a rotation-free frame keeps the previous frame's axis (first: +Y)."""
    q = np.asarray(q, dtype=np.float64)
    v = q[..., 1:]
    s = np.linalg.norm(v, axis=-1)
    angle = 2.0 * np.arctan2(s, q[..., 0])
    out = np.empty(q.shape)
    out[..., 0] = angle
    axis = np.zeros(q.shape[1:-1] + (3,))
    axis[..., 1] = 1.0
    for t in range(len(q)):
        ok = s[t] > 1e-9
        axis = np.where(ok[..., None], v[t] / np.where(ok, s[t], 1.0)[..., None], axis)
        out[t, ..., 1:] = axis
    return out


def rotation_values(q: np.ndarray, mode: str, previous: np.ndarray | None = None) -> np.ndarray:
    """(T, B, 4) quaternions → (T, B, C) values of the mode's property (see `channel_property`)."""
    if mode == "QUATERNION":
        return np.asarray(q, dtype=np.float64)
    if mode == "AXIS_ANGLE":
        return quaternions_to_axis_angle(q)
    return quaternions_to_euler(q, mode, previous)
