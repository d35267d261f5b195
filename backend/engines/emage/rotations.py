"""Rotation conversions in the exact float32 operation order of the published EMAGE code.

Why not backend/motion/rotations.py: the official matrix → quaternion step takes a square root of
1 ± m00 ± m11 ± m22 for every component, which amplifies float32 rounding near 0 to ~sqrt(eps)
(measured on 200k random rotations: up to 8.6e-4 rad between its float32 and float64 results, while a
stable conversion stays within 1.9e-5). Replicating the sequence makes a port match the official
axis-angle output bit for bit instead of within 1e-3, and the seeds fed to the next window are derived
from that output, so the same numbers flow on. All functions are torch, shapes (..., k).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

SMALL_ANGLE = 1e-6


def rot6d_to_matrix(r6: torch.Tensor) -> torch.Tensor:
    """(..., 6) first two rows → (..., 3, 3) by Gram-Schmidt; rows b1, b2, b1 × b2."""
    b1 = F.normalize(r6[..., 0:3], dim=-1)
    a2 = r6[..., 3:6]
    b2 = F.normalize(a2 - (b1 * a2).sum(-1, keepdim=True) * b1, dim=-1)
    return torch.stack((b1, b2, torch.cross(b1, b2, dim=-1)), dim=-2)


def _root_or_zero(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x > 0, torch.sqrt(torch.clamp(x, min=0.0)), torch.zeros_like(x))


def _with_sign_of(value: torch.Tensor, sign_source: torch.Tensor) -> torch.Tensor:
    """value with its sign flipped where value and sign_source disagree in sign (0 counts as positive)."""
    return torch.where((value < 0) != (sign_source < 0), -value, value)


def matrix_to_quaternion(m: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) → (..., 4) w, x, y, z: each magnitude from the diagonal, x/y/z signs from off-diagonals."""
    d0, d1, d2 = m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]
    w = 0.5 * _root_or_zero(1 + d0 + d1 + d2)
    x = 0.5 * _root_or_zero(1 + d0 - d1 - d2)
    y = 0.5 * _root_or_zero(1 - d0 + d1 - d2)
    z = 0.5 * _root_or_zero(1 - d0 - d1 + d2)
    x = _with_sign_of(x, m[..., 2, 1] - m[..., 1, 2])
    y = _with_sign_of(y, m[..., 0, 2] - m[..., 2, 0])
    z = _with_sign_of(z, m[..., 1, 0] - m[..., 0, 1])
    return torch.stack((w, x, y, z), -1)


def _sin_half_over_angle(angle: torch.Tensor, half: torch.Tensor) -> torch.Tensor:
    small = angle.abs() < SMALL_ANGLE
    safe = torch.where(small, torch.ones_like(angle), angle)
    return torch.where(small, 0.5 - angle * angle / 48, torch.sin(half) / safe)


def quaternion_to_axis_angle(q: torch.Tensor) -> torch.Tensor:
    """(..., 4) → (..., 3); the angle from atan2(|xyz|, w), so any norm of q is accepted."""
    half = torch.atan2(torch.norm(q[..., 1:], p=2, dim=-1, keepdim=True), q[..., :1])
    angle = 2 * half
    return q[..., 1:] / _sin_half_over_angle(angle, half)


def rot6d_to_axis_angle(r6: torch.Tensor) -> torch.Tensor:
    return quaternion_to_axis_angle(matrix_to_quaternion(rot6d_to_matrix(r6)))


def axis_angle_to_quaternion(aa: torch.Tensor) -> torch.Tensor:
    angle = torch.norm(aa, p=2, dim=-1, keepdim=True)
    half = 0.5 * angle
    return torch.cat([torch.cos(half), aa * _sin_half_over_angle(angle, half)], dim=-1)


def quaternion_to_matrix(q: torch.Tensor) -> torch.Tensor:
    r, i, j, k = torch.unbind(q, -1)
    s = 2.0 / (q * q).sum(-1)
    rows = (1 - s * (j * j + k * k), s * (i * j - k * r), s * (i * k + j * r),
            s * (i * j + k * r), 1 - s * (i * i + k * k), s * (j * k - i * r),
            s * (i * k - j * r), s * (j * k + i * r), 1 - s * (i * i + j * j))
    return torch.stack(rows, -1).reshape(q.shape[:-1] + (3, 3))


def axis_angle_to_rot6d(aa: torch.Tensor) -> torch.Tensor:
    """(..., 3) → (..., 6): the first two rows of the rotation matrix, row-major."""
    m = quaternion_to_matrix(axis_angle_to_quaternion(aa))
    return m[..., :2, :].reshape(m.shape[:-2] + (6,))
