"""Blending masked keyframe prompts into a generated take (see keyframes.py for what a prompt is).

`apply_prompts` is engine-agnostic and runs on every engine's output: a fixed channel equals its
target on every fixed frame. Runs of consecutive fixed frames are spans; two spans of one channel
closer than their transitions are bridged (the target moves from one to the other with
minimum-jerk timing). Around each span the generated motion eases into and out of the target with a
minimum-jerk weight (quaternion slerp for rotations), over a transition long enough that the blend adds
at most 2 × the local median speed of the generated channel (floored, see SpeedPolicy), never
shorter than 0.4 s. Channels without prompts are untouched, so they keep following the speech.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..motion.kinematics import local_angular_speed
from ..motion.rotations import axis_angle_to_quat, quat_conjugate, quat_multiply, quat_power, quat_to_axis_angle
from ..vocabulary.rates import MOTION_FPS
from .keyframes import DensePrompts, Prompts, check_prompt_frames


@dataclass(frozen=True)
class SpeedPolicy:
    """How fast transitions into and out of a span may move.

    A transition of Δ over R seconds with minimum-jerk timing peaks at 1.875·Δ/R; R is chosen so that
    peak ≤ ratio × max(local median speed of the generated channel over ±window_s, floor), then
    clipped to [min_s, max_s]. Floors: typical relaxed speeds of each kind of channel.
    """

    ratio: float = 2.0
    window_s: float = 1.0
    min_s: float = 0.4
    max_s: float = 3.0
    rotation_floor: float = 1.0   # rad/s
    trans_floor: float = 0.3      # m/s
    arkit_floor: float = 2.0      # weight units per second


MIN_JERK_PEAK = 1.875  # max of d/du (10u³ − 15u⁴ + 6u⁵)


def minimum_jerk(u: np.ndarray) -> np.ndarray:
    """(...) u ∈ [0, 1] → (...) 10u³ − 15u⁴ + 6u⁵: 0 → 1 with zero velocity and acceleration at both ends."""
    u = np.clip(u, 0.0, 1.0)
    return u * u * u * (10.0 + u * (-15.0 + 6.0 * u))


def spans(mask: np.ndarray) -> list[tuple[int, int]]:
    """(T,) bool → [(first, last)] inclusive frame ranges of consecutive True values."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    edges = np.flatnonzero(m[1:] != m[:-1])
    return [(int(a), int(b) - 1) for a, b in zip(edges[0::2], edges[1::2])]


def _local_median_speed(values: np.ndarray, frame: int, half: int, rotation: bool, fps: float) -> np.ndarray:
    """values (T, C, D) → (C,) median speed over frames [frame − half, frame + half] (only that window
    is differentiated, so hour-long takes cost nothing extra)."""
    lo, hi = max(frame - half, 0), min(frame + half + 2, len(values))
    return np.median(_speed(values[lo:hi], rotation, fps), axis=0)


def _distance(a: np.ndarray, b: np.ndarray, rotation: bool) -> np.ndarray:
    """(..., D) values → (...,) geodesic angle (rotations as axis-angle) or absolute difference."""
    if rotation:
        rel = quat_multiply(quat_conjugate(axis_angle_to_quat(a)), axis_angle_to_quat(b))
        return 2.0 * np.arctan2(np.linalg.norm(rel[..., 1:], axis=-1), np.abs(rel[..., 0]))
    return np.linalg.norm(np.asarray(a, np.float64) - np.asarray(b, np.float64), axis=-1)


