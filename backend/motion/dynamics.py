"""Human joint limits and speed envelopes for SMPL-X motion, pure numpy, usable after any engine.

A take from any engine can carry rotations a person cannot make (a forearm twisted 160° or flipping
through its twist in one frame) or transitions faster than a person moves. `enforce_dynamics` repairs
both, in this order, per joint:

 1. hemisphere continuity: quaternion signs follow time, so nothing below wraps;
 2. swing–twist split about the bone (q = swing ⊗ twist, twist about the joint's own bone axis);
    the twist is unwrapped over time and clamped to the joint's range, the swing to its cone;
 3. a speed envelope: the rotation between consecutive frames never exceeds the joint's limit
    (the output lags the input by the shortest rotation until it catches up).

Limits are facts about bodies, in the SMPL-X rest frame (T-pose, left arm along +X). The speed limits
are 1.2 × the maximum local angular speed of real conversational mocap (BEAT2 speaker 2, 64 s, table in
shared docs/metrics.md); joints without a measured maximum get the ceiling of their group.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..vocabulary.skeleton import JOINT_INDEX, NUM_JOINTS
from .rotations import axis_angle_to_quat, quat_conjugate, quat_make_continuous, quat_multiply, quat_to_axis_angle

# Real maximum local angular speeds, rad/s at 30 fps (metrics.md); the envelope adds 20 % headroom.
REAL_MAX_SPEED: dict[str, float] = {
    "spine1": 1.8, "spine2": 1.0, "spine3": 1.5, "neck": 1.8, "head": 1.7,
    "left_collar": 3.1, "right_collar": 2.6, "left_shoulder": 3.7, "right_shoulder": 2.4,
    "left_elbow": 7.6, "right_elbow": 9.4, "left_wrist": 10.4, "right_wrist": 10.2,
    "left_index1": 8.8, "right_index1": 7.5, "left_thumb1": 6.2, "right_thumb1": 6.3,
}
ENVELOPE_HEADROOM = 1.2
FINGER_MAX_SPEED = 8.8  # other finger joints: the fastest measured finger base


@dataclass(frozen=True)
class JointLimit:
    """Range of one joint, left-side convention (the right side is its mirror image).

    axis: twist axis in the joint's local rest frame (along the bone to its child); twist_deg: (lo, hi)
    about it, signed as a right-hand rotation for the left side; swing_deg: the cone the rest of the
    rotation stays inside; max_speed: rad/s between consecutive frames (None = no envelope).
    """

    axis: tuple[float, float, float]
    twist_deg: tuple[float, float]
    swing_deg: float
    max_speed: float | None


def _limit(name: str, axis, twist, swing) -> JointLimit:
    return JointLimit(axis, twist, swing, ENVELOPE_HEADROOM * REAL_MAX_SPEED[name])


_X, _Y = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0)
# Ranges: trunk and neck axial rotation ≈ ±30–45° per segment group, split over three spine joints;
# forearm pronation/supination ≈ 80–90° each way from mid-position, with the rest of the forearm's
# roll carried by the wrist joint in SMPL-X fits; upper-arm axial rotation ≈ ±90°.
LEFT_LIMITS: dict[str, JointLimit] = {
    "spine1": _limit("spine1", _Y, (-25.0, 25.0), 45.0),
    "spine2": _limit("spine2", _Y, (-20.0, 20.0), 35.0),
    "spine3": _limit("spine3", _Y, (-20.0, 20.0), 35.0),
    "neck": _limit("neck", _Y, (-45.0, 45.0), 50.0),
    "head": _limit("head", _Y, (-45.0, 45.0), 50.0),
    "left_collar": _limit("left_collar", _X, (-25.0, 25.0), 35.0),
    "left_shoulder": _limit("left_shoulder", _X, (-100.0, 100.0), 160.0),
    "left_elbow": _limit("left_elbow", _X, (-115.0, 115.0), 150.0),
    "left_wrist": _limit("left_wrist", _X, (-60.0, 60.0), 90.0),
}


def _axial_mirror(v: tuple[float, float, float]) -> tuple[float, float, float]:
    """A rotation axis mirrored through the sagittal plane (x → −x for positions is (x, −y, −z) for axes)."""
    return (v[0], -v[1], -v[2])


def default_limits() -> dict[int, JointLimit]:
    """Joint index → JointLimit for the trunk, neck, head and both arms (right side mirrored)."""
    out: dict[int, JointLimit] = {}
    for name, lim in LEFT_LIMITS.items():
        out[JOINT_INDEX[name]] = lim
        if name.startswith("left_"):
            right = "right_" + name.removeprefix("left_")
            out[JOINT_INDEX[right]] = JointLimit(_axial_mirror(lim.axis), lim.twist_deg, lim.swing_deg,
                                                 ENVELOPE_HEADROOM * REAL_MAX_SPEED[right])
    return out


def default_speed_limits() -> np.ndarray:
    """(55,) rad/s envelope per joint (inf where none): limited joints, plus every finger joint."""
    speeds = np.full(NUM_JOINTS, np.inf)
    for j, lim in default_limits().items():
        speeds[j] = np.inf if lim.max_speed is None else lim.max_speed
    for side in ("left", "right"):
        for finger in ("index", "middle", "pinky", "ring", "thumb"):
            for seg in (1, 2, 3):
                name = f"{side}_{finger}{seg}"
                speeds[JOINT_INDEX[name]] = ENVELOPE_HEADROOM * REAL_MAX_SPEED.get(name, FINGER_MAX_SPEED)
    return speeds


# ---------------------------------------------------------------------------------------------
# Swing–twist.

def swing_twist(q: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split rotations into swing ⊗ twist, the twist about `axis`.

    q (..., 4) unit quaternions (w, x, y, z); axis (3,) or (..., 3) unit vector in the same local frame.
    Returns swing (..., 4) (a rotation about an axis ⟂ `axis`) and twist (..., 4) (about `axis`), with
    q == swing ⊗ twist. Where the swing is 180° the twist is undefined; it is returned as identity.
    """
    q = np.asarray(q, np.float64)
    axis = np.broadcast_to(np.asarray(axis, np.float64), q.shape[:-1] + (3,))
    proj = np.sum(q[..., 1:] * axis, axis=-1, keepdims=True)
    twist = np.concatenate([q[..., :1], proj * axis], axis=-1)
    norm = np.linalg.norm(twist, axis=-1, keepdims=True)
    identity = np.zeros_like(twist)
    identity[..., 0] = 1.0
    twist = np.where(norm > 1e-9, twist / np.maximum(norm, 1e-12), identity)
    swing = quat_multiply(q, quat_conjugate(twist))
    return swing, twist


