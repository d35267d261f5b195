"""Objective measures of generated body motion (SMPL-X 55 joints, 30 fps).

Positions come from backend.motion.kinematics.forward_kinematics. Definitions:
- beat consistency (BC) as in docs/metrics.md (EMAGE/BEAT): motion beats = local minima (±7 frames) of
  each upper-body joint's speed where speed / dataset-mean speed > 0.1; BC = mean over joints and audio
  beats of exp(−d² / 2σ²), d = distance to the nearest motion beat, σ = 0.3 s, first/last 2 s skipped.
- upper-body angular speed: mean local angular speed over UPPER_JOINTS and frames (BEAT2: ≈ 0.65 rad/s).
- jitter: mean jerk magnitude (third difference of positions × fps³, m/s³) over upper-body joints.
- root drift: the farthest the root gets (horizontally) from where it was at the start of each minute.
- foot sliding: the largest horizontal travel of a planted foot during one contact.
"""
from __future__ import annotations

import numpy as np
from scipy.signal import argrelextrema

from ..motion.kinematics import local_angular_speed
from ..vocabulary.skeleton import JOINT_INDEX, UPPER_JOINTS

BEAT2_UPPER_ANGULAR_SPEED = 0.65  # rad/s, BEAT2 speaker 2 (docs/formats.md)
FOOT_JOINTS = (JOINT_INDEX["left_ankle"], JOINT_INDEX["right_ankle"],
               JOINT_INDEX["left_foot"], JOINT_INDEX["right_foot"])


def joint_speed(positions: np.ndarray, fps: float) -> np.ndarray:
    """(T, J, 3) positions → (T, J) speed in m/s (central differences inside, one-sided at the ends)."""
    p = np.asarray(positions, dtype=np.float64)
    if len(p) < 2:
        return np.zeros(p.shape[:2])
    v = np.gradient(p, 1.0 / fps, axis=0)
    return np.linalg.norm(v, axis=-1)


def motion_beats(positions: np.ndarray, fps: float, mean_speed: np.ndarray,
                 joints: tuple[int, ...] = UPPER_JOINTS, order: int = 7, threshold: float = 0.1
                 ) -> list[np.ndarray]:
    """Per joint, the times (s) of speed minima (±order frames) among frames moving > threshold × mean.

    positions (T, 55, 3); mean_speed (55,) dataset mean per-joint speed (beat2_mean_joint_speed.npy).
    """
    speed = joint_speed(positions, fps) / np.asarray(mean_speed, dtype=np.float64)[None, :]
    out = []
    for j in joints:
        minima = argrelextrema(speed[:, j], np.less, order=order)[0]
        out.append(minima[speed[minima, j] > threshold] / fps)
    return out


def beat_consistency(positions: np.ndarray, audio_beats: np.ndarray, fps: float, mean_speed: np.ndarray,
                     sigma: float = 0.3, skip_s: float = 2.0) -> float:
    """BC of motion against audio beat times (s); NaN when no audio beat lies inside the scored span."""
    duration = len(positions) / fps
    beats = np.asarray(audio_beats, dtype=np.float64)
    beats = beats[(beats >= skip_s) & (beats <= duration - skip_s)]
    if len(beats) == 0:
        return float("nan")
    scores = []
    for m in motion_beats(positions, fps, mean_speed):
        if len(m) == 0:  # a joint that never moves has no beats to score
            continue
        d = np.min(np.abs(beats[:, None] - m[None, :]), axis=1)
        scores.append(float(np.mean(np.exp(-d * d / (2.0 * sigma * sigma)))))
    return float(np.mean(scores)) if scores else float("nan")


def upper_body_angular_speed(poses: np.ndarray, fps: float) -> float:
    """Mean local angular speed (rad/s) over the 13 upper-body joints and all frames. poses (T, 55, 3)."""
    if len(poses) < 2:
        return 0.0
    return float(local_angular_speed(np.asarray(poses, dtype=np.float64), fps)[:, list(UPPER_JOINTS)].mean())


def jitter(positions: np.ndarray, fps: float, joints: tuple[int, ...] = UPPER_JOINTS) -> float:
    """Mean jerk magnitude in m/s³ over `joints` and frames. positions (T, 55, 3)."""
    p = np.asarray(positions, dtype=np.float64)[:, list(joints)]
    if len(p) < 4:
        return 0.0
    return float(np.linalg.norm(np.diff(p, n=3, axis=0), axis=-1).mean() * fps ** 3)


def root_drift_per_minute(trans: np.ndarray, fps: float) -> float:
    """Largest horizontal distance (m) the root gets from its position at the start of any minute.

    trans (T, 3) Y up. Clips shorter than a minute count as one window.
    """
    xz = np.asarray(trans, dtype=np.float64)[:, [0, 2]]
    window = int(round(60 * fps))
    worst = 0.0
    for f0 in range(0, max(len(xz), 1), window):
        part = xz[f0:f0 + window]
        if len(part):
            worst = max(worst, float(np.max(np.linalg.norm(part - part[0], axis=-1))))
    return worst


def foot_sliding(positions: np.ndarray, fps: float, contact_height_m: float = 0.03,
                 contact_speed: float = 0.2) -> float:
    """Largest horizontal travel (m) of an ankle/foot joint during one ground contact.

    A joint is in contact on frames where it is within contact_height_m of its lowest height in the clip
    and moves slower than contact_speed (m/s). positions (T, 55, 3).
    """
    p = np.asarray(positions, dtype=np.float64)
    speed = joint_speed(p, fps)
    worst = 0.0
    for j in FOOT_JOINTS:
        y = p[:, j, 1]
        contact = (y <= y.min() + contact_height_m) & (speed[:, j] < contact_speed)
        edges = np.flatnonzero(np.diff(np.concatenate([[0], contact.astype(int), [0]])))
        for start, end in zip(edges[::2], edges[1::2]):
            xz = p[start:end, j][:, [0, 2]]
            worst = max(worst, float(np.max(np.linalg.norm(xz - xz[0], axis=-1))))
    return worst