def _interpolate(a: np.ndarray, b: np.ndarray, w: np.ndarray, rotation: bool,
                 frames: np.ndarray | None = None, weight: np.ndarray | None = None) -> np.ndarray:
    """(N, C, D) a, b and (N, C) weights → (N, C, D): slerp for axis-angle rotations, else lerp.

    frames (N,) frame numbers and weight (N,) blend weights of transition rows: each run of consecutive
    frames then keeps one way round (hemisphere continuity of the relative rotation, decided at the
    run's end next to the span, where the weight is highest). Without it every row goes the short way
    on its own, and where the generated motion passes 180° away from the target the blend flips to the
    other side in one frame (a prompt "pop": 0.35 m of hand travel in a frame, 40 frames after a span).
    """
    if not rotation:
        return a + w[..., None] * (b - a)
    qa = axis_angle_to_quat(a)
    rel = quat_multiply(quat_conjugate(qa), axis_angle_to_quat(b))
    rel = np.where(rel[..., :1] < 0, -rel, rel)  # the short way round
    if frames is not None and len(rel) > 1:
        breaks = np.flatnonzero(np.diff(frames) != 1) + 1
        for run in np.split(np.arange(len(rel)), breaks):
            order = run[::-1] if weight[run[-1]] >= weight[run[0]] else run  # from the span outward
            for prev, cur in zip(order[:-1], order[1:]):
                flip = np.sum(rel[cur] * rel[prev], axis=-1) < 0
                rel[cur][flip] *= -1.0
    return quat_to_axis_angle(quat_multiply(qa, quat_power(rel, w)))  # quat_slerp with this run's way round


def _speed(values: np.ndarray, rotation: bool, fps: float) -> np.ndarray:
    """(T, C, D) → (T, C) per-channel speed per second (rotations: local angular speed)."""
    if len(values) < 2:
        return np.zeros(values.shape[:2])
    if rotation:
        s = local_angular_speed(values, fps)
        return np.concatenate([s, s[-1:]], axis=0)
    return np.linalg.norm(np.gradient(values, 1.0 / fps, axis=0), axis=-1)


def blend_channels(generated: np.ndarray, given: np.ndarray, targets: np.ndarray, rotation: bool, floor: float,
                   fps: float, policy: SpeedPolicy = SpeedPolicy()) -> np.ndarray:
    """Ease generated channels into the given targets.

    generated (T, C, D) (rotations: D = 3 axis-angle); given (T, C) bool; targets (T, C, D), read
    where given. Channels sharing the same given frames move together (one transition length per span
    edge, the longest any of them needs). Returns (T, C, D) float64 with out[given] == targets[given].
    """
    generated = np.asarray(generated, np.float64)
    out = generated.copy()
    t_frames = len(generated)
    if t_frames == 0 or not given.any():
        return out
    half = int(round(policy.window_s * fps))
    frames = np.arange(t_frames)
    patterns, group_of = np.unique(given.T, axis=0, return_inverse=True)
    for g, pattern in enumerate(patterns):
        if not pattern.any():
            continue
        chans = np.flatnonzero(group_of.reshape(-1) == g)
        gen, tgt = generated[:, chans], targets[:, chans].astype(np.float64)

        def ramp_frames(edge: int, direction: int) -> int:
            """Transition length before (direction −1) or after (+1) a span edge. The distance to cover
            is the largest between the target and the generated motion over the transition itself, so
            it is refined a few times (the transition only grows)."""
            cap = policy.ratio * np.maximum(_local_median_speed(gen, edge, half, rotation, fps), floor)  # (C,)
            frames_needed = int(np.ceil(policy.min_s * fps))
            for _ in range(4):
                lo, hi = sorted((edge, int(np.clip(edge + direction * frames_needed, 0, t_frames - 1))))
                delta = _distance(gen[lo:hi + 1], tgt[edge][None], rotation).max(axis=0)      # (C,)
                seconds = float(np.clip(np.max(MIN_JERK_PEAK * delta / cap), policy.min_s, policy.max_s))
                grown = int(np.ceil(seconds * fps))
                if grown <= frames_needed:
                    break
                frames_needed = grown
            return frames_needed

        runs = [[a, b, ramp_frames(a, -1), ramp_frames(b, 1)] for a, b in spans(pattern)]
        merged = [runs[0]]
        for a, b, r_in, r_out in runs[1:]:
            prev = merged[-1]
            if a - prev[1] <= prev[3] + r_in:  # too close to ease out and back in: bridge the gap
                u = minimum_jerk((frames[prev[1] + 1:a] - prev[1]) / (a - prev[1]))
                tgt[prev[1] + 1:a] = _interpolate(np.broadcast_to(tgt[prev[1]], (a - prev[1] - 1, *tgt.shape[1:])),
                                                  np.broadcast_to(tgt[a], (a - prev[1] - 1, *tgt.shape[1:])),
                                                  np.broadcast_to(u[:, None], (len(u), len(chans))), rotation)
                prev[1], prev[3] = b, r_out
            else:
                merged.append([a, b, r_in, r_out])
        weight = np.zeros(t_frames)
        for a, b, r_in, r_out in merged:
            weight[a:b + 1] = 1.0
            lo = max(a - r_in + 1, 0)
            weight[lo:a] = np.maximum(weight[lo:a], minimum_jerk(1.0 - (a - frames[lo:a]) / r_in))
            tgt[lo:a] = tgt[a]
            hi = min(b + r_out, t_frames)
            weight[b + 1:hi] = np.maximum(weight[b + 1:hi], minimum_jerk(1.0 - (frames[b + 1:hi] - b) / r_out))
            tgt[b + 1:hi] = tgt[b]
        moving = np.flatnonzero((weight > 0) & (weight < 1))
        inside = np.flatnonzero(weight >= 1)
        w = np.broadcast_to(weight[moving, None], (len(moving), len(chans)))
        out[moving[:, None], chans[None, :]] = _interpolate(gen[moving], tgt[moving], w, rotation, moving,
                                                            weight[moving])
        out[inside[:, None], chans[None, :]] = tgt[inside]
    exact = np.asarray(given, bool)
    out[exact] = targets[exact]  # bit-exact on the given frames
    return out


