"""The built-in procedural SMPL-X body: idle layer + speech-timed gestures, no learned weights.

Pipeline (all deterministic given the rng):
 1. pick stroke times from stressed syllables, pitch accents and onsets (louder/stronger first);
 2. give each stroke a gesture of the vocabulary (gestures.py) and a hand, emotion-weighted, with
    beats repeating and hands alternating; build one key track per hand (prep, stroke apex on the
    stress, hold, then retraction to a rest pose or straight into the next gesture);
 3. add head nods/tilts/turns, the idle layer (breathing, weight shift, sway) and emotion posture;
 4. per chunk of frames, turn those few channels into joint rotations: analytic two-bone IK for the
    arms (wrist targets in the chest frame) and legs (ankles pinned to the floor), Euler-like body
    angles for spine, neck and head, finger shapes relative to the mean relaxed hand.
Interpolation is minimum-jerk between keys on the channels (wrist positions, small angles), so
rotations come out smooth; there is no per-frame randomness, hence no jitter.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

import numpy as np

from ...analysis import SpeechAnalysis
from ...formats.hand_pose import hand_shape, mirror_hand
from ...motion.dynamics import enforce_dynamics
from ...motion.rotations import (axis_angle_to_quat, quat_multiply, quat_to_axis_angle, quat_to_matrix,
                                 matrix_to_quat)
from ...progress import JobControl
from ...vocabulary.choices import EMOTIONS
from ...vocabulary.skeleton import (FACE_JOINTS, JOINT_INDEX, LEFT_HAND, NUM_JOINTS, PELVIS_REST_HEIGHT, REST_OFFSETS,
                                   RIGHT_HAND)
from .gestures import (BEHIND_MIN_PAUSE_S, BEHIND_VIA, GESTURES, LOW_REST, MAX_COUNT, READY_POSE, REGIME_S,
                       REST_POSES, REST_REGIMES, REST_WEIGHTS, GestureKind, HandKey, RestRegime)
from .idle import (IdleParams, PostureParams, catmull_rom_velocities, collar_wander, idle_layer, interpolate_hermite,
                   interpolate_min_jerk, micro_motion, min_jerk, posture_drift, smooth_noise)

_CHUNK_FRAMES = 4096
_OFF = np.asarray(REST_OFFSETS, dtype=np.float64)
_J = JOINT_INDEX
# Gesture-space centre in the chest frame (left-hand authoring): emotion "space" scales around it.
_GESTURE_CENTRE = np.array([0.18, -0.14, 0.28])
# Wrists keep at least this horizontal distance from the chest's vertical axis (x, z + 0.02).
_TORSO_CLEARANCE_M = 0.19
# Gesture wrists stay at or above the navel (chest-frame y): lower, the hand reads as at the groin.
_GESTURE_FLOOR_Y = -0.15
# Where the elbow points (left arm, chest frame): out, down and back.
_ELBOW_POLE = np.array([0.35, -0.45, -0.8]) / np.linalg.norm([0.35, -0.45, -0.8])
_N_HAND_CHANNELS = 6 + 45  # wrist xyz, twist/flex/deviation (deg), 15 finger joints × 3
# Peak speeds a key-to-key transition may reach (minimum-jerk peak 1.875 Δ/Δt): wrist m/s, forearm
# twist and wrist flexion/deviation deg/s. Chosen so shoulder and elbow p99 stay below real mocap's
# (2.4 / 6 rad/s, docs/metrics.md); with the old free transitions a palm-up → palm-down change in
# 0.2 s rolled the forearm at 13 rad/s and wrists reached 4.9 m/s. Wrists 0.66 (not 0.8) m/s: with
# rests at the sides and the collars wandering the right shoulder's p99 reached 1.45 × real (1.87 rad/s).
_KEY_SPEED_CAPS = ((slice(0, 3), 0.66), (slice(3, 4), 200.0), (slice(4, 5), 220.0), (slice(5, 6), 160.0))
_MIN_JERK_PEAK = 1.875
_ARC_OUT_X = 0.25
_HANG_MIN_X, _HANG_FLOOR_FROM_Y = 0.25, -0.15
_HANGING_MICRO_CUT = 0.4
_RELEASE_S = 2.5  # after a one-handed regime the resting hand gestures again this much later
_ARM_MICRO = tuple(f"{s}_{j}" for s in ("left", "right") for j in ("shoulder", "elbow", "wrist"))


@dataclass(frozen=True)
class BodyParams:
    """Tunables of the built-in body (defaults measured against BEAT2 statistics, see tests)."""

    gesture_amplitude: float = 1.25
    stroke_gap_s: float = 0.42           # minimum time between strokes at neutral
    stroke_threshold: float = 0.25       # candidate score a stroke needs
    onset_weight: float = 0.4            # onsets without a nearby stress count this much
    apex_lead_s: float = 0.03            # stroke apex slightly before the stressed vowel
    prep_s: float = 0.35
    retract_s: float = 0.5
    pause_rest_s: float = 1.0            # pauses longer than this send the hands to a rest pose
    unit_gap_s: float = 1.5              # strokes closer than this belong to one gesture unit
    repeat_probability: float = 0.5      # a beat repeats on the same hand within a unit
    switch_hand_probability: float = 0.45
    nod_deg: float = 5.0                 # nod on stresses without a gesture of their own
    head_turn_deg: float = 8.0
    head_turn_every_s: tuple[float, float] = (0.8, 2.5)
    arm_drift_m: float = 0.025           # slow living motion of the wrist targets
    arm_drift_twist_deg: float = 6.0
    wrist_drift_deg: float = 18.0        # slow wrist flexion/deviation wander
    wrist_orbit_m: float = 0.012         # wrists circle slowly, so they never stop dead (as in mocap)
    wrist_orbit_period_s: float = 1.9
    collar_follow_deg_per_m: float = 25.0  # collars rise/round as the hand rises/reaches forward
    spine_follow_deg: float = 6.0        # torso turns toward the gesturing hand at strokes
    vocabulary: tuple[str, ...] | None = None  # only these gesture kinds (None = all of GESTURES)
    knee_flex_rad: float = 0.06          # the straighter knee's flexion: relaxed, never locked
    collar_follow_from_m: float = -0.1   # collars follow only hands above this chest-frame height
    idle: IdleParams = field(default_factory=IdleParams)
    posture: PostureParams = field(default_factory=PostureParams)
    collar_reach_deg_per_m: float = 20.0  # collars round forward as the hand goes forward, back behind


@dataclass(frozen=True)
class EmotionStyle:
    """How an emotion changes the body (values at full intensity; neutral is the defaults)."""

    amplitude: float = 1.0      # gesture size
    space: float = 1.0          # how far gestures reach out from the body
    height_m: float = 0.0       # gestures higher (+) or lower (−)
    rate: float = 1.0           # stroke frequency
    tempo: float = 1.0          # phase durations (< 1 = sharper)
    nod: float = 1.0
    idle_energy: float = 1.0
    spine_pitch: float = 0.0    # deg, + slumps forward
    head_pitch: float = 0.0     # deg, + head down
    shrug: float = 0.0          # deg, shoulders raised
    protraction: float = 0.0    # deg, shoulders rounded forward


EMOTION_STYLES: dict[str, EmotionStyle] = {
    "neutral": EmotionStyle(),
    "happy": EmotionStyle(amplitude=1.2, space=1.15, height_m=0.02, rate=1.3, tempo=0.9, nod=1.2,
                          idle_energy=1.2, spine_pitch=-2.0, head_pitch=-3.0),
    "sad": EmotionStyle(amplitude=0.5, space=0.75, height_m=-0.05, rate=0.55, tempo=1.45, nod=0.6,
                        idle_energy=0.6, spine_pitch=13.0, head_pitch=12.0, shrug=-2.0, protraction=7.0),
    "angry": EmotionStyle(amplitude=1.35, space=1.1, rate=1.2, tempo=0.72, nod=1.6, idle_energy=1.1,
                          spine_pitch=4.0, head_pitch=3.0, shrug=2.5, protraction=3.0),
    "surprised": EmotionStyle(amplitude=1.2, space=1.1, height_m=0.08, rate=1.1, tempo=0.85, nod=0.8,
                              idle_energy=1.1, spine_pitch=-5.0, head_pitch=-9.0, shrug=8.0),
}


def emotion_style(emotion: str, intensity: float) -> EmotionStyle:
    """The style for `emotion` at `intensity` 0..1: a blend of neutral and the full emotion."""
    if emotion not in EMOTION_STYLES:
        raise ValueError(f"unknown emotion {emotion!r}; choose one of {', '.join(EMOTIONS)}")
    k = float(np.clip(intensity, 0.0, 1.0))
    base, full = EMOTION_STYLES["neutral"], EMOTION_STYLES[emotion]
    return replace(base, **{f.name: getattr(base, f.name) + k * (getattr(full, f.name) - getattr(base, f.name))
                            for f in fields(EmotionStyle)})


# ---------------------------------------------------------------------------------------------
# Quaternion helpers (w, x, y, z), batched over leading dims.

def _quat_axis(axis: int, angle: np.ndarray) -> np.ndarray:
    """(...,) angles in rad about coordinate axis 0/1/2 → (..., 4)."""
    angle = np.asarray(angle, dtype=np.float64)
    q = np.zeros(angle.shape + (4,))
    q[..., 0] = np.cos(0.5 * angle)
    q[..., 1 + axis] = np.sin(0.5 * angle)
    return q


def _quat_body_angles(pitch: np.ndarray, yaw: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """Degrees (pitch about X, yaw about Y, roll about Z) → (..., 4) as yaw ⊗ pitch ⊗ roll."""
    r = np.pi / 180.0
    return quat_multiply(_quat_axis(1, yaw * r), quat_multiply(_quat_axis(0, pitch * r), _quat_axis(2, roll * r)))


def _quat_about(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """(..., 3) unit axes and (...,) angles in rad → (..., 4)."""
    half = 0.5 * np.asarray(angle)[..., None]
    return np.concatenate([np.cos(half), np.sin(half) * axis], axis=-1)


def _quat_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Shortest-arc rotation taking unit vectors a to b, (..., 3) → (..., 4) (a, b never opposite here)."""
    q = np.concatenate([1.0 + np.sum(a * b, axis=-1, keepdims=True), np.cross(a, b)], axis=-1)
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def _rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate (..., 3) vectors by (..., 4) quaternions."""
    return np.einsum("...ij,...j->...i", quat_to_matrix(q), v)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _mirror_quat(q: np.ndarray) -> np.ndarray:
    """Rotation mirrored through the body's sagittal plane (x → −x): (w, x, y, z) → (w, x, −y, −z)."""
    return q * np.array([1.0, 1.0, -1.0, -1.0])


