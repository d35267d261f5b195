"""Rotation conversions, pure numpy. Every function takes batches: leading dims `...` are kept.

Quaternions are (w, x, y, z). Axis-angle is a 3-vector whose norm is the angle in radians.
"""
from __future__ import annotations

import numpy as np

_EPS = 1e-8


def axis_angle_to_quat(aa: np.ndarray) -> np.ndarray:
    """(..., 3) axis-angle → (..., 4) unit quaternion (w, x, y, z)."""
    aa = np.asarray(aa, dtype=np.float64)
    angle = np.linalg.norm(aa, axis=-1, keepdims=True)
    half = 0.5 * angle
    # sin(half)/angle, with its Taylor limit 0.5 near zero
    k = np.where(angle > _EPS, np.sin(half) / np.maximum(angle, _EPS), 0.5 - angle**2 / 48.0)
    return np.concatenate([np.cos(half), aa * k], axis=-1)


def quat_to_axis_angle(q: np.ndarray) -> np.ndarray:
    """(..., 4) quaternion (w, x, y, z) → (..., 3) axis-angle with angle in [0, π]."""
    q = np.asarray(q, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    q = np.where(q[..., :1] < 0, -q, q)  # shortest arc
    s = np.linalg.norm(q[..., 1:], axis=-1, keepdims=True)
    angle = 2.0 * np.arctan2(s, q[..., :1])
    k = np.where(s > _EPS, angle / np.maximum(s, _EPS), 2.0)
    return q[..., 1:] * k


def quat_multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product a⊗b of (..., 4) quaternions (apply b, then a)."""
    aw, ax, ay, az = np.moveaxis(np.asarray(a, dtype=np.float64), -1, 0)
    bw, bx, by, bz = np.moveaxis(np.asarray(b, dtype=np.float64), -1, 0)
    return np.stack([
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    ], axis=-1)


def quat_conjugate(q: np.ndarray) -> np.ndarray:
    """(..., 4) → (..., 4) inverse of a unit quaternion."""
    q = np.asarray(q, dtype=np.float64)
    return q * np.array([1.0, -1.0, -1.0, -1.0])


def quat_power(q: np.ndarray, t: np.ndarray | float) -> np.ndarray:
    """(..., 4) unit quaternion q, exponent t broadcastable to (...) → (..., 4) q^t: the rotation about q's
    axis by t times its angle. q with w < 0 goes the long way round (angle beyond π); callers that want the
    short way flip it first, as quat_slerp does."""
    q = np.asarray(q, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    half = np.arctan2(np.linalg.norm(q[..., 1:], axis=-1), q[..., 0])  # in [0, π]
    axis = q[..., 1:] / np.maximum(np.linalg.norm(q[..., 1:], axis=-1, keepdims=True), 1e-12)
    return np.concatenate([np.cos(t * half)[..., None], np.sin(t * half)[..., None] * axis], axis=-1)


def quat_slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray | float) -> np.ndarray:
    """Spherical linear interpolation, the short way round: (..., 4) unit quaternions a, b and t
    broadcastable to (...) → (..., 4) a ⊗ (a⁻¹ ⊗ b)^t (t = 0 gives a, t = 1 gives ±b, sign kept near a).

    The project's one slerp: prompt blending (quat_power with its own choice of way round), the add-on's
    frame-rate resampling and the retargeter's fractional chain rotations (a = identity) use it.
    """
    a = np.asarray(a, dtype=np.float64)
    rel = quat_multiply(quat_conjugate(a), b)
    rel = np.where(rel[..., :1] < 0, -rel, rel)  # the short way round
    return quat_multiply(a, quat_power(rel, t))


def quat_make_continuous(q: np.ndarray, axis: int = 0) -> np.ndarray:
    """Flip signs along `axis` (time) so consecutive quaternions have a non-negative dot product.

    q: (T, ..., 4) → same shape. Needed before keying quaternion curves, which interpolate per channel.
    """
    q = np.moveaxis(np.array(q, dtype=np.float64), axis, 0)
    dots = np.sum(q[1:] * q[:-1], axis=-1)
    flips = np.cumsum(dots < 0, axis=0) % 2
    q[1:] *= np.where(flips[..., None] == 1, -1.0, 1.0)
    return np.moveaxis(q, 0, axis)


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """(..., 4) quaternion → (..., 3, 3) rotation matrix."""
    q = np.asarray(q, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
        np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
        np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
    ], -2)


def matrix_to_quat(m: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotation matrix → (..., 4) unit quaternion with w ≥ 0 (numerically robust branch)."""
    m = np.asarray(m, dtype=np.float64)
    m00, m11, m22 = m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]
    trace = m00 + m11 + m22
    cand = np.stack([
        np.stack([1 + trace, m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]], -1),
        np.stack([m[..., 2, 1] - m[..., 1, 2], 1 + m00 - m11 - m22, m[..., 0, 1] + m[..., 1, 0], m[..., 0, 2] + m[..., 2, 0]], -1),
        np.stack([m[..., 0, 2] - m[..., 2, 0], m[..., 0, 1] + m[..., 1, 0], 1 - m00 + m11 - m22, m[..., 1, 2] + m[..., 2, 1]], -1),
        np.stack([m[..., 1, 0] - m[..., 0, 1], m[..., 0, 2] + m[..., 2, 0], m[..., 1, 2] + m[..., 2, 1], 1 - m00 - m11 + m22], -1),
    ], -2)  # (..., 4 candidates, 4)
    diag = np.stack([1 + trace, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22], -1)
    best = np.argmax(diag, axis=-1)
    q = np.take_along_axis(cand, best[..., None, None], axis=-2)[..., 0, :]
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    return np.where(q[..., :1] < 0, -q, q)


