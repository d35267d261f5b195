"""The idle layer of the built-in body: breathing, weight shifts over planted feet, small sway.

Everything here is a pure function of the frame count, fps and a random generator, returned as
full-length curves (a handful of channels, cheap even for an hour). Angles are in degrees in the
body's own terms (pitch + = forward/down, yaw + = toward the body's left, roll + = left side up);
body.py turns them into joint rotations and keeps the feet planted with leg IK.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def min_jerk(u: np.ndarray) -> np.ndarray:
    """Minimum-jerk blend 10u³ − 15u⁴ + 6u⁵ of u clipped to 0..1 (zero velocity and acceleration at both ends)."""
    u = np.clip(u, 0.0, 1.0)
    return u * u * u * (10.0 + u * (-15.0 + 6.0 * u))


def interpolate_min_jerk(key_t: np.ndarray, key_v: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Value of a key track at times t, minimum-jerk between consecutive keys, held outside them.

    key_t (K,) strictly increasing seconds, K ≥ 1; key_v (K, C); t (N,) → (N, C).
    """
    key_t = np.asarray(key_t, dtype=np.float64)
    key_v = np.asarray(key_v, dtype=np.float64)
    if len(key_t) == 1:
        return np.broadcast_to(key_v[0], (len(t), key_v.shape[1])).copy()
    i = np.clip(np.searchsorted(key_t, t, side="right") - 1, 0, len(key_t) - 2)
    t0, t1 = key_t[i], key_t[i + 1]
    s = min_jerk((t - t0) / (t1 - t0))[:, None]
    return key_v[i] + s * (key_v[i + 1] - key_v[i])