def apply_prompts(poses: np.ndarray, trans: np.ndarray, arkit: np.ndarray, prompts: Prompts | DensePrompts,
                  fps: float = MOTION_FPS, policy: SpeedPolicy = SpeedPolicy()) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Make a take honour the prompts; returns new (poses (T,55,3), trans (T,3), arkit (T,52)) float32.

    prompts: as read, or already spread over the take's T frames (the pipeline densifies once per job).
    Fixed channels equal their targets on fixed frames; transitions around spans are minimum-jerk
    (see SpeedPolicy); channels and frames the prompts do not touch are returned unchanged.
    """
    poses = np.asarray(poses, np.float32)
    trans = np.asarray(trans, np.float32)
    arkit = np.asarray(arkit, np.float32)
    t_frames = len(poses)
    if isinstance(prompts, DensePrompts):
        if prompts.n_frames != t_frames:
            raise ValueError(f"prompts spread over {prompts.n_frames} frames, the take has {t_frames}")
        d = prompts
    else:
        check_prompt_frames(prompts, t_frames)
        d = prompts.dense(t_frames)
    joints = d.pose_mask.any(axis=0)  # only prompted joints are blended (and copied)
    out_poses = poses.copy()
    out_poses[:, joints] = blend_channels(poses[:, joints], d.pose_mask[:, joints], d.poses[:, joints], True,
                                          policy.rotation_floor, fps, policy)
    out_trans = blend_channels(trans[:, None], d.trans_mask[:, None], d.trans[:, None], False, policy.trans_floor,
                               fps, policy)[:, 0]
    out_arkit = blend_channels(arkit[..., None], d.arkit_mask, d.arkit[..., None], False, policy.arkit_floor,
                               fps, policy)[..., 0]
    # channels without prompts keep their exact generated values (no float64 round trip)
    if not d.trans_mask.any():
        out_trans = trans
    untouched = ~d.arkit_mask.any(axis=0)
    out_arkit[:, untouched] = arkit[:, untouched]
    return out_poses.astype(np.float32), out_trans.astype(np.float32), out_arkit.astype(np.float32)