def twist_angle(q: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """(..., 4) quaternions → (...,) signed twist about `axis` in radians, in (−π, π]."""
    q = np.asarray(q, np.float64)
    q = np.where(q[..., :1] < 0, -q, q)
    axis = np.broadcast_to(np.asarray(axis, np.float64), q.shape[:-1] + (3,))
    proj = np.sum(q[..., 1:] * axis, axis=-1)
    return 2.0 * np.arctan2(proj, q[..., 0])


def unwrapped_twist(q: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """(T, 4) quaternions over time → (T,) twist about `axis` (rad), continuous in time.

    The twist of hemisphere-continuous quaternions, unwrapped, then shifted by whole turns so its
    median lies in (−π, π] (a forearm does not wind up; a long run beyond ±π is the wrap, not a turn).
    """
    qc = quat_make_continuous(np.asarray(q, np.float64))
    proj = np.sum(qc[:, 1:] * np.asarray(axis, np.float64), axis=-1)
    theta = 2.0 * np.unwrap(np.arctan2(proj, qc[:, 0]))
    if len(theta):
        theta -= 2.0 * np.pi * np.round(np.median(theta) / (2.0 * np.pi))
    return theta


def twist_jumps(poses: np.ndarray, joints: dict[int, JointLimit] | None = None) -> np.ndarray:
    """(T, 55, 3) axis-angle → (T − 1, len(joints)) twist change between consecutive frames, radians.

    The angle of the relative rotation between consecutive twists (about each joint's bone axis), so a
    sign flip of the representation is no jump but a forearm rolling through 160° in one frame is.
    """
    joints = default_limits() if joints is None else joints
    out = []
    for j, lim in joints.items():
        _, tw = swing_twist(axis_angle_to_quat(np.asarray(poses)[:, j]), np.asarray(lim.axis))
        rel = quat_multiply(quat_conjugate(tw[:-1]), tw[1:])
        out.append(2.0 * np.arctan2(np.linalg.norm(rel[:, 1:], axis=-1), np.abs(rel[:, 0])))
    return np.stack(out, axis=1) if out else np.zeros((max(len(poses) - 1, 0), 0))


# ---------------------------------------------------------------------------------------------
# Limits and envelope.

def _about(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    half = 0.5 * np.asarray(angle)[..., None]
    return np.concatenate([np.cos(half), np.sin(half) * axis], axis=-1)


def clamp_joint(q: np.ndarray, limit: JointLimit) -> np.ndarray:
    """(T, 4) one joint's rotations over time → (T, 4) with twist and swing inside `limit`."""
    axis = np.asarray(limit.axis, np.float64)
    q = quat_make_continuous(np.asarray(q, np.float64))
    swing, _ = swing_twist(q, axis)
    lo, hi = np.radians(limit.twist_deg)
    theta = np.clip(unwrapped_twist(q, axis), lo, hi)
    swing_aa = quat_to_axis_angle(swing)
    angle = np.linalg.norm(swing_aa, axis=-1, keepdims=True)
    cap = np.radians(limit.swing_deg)
    swing_aa = np.where(angle > cap, swing_aa * (cap / np.maximum(angle, 1e-12)), swing_aa)
    return quat_multiply(axis_angle_to_quat(swing_aa), _about(axis, theta))


def _angle(rel: np.ndarray) -> np.ndarray:
    return 2.0 * np.arctan2(np.linalg.norm(rel[..., 1:], axis=-1), np.abs(rel[..., 0]))


def speed_envelope(q: np.ndarray, max_step: float) -> np.ndarray:
    """(T, 4) rotations → (T, 4) whose consecutive frames differ by at most max_step radians.

    Where the input moves faster, the output follows it along the shortest rotation at max_step per
    frame until it has caught up; elsewhere the input is returned as is. Only the runs that need it are
    walked frame by frame, so a take that already respects the envelope costs one vectorised pass.
    """
    q = quat_make_continuous(np.asarray(q, np.float64))
    if len(q) < 2 or not np.isfinite(max_step):
        return q
    step = _angle(quat_multiply(quat_conjugate(q[:-1]), q[1:]))
    fast = np.flatnonzero(step > max_step * (1.0 + 1e-9))
    out = q.copy()
    t, n = (int(fast[0]) + 1 if len(fast) else len(q)), len(q)
    while t < n:
        rel = quat_multiply(quat_conjugate(out[t - 1]), q[t])
        if rel[0] < 0:
            rel = -rel
        angle = float(_angle(rel))
        if angle <= max_step:
            out[t] = q[t] if np.dot(out[t - 1], q[t]) >= 0 else -q[t]
            if np.allclose(out[t], q[t]):  # caught up: skip to the next fast frame
                later = fast[fast >= t]
                t = int(later[0]) + 1 if len(later) else n
                continue
        else:
            axis = rel[1:] / max(np.linalg.norm(rel[1:]), 1e-12)
            out[t] = quat_multiply(out[t - 1], _about(axis, max_step))
        t += 1
    return out


def enforce_dynamics(poses: np.ndarray, fps: float, limits: dict[int, JointLimit] | None = None,
                     speed_limits: np.ndarray | None = None) -> np.ndarray:
    """Keep a take inside human joint ranges and speeds.

    poses (T, 55, 3) local axis-angle (any engine; fingers in any convention); fps frames per second;
    limits: joint index → JointLimit (default: default_limits()); speed_limits (55,) rad/s (default:
    default_speed_limits(); inf = free). Returns (T, 55, 3) of poses' dtype. Joints with neither a limit
    nor a finite speed are returned bit-identical; so is every frame already inside the envelope.
    Deterministic, no randomness.
    """
    poses = np.asarray(poses)
    limits = default_limits() if limits is None else limits
    speeds = default_speed_limits() if speed_limits is None else np.asarray(speed_limits, np.float64)
    out = poses.copy()
    for j in range(poses.shape[1]):
        lim = limits.get(j)
        cap = speeds[j] / fps
        if lim is None and not np.isfinite(cap):
            continue
        q = axis_angle_to_quat(poses[:, j])
        fixed = clamp_joint(q, lim) if lim is not None else q
        fixed = speed_envelope(fixed, cap)
        changed = _angle(quat_multiply(quat_conjugate(q), fixed)) > 1e-6
        if changed.any():
            out[changed, j] = quat_to_axis_angle(fixed[changed]).astype(poses.dtype)
    return out