def interpolate_hermite(key_t: np.ndarray, key_v: np.ndarray, key_m: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Quintic Hermite through keys with given velocities and zero acceleration at each key (C²).

    key_t (K,) strictly increasing, K ≥ 2; key_v (K, C) values; key_m (K, C) velocities per second;
    t (N,) → (N, C), held outside the keys. With all velocities zero this is minimum-jerk.
    """
    key_t = np.asarray(key_t, dtype=np.float64)
    i = np.clip(np.searchsorted(key_t, t, side="right") - 1, 0, len(key_t) - 2)
    span = key_t[i + 1] - key_t[i]
    u = np.clip((t - key_t[i]) / span, 0.0, 1.0)[:, None]
    u3 = u * u * u
    h_p1 = u3 * (10.0 + u * (-15.0 + 6.0 * u))
    h_m0 = u + u3 * (-6.0 + u * (8.0 - 3.0 * u))
    h_m1 = u3 * (-4.0 + u * (7.0 - 3.0 * u))
    sp = span[:, None]
    return (key_v[i] + h_p1 * (key_v[i + 1] - key_v[i])
            + h_m0 * sp * key_m[i] + h_m1 * sp * key_m[i + 1])


def catmull_rom_velocities(key_t: np.ndarray, key_v: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Key velocities (K, C): scale_k × (v[k+1] − v[k−1]) / (t[k+1] − t[k−1]); zero at the ends."""
    m = np.zeros_like(key_v, dtype=np.float64)
    if len(key_t) > 2:
        m[1:-1] = (key_v[2:] - key_v[:-2]) / (key_t[2:] - key_t[:-2])[:, None]
    return m * np.asarray(scale, dtype=np.float64)[:, None]


def smooth_noise(n_frames: int, fps: float, period_s: float, rng: np.random.Generator,
                 n_channels: int = 1) -> np.ndarray:
    """Band-limited random curves: unit-variance knots every period_s, min-jerk between them.

    → (n_frames, n_channels), C² smooth, zero mean on average, values within about ±2.5.
    """
    n_knots = int(np.ceil(n_frames / fps / period_s)) + 2
    knots = rng.standard_normal((n_knots, n_channels))
    offset = rng.uniform(0.0, period_s)  # so knots of different takes do not line up
    t = np.arange(n_frames) / fps + offset
    return interpolate_min_jerk(np.arange(n_knots) * period_s, knots, t)


@dataclass(frozen=True)
class IdleParams:
    breath_period_s: float = 4.2         # about 14 breaths a minute
    breath_spine_deg: float = 1.2        # chest lift per breath (spine2/3 extension)
    breath_shrug_deg: float = 0.9        # shoulders rise with the in-breath
    weight_shift_m: float = 0.025        # pelvis moves this far toward the weighted foot
    weight_shift_every_s: tuple[float, float] = (3.5, 9.0)
    weight_shift_s: float = 1.6          # duration of one shift
    pelvis_roll_per_m: float = 110.0     # deg of pelvis roll per metre of shift (unweighted hip drops)
    sway_m: float = 0.006                # slow forward/back and side sway
    sway_yaw_deg: float = 1.4
    head_drift_deg: float = 3.0
    spine_drift_deg: float = 2.0


@dataclass
class IdleLayer:
    """Idle curves, (T, 3) each unless noted: pelvis_shift metres (x, y, z); angles (pitch, yaw, roll) deg."""

    pelvis_shift: np.ndarray
    pelvis_rot: np.ndarray
    spine: np.ndarray
    head: np.ndarray
    shrug: np.ndarray   # (T,) collar raise, degrees, both sides


def idle_layer(n_frames: int, fps: float, rng: np.random.Generator, params: IdleParams = IdleParams(),
               energy: float = 1.0) -> IdleLayer:
    """Breathing, weight shifts and sway for n_frames; `energy` scales sway and shifts (sad < 1)."""
    t = np.arange(n_frames) / fps
    # Breathing: a slightly irregular rhythm (phase wanders), inhale lifts chest and shoulders.
    phase0 = rng.uniform(0.0, 2.0 * np.pi)
    wander = 0.6 * smooth_noise(n_frames, fps, 3.0, rng)[:, 0]
    breath = 0.5 * (1.0 - np.cos(2.0 * np.pi * t / params.breath_period_s + phase0 + wander))

    # Weight shifts: the pelvis moves between feet at random moments with min-jerk transitions.
    duration = n_frames / fps
    lo, hi = params.weight_shift_every_s
    n_max = int(duration / lo) + 3
    starts = np.cumsum(rng.uniform(lo, hi, n_max)) - rng.uniform(0.0, hi)
    side0 = rng.choice((-1.0, 1.0))
    sides = side0 * np.where(np.arange(n_max) % 2 == 0, 1.0, -1.0) * rng.uniform(0.5, 1.0, n_max)
    # keys at each start (still the previous side) and start + duration (the new side)
    previous = np.concatenate([[-sides[0]], sides[:-1]])
    key_t = np.stack([starts, starts + params.weight_shift_s], axis=1).ravel()
    key_v = np.stack([previous, sides], axis=1).reshape(-1, 1) * params.weight_shift_m * energy
    shift_x = interpolate_min_jerk(key_t, key_v, t)[:, 0]

    noise = smooth_noise(n_frames, fps, 2.5, rng, 4)
    spine_noise = smooth_noise(n_frames, fps, 1.5, rng, 3)
    sway = params.sway_m * energy
    pelvis_shift = np.stack([shift_x + 0.4 * sway * noise[:, 0],
                             np.zeros(n_frames),
                             sway * noise[:, 1]], axis=1)
    roll = params.pelvis_roll_per_m * shift_x
    pelvis_rot = np.stack([0.6 * noise[:, 2],
                           params.sway_yaw_deg * energy * noise[:, 3],
                           roll], axis=1)
    # The spine leans back over the pelvis so the chest stays upright; breathing extends it.
    spine = np.stack([-params.breath_spine_deg * breath + params.spine_drift_deg * energy * spine_noise[:, 0]
                      - 0.5 * pelvis_rot[:, 0],
                      -0.6 * pelvis_rot[:, 1] + params.spine_drift_deg * energy * spine_noise[:, 1],
                      -0.85 * roll + 0.5 * params.spine_drift_deg * energy * spine_noise[:, 2]], axis=1)
    head_noise = smooth_noise(n_frames, fps, 1.2, rng, 3) * params.head_drift_deg * energy
    head = head_noise * np.array([1.0, 1.0, 0.6]) + np.stack(
        [0.3 * params.breath_spine_deg * breath, np.zeros(n_frames), -0.1 * roll], axis=1)
    shrug = params.breath_shrug_deg * breath
    return IdleLayer(pelvis_shift, pelvis_rot, spine, head, shrug)


# Living micro-motion per joint: (amplitude deg per axis (x, y, z), knot period s). Real speakers never
# hold a joint still: BEAT2 speaker 2 moves spine1 at a median 0.17 rad/s, collars 0.31, wrists 0.8
# (docs/metrics.md). Our gesture and idle channels alone left spine and collars at 0.05–0.4 × those
# medians (the "stiff" look); these small independent wanderings bring every upper joint to ≈ 0.7 ×
# the real median while adding < 0.2 × the real p99. Left-side joint names; the right side uses
# its own random curves with the same sizes. The collars' wander goes through the arm IK instead
# (collar_wander): added after it, a 4° collar raise swung a hanging hand 4 cm toward the groin.
MICRO_MOTION: dict[str, tuple[tuple[float, float, float], float]] = {
    "spine1": ((1.9, 1.35, 1.2), 0.55),
    "spine2": ((1.7, 1.4, 1.2), 0.55),
    "spine3": ((0.7, 0.6, 0.6), 0.55),
    "neck": ((2.3, 2.3, 1.4), 0.5),
    "head": ((2.0, 2.2, 1.3), 0.5),
    "left_shoulder": ((3.6, 3.2, 3.2), 0.55),
    "left_elbow": ((8.0, 8.0, 4.8), 0.5),
    "left_wrist": ((5.0, 3.0, 5.0), 0.45),
}


_ARM_JOINTS = ("left_collar", "left_shoulder", "left_elbow", "left_wrist")


def micro_motion(n_frames: int, fps: float, rng: np.random.Generator, activity: np.ndarray,
                 arm_activity: np.ndarray | None = None,
                 table: dict[str, tuple[tuple[float, float, float], float]] = MICRO_MOTION
                 ) -> dict[str, np.ndarray]:
    """Joint name (both sides for left_* entries) → (n_frames, 3) small axis-angle offsets in radians.

    activity (n_frames,) scales the wandering (≈ 1 while speaking, lower in pauses); arm_activity
    (default: activity) does so for collars, shoulders, elbows and wrists (hands at rest are stiller).
    """
    arm_activity = activity if arm_activity is None else arm_activity
    out = {}
    for name, (amp, period) in table.items():
        names = (name, "right_" + name.removeprefix("left_")) if name.startswith("left_") else (name,)
        for joint in names:
            curve = smooth_noise(n_frames, fps, period, rng, 3) * np.radians(amp)
            if joint.startswith("right_"):
                curve *= np.array([1.0, -1.0, -1.0])  # same anatomical directions as the left side
            out[joint] = curve * (arm_activity if name in _ARM_JOINTS else activity)[:, None]
    return out


@dataclass(frozen=True)
class PostureParams:
    """Slow posture wander of trunk and collars (degrees, knot period seconds).

    Real speakers' spine and collar joints spread over 4–7° in a minute (BEAT2, mean std of the axis-angle
    components) while moving slowly (spine3 p99 0.40 rad/s); the idle and accent channels alone gave
    1–1.5° (issue 12). A lean shared by the three spine joints, a curvature change (lower spine one way,
    chest the other: slouch ↔ stand tall, so the chest turns less than each joint) and each joint's own
    wander, all with knots seconds apart so they add spread and little speed.
    """

    lean_deg: tuple[float, float, float] = (2.5, 2.0, 1.5)     # pitch, yaw, roll, shared by spine1–3
    curve_deg: tuple[float, float, float] = (4.5, 3.0, 3.0)    # spine1 +, spine3 −, spine2 0.8 ×
    own_deg: tuple[float, float, float] = (3.0, 3.0, 2.5)      # independent per spine joint
    collar_deg: tuple[float, float, float] = (0.0, 5.2, 5.2)   # collar wander: -, rounding, raise
    period_s: float = 3.5
    collar_period_s: float = 2.6
    collar_fast_deg: tuple[float, float] = (4.2, 3.8)  # raise, rounding: the living micro-motion part
    collar_fast_period_s: float = 0.45


def posture_drift(n_frames: int, fps: float, rng: np.random.Generator, energy: float = 1.0,
                  params: PostureParams = PostureParams()) -> dict[str, np.ndarray]:
    """Joint name → (n_frames, 3) slow axis-angle offsets in radians for spine1–3."""
    def curve(amp, period):
        return smooth_noise(n_frames, fps, period, rng, 3) * np.radians(amp) * energy

    lean, bend = curve(params.lean_deg, 1.6 * params.period_s), curve(params.curve_deg, params.period_s)
    out = {}
    for name, k in (("spine1", 1.0), ("spine2", 0.8), ("spine3", -1.0)):
        out[name] = lean + k * bend + curve(params.own_deg, params.period_s)
    return out


def collar_wander(n_frames: int, fps: float, rng: np.random.Generator, energy: float = 1.0,
                  params: PostureParams = PostureParams(), activity: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(n_frames, 2) slow collar raise and (n_frames, 2) rounding forward (deg, left and right): fed to the
    arm IK as collar channels, so the hands stay on their targets (a wander added after the IK moved a
    hanging hand 9 cm, in front of the groin). A slow wander plus a fast one scaled by `activity` (T,)."""
    c = smooth_noise(n_frames, fps, params.collar_period_s, rng, 4) * energy
    fast = smooth_noise(n_frames, fps, params.collar_fast_period_s, rng, 4)
    if activity is not None:
        fast *= np.asarray(activity)[:, None]
    raise_, rounding = params.collar_deg[2], params.collar_deg[1]
    fast_raise, fast_round = params.collar_fast_deg
    return (raise_ * c[:, :2] + fast_raise * fast[:, :2], rounding * c[:, 2:] + fast_round * fast[:, 2:])