# ---------------------------------------------------------------------------------------------
# Analytic two-bone IK.

def _frame_quat(x_axis: np.ndarray, z_hint: np.ndarray) -> np.ndarray:
    """Quaternion of the orthonormal frame with X along x_axis and Z toward z_hint, (..., 3) → (..., 4)."""
    x = _unit(x_axis)
    z = _unit(z_hint - np.sum(z_hint * x, axis=-1, keepdims=True) * x)
    y = np.cross(z, x)
    return matrix_to_quat(np.stack([x, y, z], axis=-1))


_UPPER_ARM = _OFF[_J["left_elbow"]]
_FOREARM = _OFF[_J["left_wrist"]]
_REST_ARM_FRAME = _frame_quat(_UPPER_ARM, np.array([0.0, 0.0, 1.0]))


def arm_ik(target: np.ndarray, collar_q: np.ndarray, twist: np.ndarray, flex: np.ndarray,
           deviation: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Left-arm local rotations that put the wrist at `target`.

    target (N, 3) wrist position in the chest (spine3) frame; collar_q (N, 4) left collar local rotation;
    twist, flex, deviation (N,) degrees (forearm roll: −90 palm up; wrist flexion; radial deviation).
    Returns quaternions (N, 4) for left_shoulder, left_elbow, left_wrist. The elbow swings toward
    _ELBOW_POLE; out-of-reach targets are pulled in to 98.5 % of the arm's length.
    """
    l1, l2 = np.linalg.norm(_UPPER_ARM), np.linalg.norm(_FOREARM)
    collar_pos = _OFF[_J["left_collar"]]
    inv_collar = collar_q * np.array([1.0, -1.0, -1.0, -1.0])
    s = _rotate(inv_collar, target - collar_pos) - _OFF[_J["left_shoulder"]]  # target from the shoulder
    dist = np.linalg.norm(s, axis=-1, keepdims=True)
    n = s / np.maximum(dist, 1e-9)
    d = np.clip(dist, abs(l1 - l2) + 0.03, 0.985 * (l1 + l2))
    pole = _rotate(inv_collar, np.broadcast_to(_ELBOW_POLE, s.shape))
    pole_perp = _unit(pole - np.sum(pole * n, axis=-1, keepdims=True) * n)
    along = (d * d + l1 * l1 - l2 * l2) / (2.0 * d)
    radius = np.sqrt(np.maximum(l1 * l1 - along * along, 0.0))
    elbow = along * n + radius * pole_perp
    upper_dir = elbow / l1
    fore_dir = _unit(d * n - elbow)
    # The forearm bends away from the pole: that direction is the upper arm's local +Z (elbow hinge ⟂).
    bend = -(pole_perp - np.sum(pole_perp * upper_dir, axis=-1, keepdims=True) * upper_dir)
    q_shoulder = quat_multiply(_frame_quat(upper_dir, bend), _REST_ARM_FRAME * np.array([1.0, -1.0, -1.0, -1.0]))
    fore_local = _rotate(q_shoulder * np.array([1.0, -1.0, -1.0, -1.0]), fore_dir)
    q_flex = _quat_between(np.broadcast_to(_unit(_FOREARM), fore_local.shape), fore_local)
    r = np.pi / 180.0
    q_elbow = quat_multiply(_quat_about(fore_local, np.asarray(twist) * r), q_flex)
    # left wrist: flexion bends the fingers toward the palm (−Y) = about −Z; radial deviation about −Y
    q_wrist = quat_multiply(_quat_axis(1, -np.asarray(deviation) * r), _quat_axis(2, -np.asarray(flex) * r))
    return q_shoulder, q_elbow, q_wrist


_THIGH = {s: _OFF[_J[f"{s}_knee"]] for s in ("left", "right")}
_SHIN = {s: _OFF[_J[f"{s}_ankle"]] for s in ("left", "right")}
_HIP = {s: _OFF[_J[f"{s}_hip"]] for s in ("left", "right")}


def rest_ankle_position(side: str) -> np.ndarray:
    """(3,) global ankle position of the rest pose with the pelvis at PELVIS_REST_HEIGHT: the planted foot."""
    return np.array([0.0, PELVIS_REST_HEIGHT, 0.0]) + _HIP[side] + _THIGH[side] + _SHIN[side]


def leg_reach(knee_flex: float, side: str) -> float:
    """Hip-to-ankle distance (m) of the rest leg with the knee flexed by knee_flex rad."""
    a, b = _THIGH[side], _SHIN[side]
    c, s = np.cos(knee_flex), np.sin(knee_flex)
    return float(np.linalg.norm(a + np.array([b[0], c * b[1] - s * b[2], s * b[1] + c * b[2]])))


def standing_pelvis_height(pelvis_xz: np.ndarray, pelvis_q: np.ndarray, knee_flex: float) -> np.ndarray:
    """(N,) pelvis height that leaves the straighter leg's knee flexed by knee_flex rad, feet planted.

    pelvis_xz (N, 2) horizontal pelvis position (x, z); pelvis_q (N, 4) pelvis rotation. The other leg
    (the unloaded one when the pelvis shifts over a foot and its hip drops) bends more.
    """
    heights = []
    for side in ("left", "right"):
        hip = _rotate(pelvis_q, np.broadcast_to(_HIP[side], pelvis_q.shape[:-1] + (3,)))
        ankle = rest_ankle_position(side)
        dx = pelvis_xz[:, 0] + hip[:, 0] - ankle[0]
        dz = pelvis_xz[:, 1] + hip[:, 2] - ankle[2]
        reach = leg_reach(knee_flex, side)
        heights.append(ankle[1] + np.sqrt(np.maximum(reach * reach - dx * dx - dz * dz, 0.0)) - hip[:, 1])
    return np.minimum(heights[0], heights[1])


def leg_ik(pelvis_pos: np.ndarray, pelvis_q: np.ndarray, ankle: np.ndarray, side: str
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hip, knee and ankle local rotations (N, 4) that put the ankle at `ankle` (3,) with the foot level.

    pelvis_pos (N, 3), pelvis_q (N, 4) global pelvis placement. The knee is a hinge about X (+ flexes);
    the thigh turns by the shortest arc from the pelvis orientation, so the knee faces where the pelvis does.
    """
    a, b = _THIGH[side], _SHIN[side]
    hip = pelvis_pos + _rotate(pelvis_q, np.broadcast_to(_HIP[side], pelvis_pos.shape))
    reach = ankle - hip
    dist = np.linalg.norm(reach, axis=-1)
    # |a + Rx(θ) b|² = dist²  ⇔  K cos θ + M sin θ = c
    k = a[1] * b[1] + a[2] * b[2]
    m = a[2] * b[1] - a[1] * b[2]
    c = 0.5 * (dist * dist - a @ a - b @ b) - a[0] * b[0]
    amp = np.hypot(k, m)
    theta = np.arctan2(m, k) + np.arccos(np.clip(c / amp, -1.0, 1.0))
    q_knee = _quat_axis(0, theta)
    leg_local = a + _rotate(q_knee, np.broadcast_to(b, pelvis_pos.shape))
    q_thigh = quat_multiply(_quat_between(_unit(_rotate(pelvis_q, leg_local)), _unit(reach)), pelvis_q)
    conj = np.array([1.0, -1.0, -1.0, -1.0])
    q_hip = quat_multiply(pelvis_q * conj, q_thigh)
    q_ankle = quat_multiply(q_thigh, q_knee) * conj  # foot level: global ankle rotation = identity
    return q_hip, q_knee, q_ankle


# ---------------------------------------------------------------------------------------------
# Planning: which strokes, which gestures, which hands.

@dataclass(frozen=True)
class PlannedGesture:
    kind: GestureKind
    hands: tuple[str, ...]       # ('left',), ('right',) or ('left', 'right')
    apex: float                  # seconds; the stroke ends here
    stroke_start: float
    hold_end: float
    amplitude: float
    shape: str                   # finger shape at the stroke


def _nearest_index(sorted_times: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """(Q,) index of the nearest element of a non-empty sorted (N,) array for each query."""
    right = np.clip(np.searchsorted(sorted_times, queries), 0, len(sorted_times) - 1)
    left = np.maximum(right - 1, 0)
    return np.where(np.abs(sorted_times[left] - queries) <= np.abs(sorted_times[right] - queries), left, right)


def stroke_candidates(analysis: SpeechAnalysis, params: BodyParams) -> tuple[np.ndarray, np.ndarray]:
    """Times (N,) and strengths (N,) where a stroke may land: stresses, boosted by pitch accents; onsets far
    from any stress at reduced weight. Only inside speech."""
    stresses = np.asarray(analysis.stresses, dtype=np.float64)
    strength = np.asarray(analysis.stress_strength, dtype=np.float64).copy()
    times, weights = [stresses], [strength]
    accents = np.asarray(analysis.pitch_accents, dtype=np.float64)
    acc_strength = np.asarray(analysis.accent_strength, dtype=np.float64)
    if len(accents):
        close = np.zeros(len(accents), dtype=bool)
        if len(stresses):
            nearest = _nearest_index(stresses, accents)
            close = np.abs(stresses[nearest] - accents) < 0.15
            np.add.at(strength, nearest[close], 0.5 * acc_strength[close])
        times.append(accents[~close])
        weights.append(0.8 * acc_strength[~close])
    onsets = np.asarray(analysis.onsets, dtype=np.float64)
    if len(onsets):
        known = np.sort(np.concatenate(times))
        far = np.ones(len(onsets), dtype=bool)
        if len(known):
            far = np.abs(known[_nearest_index(known, onsets)] - onsets) > 0.2
        frames = np.clip(np.round(onsets * analysis.fps).astype(int), 0, analysis.n_frames - 1)
        times.append(onsets[far])
        weights.append(params.onset_weight * (0.5 + np.asarray(analysis.onset_strength)[frames[far]]))
    t = np.concatenate(times)
    w = np.concatenate(weights)
    frames = np.clip(np.round(t * analysis.fps).astype(int), 0, max(analysis.n_frames - 1, 0))
    inside = (t >= 0) & (t <= analysis.duration)
    if analysis.n_frames:
        inside &= np.asarray(analysis.speech, dtype=bool)[frames]
    order = np.argsort(t[inside], kind="stable")
    return t[inside][order], np.clip(w[inside][order], 0.0, 1.5)


def plan_gestures(analysis: SpeechAnalysis, style: EmotionStyle, emotion: str, intensity: float,
                  rng: np.random.Generator, params: BodyParams, regimes: list[RegimeSpan] | None = None
                  ) -> list[PlannedGesture]:
    """Strokes on the strongest syllables, each given a gesture kind and hand(s); in a one-handed regime
    the active hand takes the resting hand's strokes (it gestures more, the take does not get stiller)."""
    times, strength = stroke_candidates(analysis, params)
    loud = np.asarray(analysis.loudness, dtype=np.float64)
    k = float(np.clip(intensity, 0.0, 1.0))
    kind_w = np.array([(1 - k) * g.weight("neutral") + k * g.weight(emotion) for g in GESTURES])
    if params.vocabulary is not None:
        unknown = set(params.vocabulary) - {g.name for g in GESTURES}
        if unknown:
            raise ValueError(f"unknown gesture kind(s): {', '.join(sorted(unknown))}")
        kind_w *= np.array([g.name in params.vocabulary for g in GESTURES], dtype=np.float64)
    dominant = "right" if rng.random() < 0.6 else "left"   # per take
    gap = params.stroke_gap_s / style.rate
    last_apex = {"left": -np.inf, "right": -np.inf}
    plan: list[PlannedGesture] = []
    last_stroke = -np.inf
    count = 0
    noise = rng.uniform(-0.15, 0.15, len(times))
    for t, s, jitter in zip(times, strength, noise):
        f = analysis.frame_of(t)
        score = s * (0.55 + 0.45 * loud[f]) + jitter
        if t - last_stroke < gap or score < params.stroke_threshold:
            continue
        apex = t - params.apex_lead_s
        prev = plan[-1] if plan else None
        in_unit = prev is not None and apex - prev.apex < params.unit_gap_s
        if in_unit and prev.kind.repeatable and rng.random() < params.repeat_probability:
            kind, hands = prev.kind, prev.hands
        else:
            w = kind_w.copy()
            if prev is not None and not prev.kind.repeatable and np.count_nonzero(w) > 1:
                w[GESTURES.index(prev.kind)] = 0.0
            kind = GESTURES[rng.choice(len(GESTURES), p=w / w.sum())]
            if kind.two_handed:
                hands = ("left", "right")
            elif prev is not None and in_unit and len(prev.hands) == 1:
                other = "left" if prev.hands[0] == "right" else "right"
                hands = (other,) if rng.random() < params.switch_hand_probability else prev.hands
            else:
                hands = (dominant,) if rng.random() < 0.65 else ("left" if dominant == "right" else "right",)
        allowed = free_hands(regimes, apex)
        if any(h not in allowed for h in hands):
            if kind.two_handed and kind.stroke.wrist[0] < 0.1:  # hands meeting at the midline, done by
                kind = _ONE_HANDED_STAND_IN                       # one hand, read as a hand at the groin
            hands = allowed
        stroke_start = apex - kind.stroke_s * style.tempo
        if any(last_apex[h] > stroke_start - 0.15 for h in hands):
            free = [h for h in allowed if last_apex[h] <= stroke_start - 0.15]
            if kind.two_handed or not free:
                continue
            hands = (free[0],)
        amplitude = style.amplitude * params.gesture_amplitude * (0.55 + 0.45 * loud[f]) * (0.75 + 0.35 * min(s, 1.0))
        count = min(count + 1, MAX_COUNT) if (kind.counting and prev is not None and prev.kind.counting
                                               and in_unit) else 1
        shape = f"count_{count}" if kind.counting else kind.stroke.shape
        plan.append(PlannedGesture(kind, hands, apex, stroke_start, apex + kind.hold_s * style.tempo,
                                   float(np.clip(amplitude, 0.3, 1.7)), shape))
        for h in hands:
            last_apex[h] = apex
        last_stroke = t
    return plan


# ---------------------------------------------------------------------------------------------
# Key tracks.

def _key_vector(key: HandKey, shape: str | None = None, wrist: np.ndarray | None = None) -> np.ndarray:
    """One hand key as a channel vector (_N_HAND_CHANNELS,), left-hand authoring."""
    w = np.asarray(key.wrist if wrist is None else wrist, dtype=np.float64)
    fingers = hand_shape(shape or key.shape, "left").ravel()
    return np.concatenate([w, [key.twist, key.flex, key.deviation], fingers])


def _keep_clear(wrist: np.ndarray) -> np.ndarray:
    """Push a wrist target out of the torso (horizontal distance from the chest axis ≥ clearance) and up
    to the gesture floor."""
    x, y, z = wrist
    y = max(y, _GESTURE_FLOOR_Y)
    r = np.hypot(x, z + 0.02)
    if r < _TORSO_CLEARANCE_M:
        scale = _TORSO_CLEARANCE_M / max(r, 1e-6)
        x, z = x * scale, (z + 0.02) * scale - 0.02
    return np.array([x, y, z])


def _gesture_wrists(g: PlannedGesture, style: EmotionStyle) -> tuple[np.ndarray, np.ndarray]:
    """Prep and stroke wrist targets after emotion space/height and amplitude scaling."""
    prep, stroke = np.asarray(g.kind.prep.wrist), np.asarray(g.kind.stroke.wrist)
    mid = 0.5 * (prep + stroke)
    moved = _GESTURE_CENTRE + style.space * (mid - _GESTURE_CENTRE)
    if mid[0] < _GESTURE_CENTRE[0]:
        moved[0] = mid[0]  # never push hands that meet in the middle apart
    moved[1] += style.height_m
    return (_keep_clear(moved + g.amplitude * (prep - mid)), _keep_clear(moved + g.amplitude * (stroke - mid)))


def silence_intervals(analysis: SpeechAnalysis, min_s: float) -> np.ndarray:
    """(M, 2) start/end of pauses longer than min_s (including before the first and after the last phrase)."""
    bounds = [0.0]
    for start, end in sorted(analysis.segments):
        bounds += [start, end]
    bounds.append(analysis.duration)
    gaps = np.asarray(bounds, dtype=np.float64).reshape(-1, 2)
    if not analysis.segments:
        gaps = np.array([[0.0, analysis.duration]])
    return gaps[gaps[:, 1] - gaps[:, 0] > min_s]


REST_NAMES = tuple(REST_POSES)


def choose_rests(silences: np.ndarray, emotion: str, intensity: float, rng: np.random.Generator) -> np.ndarray:
    """(M,) index into REST_NAMES for each long pause (M, 2), emotion-weighted; behind only in long ones."""
    k = float(np.clip(intensity, 0.0, 1.0))
    w = np.array([(1 - k) * REST_WEIGHTS[n]["neutral"] + k * REST_WEIGHTS[n][emotion] for n in REST_NAMES])
    long_enough = (silences[:, 1] - silences[:, 0] >= BEHIND_MIN_PAUSE_S) if len(silences) else np.zeros(0, bool)
    out = np.empty(len(silences), dtype=int)
    for i in range(len(silences)):
        wi = w * np.array([1.0, 1.0, float(long_enough[i])])
        out[i] = rng.choice(len(REST_NAMES), p=wi / wi.sum())
    return out


@dataclass(frozen=True)
class RegimeSpan:
    """One stretch [start, end) s of a take held in one RestRegime; `active` is the hand that gestures."""

    start: float
    end: float
    regime: RestRegime
    active: str


def plan_regimes(analysis: SpeechAnalysis, emotion: str, intensity: float, rng: np.random.Generator
                 ) -> list[RegimeSpan]:
    """Rest regimes covering the take, each REGIME_S long, its end moved into a pause within 2 s when
    there is one (people change how they hold their hands between phrases), never twice the same."""
    k = float(np.clip(intensity, 0.0, 1.0))
    i_emo = EMOTIONS.index(emotion)
    w = np.array([(1 - k) * r.weights[0] + k * r.weights[i_emo] for r in REST_REGIMES])
    pauses = silence_intervals(analysis, 0.25)
    mids = pauses.mean(axis=1) if len(pauses) else np.zeros(0)
    spans: list[RegimeSpan] = []
    t, prev = 0.0, -1
    while t < analysis.duration:
        end = t + rng.uniform(*REGIME_S)
        if len(mids):
            near = mids[np.argmin(np.abs(mids - end))]
            end = near if abs(near - end) < 2.0 and near > t + 3.0 else end
        wi = w.copy()
        if prev >= 0:
            wi[prev] = 0.0
        prev = int(rng.choice(len(REST_REGIMES), p=wi / wi.sum()))
        active = "right" if rng.random() < 0.55 else "left"
        spans.append(RegimeSpan(t, end, REST_REGIMES[prev], active))
        t = end
    return spans


def _regime_at(regimes: list[RegimeSpan], t: float) -> RegimeSpan:
    i = int(np.searchsorted([r.start for r in regimes], t, side="right")) - 1
    return regimes[min(max(i, 0), len(regimes) - 1)]


def free_hands(regimes: list[RegimeSpan] | None, t: float) -> tuple[str, ...]:
    """The hands that may gesture at t: both, or only the active one in a one-handed regime."""
    if not regimes:
        return ("left", "right")
    out = ("left", "right")
    for at in (t, t - _RELEASE_S):  # a hand behind the back or low needs a while to come back
        span = _regime_at(regimes, at)
        out = tuple(h for h in out if h == span.active or not span.regime.one_handed)
    return out or ("left", "right")


def _hand_track(plan: list[PlannedGesture], hand: str, style: EmotionStyle, params: BodyParams,
                silences: np.ndarray, rest_choice: np.ndarray, duration: float,
                regimes: list[RegimeSpan] | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Key times (K,), values and velocities (K, _N_HAND_CHANNELS) of one hand (left-hand authoring).

    The hand stops only at stroke apexes and in rest poses; preparation flows into the stroke and the
    hold drifts into the retraction, so speed minima (motion beats) fall on the stressed syllables.
    Where it rests is the regime's (plan_regimes); a hand free across a regime change moves to the new
    rest at the change, and a "ready" hand drops to the pause's own rest (choose_rests) in long pauses.
    """
    rests = {name: _key_vector(REST_POSES[name]) for name in REST_NAMES}
    rests["ready"], rests["low"] = _key_vector(READY_POSE), _key_vector(LOW_REST)
    ready, behind, via = rests["ready"], rests["hands_behind"], _key_vector(BEHIND_VIA)
    hanging = (id(rests["arms_down"]), id(rests["low"]))
    regimes = regimes or [RegimeSpan(0.0, np.inf, REST_REGIMES[0], "right")]
    in_pause = lambda t: bool(len(silences)) and bool(np.any((silences[:, 0] <= t) & (t <= silences[:, 1])))
    # a regime that starts inside a long pause holds from the pause's end: the hands keep the rest they
    # reached and stay still in the pause (a hand from behind the back to the clasp needs all of a 1.4 s
    # pause), and change with the next phrase
    changes = sorted({r.start for r in regimes[1:] if not in_pause(r.start)} | set(silences.ravel().tolist()))

    def silence_at(t: float) -> int:
        """Index of the long pause containing t, or −1."""
        i = int(np.searchsorted(silences[:, 0], t, side="right")) - 1 if len(silences) else -1
        return i if i >= 0 and t <= silences[i, 1] else -1

    def rest_at(t: float) -> np.ndarray:
        i = silence_at(t)
        span = _regime_at(regimes, silences[i, 0] if i >= 0 else t)
        name = span.regime.active if hand == span.active or not span.regime.one_handed else span.regime.resting
        if name == "ready" and i >= 0:
            name = REST_NAMES[int(rest_choice[i])]
        return rests[name]

    def rest_sequence(t0: float, t1: float) -> list[np.ndarray]:
        """The rests a hand free over (t0, t1) passes through: changes under 1 s from either end are
        skipped (no needless trip just before a gesture)."""
        seq = [rest_at(max(t0, 0.0) + 1e-3)]
        last = seq[0]
        for b in changes:
            if t0 + 1.0 < b < t1 - 1.0:
                r = rest_at(b + 1e-3)
                if r is not last:
                    seq.append((b, r))
                    last = r
        return seq

    keys_t: list[float] = [-1.0]
    keys_v: list[np.ndarray] = [rest_at(0.0)]
    keys_flow: list[float] = [0.0]  # how much of the Catmull-Rom velocity a key keeps (0 = stop there)

    def add(t: float, v: np.ndarray, flow: float = 0.0) -> None:
        if t > keys_t[-1] + 1e-3:
            to_behind, from_behind = v is behind and keys_v[-1] is not behind, keys_v[-1] is behind and v is not behind
            if (to_behind or from_behind) and keys_v[-1] is not via:  # around the hip, not through it
                # the via key splits the time by path length: at a fixed 0.45 s a far hand reached it too
                # fast, the speed caps pulled it in, and the hand cut through the hip (0.04 m from the axis)
                d1 = float(np.linalg.norm(via[:3] - keys_v[-1][:3]))
                d2 = float(np.linalg.norm(v[:3] - via[:3]))
                t_via = keys_t[-1] + (t - keys_t[-1]) * d1 / max(d1 + d2, 1e-6)
                if t_via > keys_t[-1] + 1e-3 and t_via < t - 1e-3:
                    keys_t.append(t_via)
                    keys_v.append(via)
                    keys_flow.append(0.6)
            elif (id(v) in hanging) != (id(keys_v[-1]) in hanging) and max(v[2], keys_v[-1][2]) > 0.1 \
                    and t - keys_t[-1] > 0.3:
                # Lowering from gesture space to the sides swings out in an arc: on the straight line
                # the forearm points across the belly and the fingers pass in front of the groin.
                mid = 0.5 * (v + keys_v[-1])
                mid[0] = max(mid[0], _ARC_OUT_X)
                keys_t.append(0.5 * (t + keys_t[-1]))
                keys_v.append(mid)
                keys_flow.append(0.8)
            keys_t.append(t)
            keys_v.append(v)
            keys_flow.append(flow)

    prep_s, retract_s = params.prep_s * style.tempo, params.retract_s * style.tempo

    def rest_keys(t0: float, t1: float, from_v: np.ndarray | None, to_v: np.ndarray | None,
                  seq: list) -> list[tuple[float, np.ndarray]] | None:
        """Keys resting over (t0, t1) through `seq` (first rest, then (time, rest) changes), from the hold
        from_v and on to the preparation to_v (None: none), or None when the speed caps need more time."""
        first = seq[0]
        cur = t0 + (travel_s(from_v, first, retract_s, behind) if from_v is not None else 0.0)
        out, prev = [(cur, first)], first
        for b, r in seq[1:]:
            tt = travel_s(prev, r, 0.8, behind)
            leave = max(b, cur + 0.3)  # from the change on: a pause's rest is held to its end
            out += [(leave, prev), (leave + tt, r)]
            cur, prev = leave + tt, r
        if to_v is not None:
            t_out = travel_s(prev, to_v, prep_s, behind)
            if from_v is not None and cur + t_out + 0.3 > t1:
                return None
            out.append((t1 - t_out, prev))
        return out

    def rest_between(t0: float, t1: float, from_v: np.ndarray | None, to_v: np.ndarray | None) -> None:
        # the whole sequence if it fits, else its first rest, else the rest of the middle, else the ready
        # pose (hands still mid-pause rather than in transit)
        full = rest_sequence(t0, t1)
        for seq in (full, full[:1], [rest_at(0.5 * (t0 + t1))]):
            keys = rest_keys(t0, t1, from_v, to_v, seq)
            if keys is not None:
                break
        else:
            keys = rest_keys(t0, -np.inf, None, to_v, [ready])[:0] + rest_keys(t0, t1, None, to_v, [ready])
            keys[0] = (t0 + travel_s(from_v, ready, retract_s), ready) if from_v is not None else keys[0]
        for t, v in keys:
            add(t, v)

    mine = [g for g in plan if hand in g.hands]
    hold_v = None
    hold_end = -np.inf
    for i, g in enumerate(mine):
        next_start = mine[i + 1].stroke_start if i + 1 < len(mine) else np.inf
        gap = g.stroke_start - hold_end
        prep_w, stroke_w = _gesture_wrists(g, style)
        prep_key = _key_vector(g.kind.prep, None, prep_w)
        if hold_v is None or gap > retract_s + prep_s + 0.25:
            rest_between(hold_end if hold_v is not None else -1.0, g.stroke_start, hold_v, prep_key)
        elif gap > 0.4:  # co-articulation: a partial retraction toward the ready pose
            toward = rest_at(hold_end + 0.5 * gap)
            toward = toward if toward is rests["hands_together"] else ready  # part-way elsewhere crosses the groin
            add(hold_end + 0.5 * gap, hold_v + 0.45 * (toward - hold_v), flow=0.8)
        stroke_v = _key_vector(g.kind.stroke, g.shape, stroke_w)
        add(g.stroke_start, prep_key, flow=0.9)
        add(g.apex, stroke_v)
        hold_end = max(min(g.hold_end, next_start - 0.1), g.apex + 0.03)
        pause = silence_at(next_start - prep_s) if np.isfinite(next_start) else silence_at(hold_end + retract_s)
        if pause >= 0:  # speech stops: end the hold with it so the hands reach rest during the pause
            hold_end = max(min(hold_end, silences[pause, 0] + 0.05), g.apex + 0.03)
        prep_v = _key_vector(g.kind.prep, g.shape, prep_w)
        hold_v = stroke_v + 0.12 * (prep_v - stroke_v)  # a hold relaxes a little
        add(hold_end, hold_v, flow=0.7)
    rest_between(hold_end if hold_v is not None else -1.0, duration + 1.0, hold_v, None)
    add(max(duration, keys_t[-1]) + 1.0, keys_v[-1])
    key_t, key_v = np.asarray(keys_t), np.stack(keys_v)
    if style.spine_pitch > 0:  # a slumped chest carries hands held in front lower: keep them off the groin
        key_v[:, 1] += np.maximum(key_v[:, 2], 0.0) * np.tan(np.radians(style.spine_pitch))
    key_v = limit_key_speeds(key_t, key_v)
    return key_t, key_v, catmull_rom_velocities(key_t, key_v, np.asarray(keys_flow))


def travel_s(a: np.ndarray, b: np.ndarray, at_least: float, behind: np.ndarray | None = None) -> float:
    """Seconds a minimum-jerk move between hand keys a and b needs within _KEY_SPEED_CAPS (+ 10 %), at
    least `at_least`; a move to or from `behind` (hands behind the back) goes round the hip: + 0.6 s."""
    need = max(_MIN_JERK_PEAK * float(np.linalg.norm(b[sl] - a[sl])) / cap for sl, cap in _KEY_SPEED_CAPS)
    extra = 0.6 if behind is not None and (a is behind) != (b is behind) else 0.0
    return max(at_least, 1.1 * need) + extra


def limit_key_speeds(key_t: np.ndarray, key_v: np.ndarray, caps=_KEY_SPEED_CAPS) -> np.ndarray:
    """Keys (K,), (K, C) → (K, C) where no transition's minimum-jerk peak exceeds its channel cap.

    Timing is kept (apexes stay on the stressed syllables); a key too far from the previous one for
    the time between them is pulled toward it, so a fast transition becomes a smaller one.
    """
    v = np.array(key_v, dtype=np.float64)
    for k in range(1, len(v)):
        dt = key_t[k] - key_t[k - 1]
        for sl, cap in caps:
            d = v[k, sl] - v[k - 1, sl]
            dist = float(np.linalg.norm(d))
            allowed = cap * dt / _MIN_JERK_PEAK
            if dist > allowed:
                v[k, sl] = v[k - 1, sl] + d * (allowed / dist)
    return v


_MAX_NOD_DEG = 9.0
_ONE_HANDED_STAND_IN = next(g for g in GESTURES if g.name == "palm_up_offer")


def _accent_kernel(fps: float) -> tuple[np.ndarray, int]:
    """Bump rising over 0.18 s to 1 and decaying over 0.4 s: (L,) and the index of its peak."""
    rise = min_jerk(np.arange(int(0.18 * fps) + 1) / (0.18 * fps))
    fall = 1.0 - min_jerk(np.arange(1, int(0.4 * fps) + 1) / (0.4 * fps))
    return np.concatenate([rise, fall]), len(rise) - 1


def accent_curves(plan: list[PlannedGesture], analysis: SpeechAnalysis, style: EmotionStyle,
                  rng: np.random.Generator, params: BodyParams) -> np.ndarray:
    """(T, 6) head pitch, yaw, roll, spine pitch, shrug, spine yaw (deg) peaking at strokes and stresses."""
    n = analysis.n_frames
    impulses = np.zeros((n, 6))
    used = np.array([g.apex for g in plan])
    for g in plan:
        a = g.kind.accent
        side = 1.0 if g.hands == ("left",) else -1.0 if g.hands == ("right",) else rng.choice((-1.0, 1.0))
        f = analysis.frame_of(g.apex)
        amp = min(g.amplitude, 1.3)
        impulses[f] += amp * np.array([(a.head_pitch + 0.5 * params.nod_deg) * style.nod, side * a.head_yaw,
                                       -side * a.head_roll,
                                       a.spine_pitch, a.shrug, side * params.spine_follow_deg])
    stresses = np.asarray(analysis.stresses, dtype=np.float64)
    strength = np.asarray(analysis.stress_strength, dtype=np.float64)
    for t, s in zip(stresses, strength):
        if len(used) and np.min(np.abs(used - t)) < 0.3:
            continue
        impulses[analysis.frame_of(t), 0] += params.nod_deg * style.nod * min(s, 1.0)
        if rng.random() < 0.25:  # an occasional tilt with the nod
            impulses[analysis.frame_of(t), 2] += rng.choice((-1.0, 1.0)) * 2.0 * min(s, 1.0)
    # A nod rises in 0.18 s: above ≈ 9° the neck and head pass real mocap's p99 (0.95 rad/s) — angry
    # full-intensity fist beats asked for 18°.
    impulses[:, 0] = np.clip(impulses[:, 0], -_MAX_NOD_DEG, _MAX_NOD_DEG)
    kernel, peak = _accent_kernel(analysis.fps)
    out = np.empty_like(impulses)
    for c in range(impulses.shape[1]):
        out[:, c] = np.convolve(impulses[:, c], kernel)[peak:peak + n]
    return out


def head_turn_curves(analysis: SpeechAnalysis, rng: np.random.Generator, params: BodyParams) -> np.ndarray:
    """(T, 2) slow head yaw and pitch (deg) changing every 1–4 s, independent of gaze, smaller in silence."""
    lo, hi = params.head_turn_every_s
    n_keys = int(analysis.duration / lo) + 3
    key_t = np.cumsum(rng.uniform(lo, hi, n_keys)) - hi
    vals = rng.standard_normal((n_keys, 2)) * np.array([params.head_turn_deg, 0.4 * params.head_turn_deg])
    frames = np.clip(np.round(key_t * analysis.fps).astype(int), 0, max(analysis.n_frames - 1, 0))
    speaking = np.asarray(analysis.speech, dtype=bool)[frames] if analysis.n_frames else np.zeros(n_keys, bool)
    vals *= np.where(speaking, 1.0, 0.4)[:, None]
    return interpolate_min_jerk(key_t, np.clip(vals, -15.0, 15.0), np.arange(analysis.n_frames) / analysis.fps)


# ---------------------------------------------------------------------------------------------
# Channels → SMPL-X poses.

@dataclass
class BodyChannels:
    """Per-frame body channels (N frames); angles in degrees, lengths in metres."""

    pelvis_pos: np.ndarray     # (N, 3) global
    pelvis_rot: np.ndarray     # (N, 3) pitch, yaw, roll
    spine: np.ndarray          # (N, 3) pitch, yaw, roll, shared over spine1–3
    head: np.ndarray           # (N, 3) pitch, yaw, roll, shared over neck and head
    shrug: np.ndarray          # (N, 2) collar raise, left and right
    protraction: np.ndarray    # (N, 2) shoulders rounded forward, left and right
    hands: dict[str, np.ndarray]  # side → (N, _N_HAND_CHANNELS), left-hand authoring


_SPINE_SHARE = ((3, 0.35), (6, 0.35), (9, 0.30))
_HEAD_SHARE = ((12, 0.5), (15, 0.5))  # 0.4/0.6 put angry nods' head p99 at 1.5 × real
_IDENTITY = np.array([1.0, 0.0, 0.0, 0.0])


def channels_to_poses(ch: BodyChannels) -> np.ndarray:
    """BodyChannels → (N, 55, 3) float64 axis-angle poses (jaw and eyes zero)."""
    n = len(ch.pelvis_pos)
    q = np.broadcast_to(_IDENTITY, (n, NUM_JOINTS, 4)).copy()
    pelvis_q = _quat_body_angles(*ch.pelvis_rot.T)
    q[:, 0] = pelvis_q
    for j, share in _SPINE_SHARE:
        q[:, j] = _quat_body_angles(*(share * ch.spine.T))
    for j, share in _HEAD_SHARE:
        q[:, j] = _quat_body_angles(*(share * ch.head.T))
    r = np.pi / 180.0
    for i, side in enumerate(("left", "right")):
        h = ch.hands[side]
        # left collar: raise = +Z, round forward = −Y; the right side is computed as its mirror image
        collar = quat_multiply(_quat_axis(2, ch.shrug[:, i] * r), _quat_axis(1, -ch.protraction[:, i] * r))
        q_sh, q_el, q_wr = arm_ik(h[:, 0:3], collar, h[:, 3], h[:, 4], h[:, 5])
        fix = (lambda x: x) if side == "left" else _mirror_quat
        q[:, _J[f"{side}_collar"]] = fix(collar)
        q[:, _J[f"{side}_shoulder"]] = fix(q_sh)
        q[:, _J[f"{side}_elbow"]] = fix(q_el)
        q[:, _J[f"{side}_wrist"]] = fix(q_wr)
        q_hip, q_knee, q_ankle = leg_ik(ch.pelvis_pos, pelvis_q, rest_ankle_position(side), side)
        q[:, _J[f"{side}_hip"]] = q_hip
        q[:, _J[f"{side}_knee"]] = q_knee
        q[:, _J[f"{side}_ankle"]] = q_ankle
    poses = quat_to_axis_angle(q)
    fingers_left = ch.hands["left"][:, 6:].reshape(n, 15, 3)
    fingers_right = mirror_hand(ch.hands["right"][:, 6:].reshape(n, 15, 3))
    poses[:, LEFT_HAND] = fingers_left
    poses[:, RIGHT_HAND] = fingers_right
    poses[:, FACE_JOINTS] = 0.0
    return poses


# ---------------------------------------------------------------------------------------------

def generate_body(analysis: SpeechAnalysis, emotion: str, intensity: float, rng: np.random.Generator,
                  control: JobControl | None = None, params: BodyParams = BodyParams()
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Procedural full body for one recording.

    Returns poses (T, 55, 3) float32 SMPL-X axis-angle (local, rest = T-pose, fingers relative to the
    mean relaxed hand; jaw/eyes zero) and trans (T, 3) float32 pelvis position in metres, Y up.
    """
    n = int(analysis.n_frames)
    style = emotion_style(emotion, intensity)
    fps = float(analysis.fps)
    if n == 0:
        return np.zeros((0, NUM_JOINTS, 3), np.float32), np.zeros((0, 3), np.float32)
    # How the hands are held changes every 5-12 s (at the sides, clasped, one low or behind...): with
    # one wait pose, 13 of 16 frames sampled over a minute had the left hand on the belly.
    regimes = plan_regimes(analysis, emotion, intensity, rng)
    plan = plan_gestures(analysis, style, emotion, intensity, rng, params, regimes)
    silences = silence_intervals(analysis, params.pause_rest_s)
    rest_choice = choose_rests(silences, emotion, intensity, rng)
    tracks = {h: _hand_track(plan, h, style, params, silences, rest_choice, analysis.duration, regimes)
              for h in ("left", "right")}
    accents = accent_curves(plan, analysis, style, rng, params)
    turns = head_turn_curves(analysis, rng, params)
    idle = idle_layer(n, fps, rng, params.idle, style.idle_energy)
    drift = np.concatenate([smooth_noise(n, fps, 1.3, rng, 8), smooth_noise(n, fps, 0.9, rng, 4)], axis=1)
    orbit_phase = rng.uniform(0.0, 2.0 * np.pi, 2)
    orbit_period = params.wrist_orbit_period_s * rng.uniform(0.85, 1.15, 2)
    orbit_axes = [np.linalg.qr(rng.standard_normal((3, 2)))[0] for _ in range(2)]  # a random plane per hand
    speaking = np.convolve(np.asarray(analysis.speech, dtype=np.float64), np.ones(31) / 31)[15:15 + n]
    liveliness = 0.25 + 0.75 * speaking  # hands resting in pauses drift less
    drift *= liveliness[:, None]
    # a sad body's arms' living motion is a little smaller too (with it at full size sad moved 0.86 ×
    # angry's mean speed); the neck and head keep theirs, which hold their medians at 0.5 × real
    energy = 0.7 + 0.3 * style.idle_energy
    micro = micro_motion(n, fps, rng, 0.5 + 0.5 * speaking, energy * (0.3 + 0.7 * speaking))
    posture = posture_drift(n, fps, rng, 0.6 + 0.4 * style.idle_energy, params.posture)
    for name, offset in posture.items():
        micro[name] = micro[name] + offset  # a few degrees: adding the axis-angle offsets is close enough
    # the trunk's forward lean (+ pitch, rad) carries hands held in front down toward the groin: lifted as
    # for the sad slump below
    lean = np.maximum(sum(posture[f"spine{i}"][:, 0] for i in (1, 2, 3)), 0.0)
    wander_raise, wander_round = collar_wander(n, fps, rng, 0.6 + 0.4 * style.idle_energy, params.posture,
                                               0.3 + 0.7 * speaking)
    if control is not None:
        control.check()

    poses = np.empty((n, NUM_JOINTS, 3), np.float32)
    trans = np.empty((n, 3), np.float32)
    for f0 in range(0, n, _CHUNK_FRAMES):
        f1 = min(f0 + _CHUNK_FRAMES, n)
        t = np.arange(f0, f1) / fps
        sl = slice(f0, f1)
        hands = {}
        for i, h in enumerate(("left", "right")):
            v = interpolate_hermite(*tracks[h], t)
            v[:, 1] += np.maximum(v[:, 2], 0.0) * np.tan(lean[sl])
            v[:, 0:3] += params.arm_drift_m * drift[sl, 3 * i:3 * i + 3]
            v[:, 3] += params.arm_drift_twist_deg * drift[sl, 6 + i]
            v[:, 4:6] += params.wrist_drift_deg * drift[sl, 8 + 2 * i:10 + 2 * i]
            angle = 2.0 * np.pi * t / orbit_period[i] + orbit_phase[i]
            v[:, 0:3] += params.wrist_orbit_m * liveliness[sl, None] * np.stack([np.cos(angle), np.sin(angle)], 1) @ orbit_axes[i].T
            # A hanging hand's drift never brings it in front of the thighs (the groin from the front):
            # wrists below the navel and not behind the back keep out to the side.
            low = np.clip((_HANG_FLOOR_FROM_Y - v[:, 1]) / 0.06, 0.0, 1.0) * (v[:, 2] > -0.05)
            v[:, 0] = np.maximum(v[:, 0], _HANG_MIN_X * low)
            hands[h] = v
        wrists = np.stack([hands["left"][:, 0:3], hands["right"][:, 0:3]], axis=1)  # (N, 2, 3)
        follow = params.collar_follow_deg_per_m
        pelvis_pos = idle.pelvis_shift[sl].copy()
        pelvis_pos[:, 1] = standing_pelvis_height(pelvis_pos[:, [0, 2]], _quat_body_angles(*idle.pelvis_rot[sl].T),
                                                  params.knee_flex_rad)
        ch = BodyChannels(
            pelvis_pos=pelvis_pos,
            pelvis_rot=idle.pelvis_rot[sl],
            spine=idle.spine[sl] + np.stack([accents[sl, 3] + style.spine_pitch,
                                             accents[sl, 5], np.zeros(f1 - f0)], axis=1),
            head=idle.head[sl] + np.stack([accents[sl, 0] + turns[sl, 1] + style.head_pitch,
                                           accents[sl, 1] + turns[sl, 0], accents[sl, 2]], axis=1),
            shrug=(idle.shrug[sl] + accents[sl, 4] + style.shrug)[:, None]
            + follow * np.maximum(wrists[:, :, 1] - params.collar_follow_from_m, 0.0) + wander_raise[sl],
            protraction=style.protraction + 0.6 * follow * np.maximum(wrists[:, :, 2] - 0.25, 0.0)
            + params.collar_reach_deg_per_m * np.clip(wrists[:, :, 2] - 0.12, -0.3, 0.25) + wander_round[sl],
            hands=hands,
        )
        chunk = channels_to_poses(ch)
        # A hanging arm's micro-motion is smaller: added after the IK, at full size it swung a hand low at
        # the hip 9 cm inward, in front of the groin.
        hanging = {h: 1.0 - _HANGING_MICRO_CUT * np.clip((-0.2 - hands[h][:, 1]) / 0.08, 0.0, 1.0)
                   for h in ("left", "right")}
        for name, offset in micro.items():  # living micro-motion on top of the planned rotations
            j = _J[name]
            side = name.split("_")[0]
            off = offset[sl] * hanging[side][:, None] if side in hanging and name in _ARM_MICRO else offset[sl]
            chunk[:, j] = quat_to_axis_angle(quat_multiply(axis_angle_to_quat(chunk[:, j]),
                                                           axis_angle_to_quat(off)))
        poses[sl] = chunk
        trans[sl] = pelvis_pos
        if control is not None:
            control.report(f1 / n, "body")
    # Safety net over the whole take: human joint ranges, continuous twist, real speed envelope.
    return enforce_dynamics(poses, fps), trans
