"""Motion and audio features of the body generator: per-part rot6d features (layout in config.py), root
velocity features, foot contacts and the speech rhythm channels, with their inverses."""
from __future__ import annotations

import numpy as np

from ...audio.features import HOP, log_mel, to_motion_rate
from ...formats.motion_npz import NUM_EXPRESSIONS
from ...vocabulary.rates import AUDIO_RATE, MOTION_FPS
from ...vocabulary.skeleton import HAND_JOINTS, JAW_JOINT, JOINT_INDEX, LOWER_JOINTS, NUM_JOINTS, UPPER_JOINTS
from ...motion.kinematics import forward_kinematics
from ...motion.rotations import axis_angle_to_matrix, matrix_to_axis_angle, matrix_to_rot6d, rot6d_to_matrix
from .config import PART_WIDTHS

CONTACT_JOINTS = (JOINT_INDEX["left_ankle"], JOINT_INDEX["right_ankle"],
                  JOINT_INDEX["left_foot"], JOINT_INDEX["right_foot"])
CONTACT_STEP_M = 0.01           # a foot joint moving less than this per frame is planted (EMAGE)
PART_JOINTS = {"upper": UPPER_JOINTS, "hands": HAND_JOINTS, "lower": LOWER_JOINTS, "face": (JAW_JOINT,)}
RHYTHM_CHANNELS = 2             # amplitude envelope, onset impulses


def foot_contacts(positions: np.ndarray) -> np.ndarray:
    """(T, 55, 3) joint positions → (T, 4) float32 1 where ankle/foot joints move < 1 cm per frame."""
    p = positions[:, list(CONTACT_JOINTS)]
    step = np.linalg.norm(np.diff(p, axis=0, prepend=p[:1]), axis=-1)
    if len(p) > 1:
        step[0] = step[1]
    return (step < CONTACT_STEP_M).astype(np.float32)


def trans_features(trans: np.ndarray, fps: float) -> np.ndarray:
    """(T, 3) root position → (T, 3) (x velocity m/s, absolute y m, z velocity m/s); velocity of frame t
    is trans[t] − trans[t−1] (0 at t = 0), so integrating from trans[0] gives trans back exactly."""
    trans = np.asarray(trans, np.float64)
    vel = np.diff(trans, axis=0, prepend=trans[:1]) * fps
    return np.stack([vel[:, 0], trans[:, 1], vel[:, 2]], axis=1).astype(np.float32)


def integrate_trans(features: np.ndarray, fps: float, start_xz: np.ndarray | None = None) -> np.ndarray:
    """Inverse of trans_features: (T, 3) (vx, y, vz) → (T, 3) positions, x/z starting at start_xz."""
    f = np.asarray(features, np.float64)
    xz = np.cumsum(f[:, [0, 2]] / fps, axis=0)
    xz -= xz[:1]
    if start_xz is not None:
        xz += np.asarray(start_xz, np.float64)
    return np.stack([xz[:, 0], f[:, 1], xz[:, 1]], axis=1).astype(np.float32)


def motion_to_parts(poses: np.ndarray, trans: np.ndarray, expressions: np.ndarray | None, fps: float,
                    parts: tuple[str, ...]) -> dict[str, np.ndarray]:
    """SMPL-X motion → per-part features (see config.py for the layout).

    poses (T,55,3), trans (T,3), expressions (T,≥100) or None → {part: (T, width) float32}.
    """
    poses = np.asarray(poses, np.float64)
    t = len(poses)
    r6 = matrix_to_rot6d(axis_angle_to_matrix(poses)).astype(np.float32)  # (T,55,6)
    out = {}
    for part in parts:
        if part == "face":
            expr = np.zeros((t, NUM_EXPRESSIONS), np.float32) if expressions is None else \
                np.asarray(expressions, np.float32)[:, :NUM_EXPRESSIONS]
            if expr.shape[1] < NUM_EXPRESSIONS:
                expr = np.pad(expr, ((0, 0), (0, NUM_EXPRESSIONS - expr.shape[1])))
            out[part] = np.concatenate([r6[:, JAW_JOINT], expr], axis=1)
        elif part == "lower":
            _, pos = forward_kinematics(poses, np.asarray(trans, np.float64))
            out[part] = np.concatenate([r6[:, list(LOWER_JOINTS)].reshape(t, -1), trans_features(trans, fps),
                                        foot_contacts(pos)], axis=1)
        else:
            out[part] = r6[:, list(PART_JOINTS[part])].reshape(t, -1)
        assert out[part].shape[1] == PART_WIDTHS[part]
    return out


def parts_to_poses(parts: dict[str, np.ndarray], n_frames: int) -> np.ndarray:
    """Per-part features → (T, 55, 3) float32 axis-angle; joints of absent parts stay zero (rest / mean
    relaxed hand). Trans and contact channels are ignored here (see global_motion)."""
    poses = np.zeros((n_frames, NUM_JOINTS, 3), np.float32)
    for part, feats in parts.items():
        joints = list(PART_JOINTS[part])
        r6 = np.asarray(feats[:, :6 * len(joints)], np.float64).reshape(n_frames, len(joints), 6)
        poses[:, joints] = matrix_to_axis_angle(rot6d_to_matrix(r6)).astype(np.float32)
    return poses


def rhythm_features(samples16k: np.ndarray, n_frames: int, fps: int = MOTION_FPS) -> np.ndarray:
    """Amplitude envelope and onset impulses of speech at the motion rate.

    samples16k (N,) → (n_frames, 2) float32: [0] log-mel energy scaled to 0..1 over the clip's
    5th..99th percentile; [1] 1 on frames holding a spectral-flux peak that stands out of its
    surroundings, else 0.
    """
    mel = log_mel(np.asarray(samples16k, np.float32))
    energy = np.log(np.exp(mel).sum(axis=1) + 1e-6)
    lo, hi = np.percentile(energy, [5, 99]) if len(energy) else (0.0, 1.0)
    env = np.clip((energy - lo) / max(hi - lo, 1e-3), 0.0, 1.0)
    flux = np.maximum(np.diff(mel, axis=0, prepend=mel[:1]), 0.0).mean(axis=1)
    ref = np.percentile(flux, 98) if len(flux) else 1.0
    flux = flux / max(ref, 1e-6)
    k = np.arange(1, len(flux) - 1)
    is_peak = np.zeros(len(flux), bool)
    is_peak[k] = (flux[k] > flux[k - 1]) & (flux[k] >= flux[k + 1]) & (flux[k] > 0.3) & (env[k] > 0.2)
    impulses = np.zeros(n_frames, np.float32)
    frames = np.clip(np.round(np.flatnonzero(is_peak) * HOP / AUDIO_RATE * fps).astype(int), 0, max(n_frames - 1, 0))
    impulses[frames] = 1.0
    return np.stack([to_motion_rate(env, n_frames, fps), impulses], axis=1).astype(np.float32)