def axis_angle_to_matrix(aa: np.ndarray) -> np.ndarray:
    """(..., 3) axis-angle → (..., 3, 3) rotation matrix."""
    return quat_to_matrix(axis_angle_to_quat(aa))


def matrix_to_axis_angle(m: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotation matrix → (..., 3) axis-angle."""
    return quat_to_axis_angle(matrix_to_quat(m))


def matrix_to_rot6d(m: np.ndarray) -> np.ndarray:
    """(..., 3, 3) → (..., 6): the first two columns, as in Zhou et al. / EMAGE."""
    m = np.asarray(m)
    return np.concatenate([m[..., :, 0], m[..., :, 1]], axis=-1)


def rot6d_to_matrix(r6: np.ndarray) -> np.ndarray:
    """(..., 6) → (..., 3, 3) by Gram–Schmidt on the two stored columns."""
    r6 = np.asarray(r6, dtype=np.float64)
    a1, a2 = r6[..., :3], r6[..., 3:]
    b1 = a1 / np.linalg.norm(a1, axis=-1, keepdims=True)
    b2 = a2 - np.sum(b1 * a2, axis=-1, keepdims=True) * b1
    b2 = b2 / np.linalg.norm(b2, axis=-1, keepdims=True)
    b3 = np.cross(b1, b2)
    return np.stack([b1, b2, b3], axis=-1)


def euler_to_matrix(angles: np.ndarray, order: str = "XYZ") -> np.ndarray:
    """(..., 3) intrinsic Euler angles (radians) applied in `order` → (..., 3, 3).

    'XYZ' means R = Rx(a0) @ Ry(a1) @ Rz(a2) (the BVH channel-order convention).
    """
    angles = np.asarray(angles, dtype=np.float64)
    out = np.broadcast_to(np.eye(3), angles.shape[:-1] + (3, 3)).copy()
    for i, axis in enumerate(order.upper()):
        aa = np.zeros(angles.shape[:-1] + (3,))
        aa[..., "XYZ".index(axis)] = angles[..., i]
        out = out @ axis_angle_to_matrix(aa)
    return out


def matrix_to_euler(m: np.ndarray, order: str = "ZXY") -> np.ndarray:
    """(..., 3, 3) → (..., 3) intrinsic Euler angles in `order` (inverse of euler_to_matrix).

    Supports the six Tait–Bryan orders; angles in radians, middle angle in [-π/2, π/2].
    """
    m = np.asarray(m, dtype=np.float64)
    order = order.upper()
    i, j, k = ("XYZ".index(c) for c in order)
    # parity of the permutation decides the signs
    sign = 1.0 if (j - i) % 3 == 1 else -1.0
    mid = np.arcsin(np.clip(sign * m[..., i, k], -1.0, 1.0))
    first = np.arctan2(-sign * m[..., j, k], m[..., k, k])
    last = np.arctan2(-sign * m[..., i, j], m[..., i, i])
    return np.stack([first, mid, last], axis=-1)
