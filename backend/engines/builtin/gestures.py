"""The built-in body's gesture vocabulary, authored as data.

Every pose is written for the LEFT hand in the chest frame (the spine3 joint, SMPL-X axes): x toward
the hand's own side (so the right hand uses the mirror image), y up, z forward, metres. For scale:
the shoulder joint sits at ≈ (0.17, 0.15, −0.01) in that frame and the arm reaches ≈ 0.51 m.

A gesture is preparation → stroke → hold → retraction (McNeill/Kendon phases). `prep` is where the
stroke starts, `stroke` where it ends: the stroke's end (its apex) lands on the stressed syllable.
Retraction goes to a rest pose, or straight into the next gesture when strokes are close.

Forearm `twist` (deg): 0 palms face the body's midline, −90 palm up, +90 palm down.
Wrist `flex` (deg): + bends the palm side in, − bends back (extension). `deviation` (deg): + toward the
thumb. `shape`: a name in backend.formats.hand_pose.HAND_SHAPES.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HandKey:
    """One key pose of one hand (left-hand authoring, chest frame)."""

    wrist: tuple[float, float, float]
    twist: float = 0.0
    flex: float = 0.0
    deviation: float = 0.0
    shape: str = "relaxed"


@dataclass(frozen=True)
class BodyAccent:
    """Head/torso movement peaking at the stroke (degrees; sides relative to the gesturing hand)."""

    head_pitch: float = 0.0   # + nods down
    head_yaw: float = 0.0     # + turns toward the gesturing hand's side
    head_roll: float = 0.0    # + tilts toward the gesturing hand's side
    spine_pitch: float = 0.0  # + leans forward
    shrug: float = 0.0        # + raises the shoulders (both collars)


@dataclass(frozen=True)
class GestureKind:
    """A gesture of the vocabulary; `weights` = relative frequency per emotion (keys: vocabulary.choices.EMOTIONS)."""

    name: str
    two_handed: bool
    prep: HandKey
    stroke: HandKey
    accent: BodyAccent
    weights: dict[str, float]
    stroke_s: float = 0.2      # stroke duration at neutral tempo
    hold_s: float = 0.25       # post-stroke hold at neutral tempo
    repeatable: bool = False   # may repeat back-to-back on the same hand (beats)
    counting: bool = False     # successive uses show 1, 2, 3… fingers (count_n shapes)

    def weight(self, emotion: str) -> float:
        return self.weights[emotion]


GESTURES: tuple[GestureKind, ...] = (
    GestureKind(
        "beat", False,
        prep=HandKey((0.20, -0.06, 0.27), twist=20, flex=10),
        stroke=HandKey((0.21, -0.17, 0.31), twist=25, flex=-5),
        accent=BodyAccent(head_pitch=4),
        weights=dict(neutral=3.0, happy=2.0, sad=3.0, angry=2.0, surprised=1.0),
        stroke_s=0.18, hold_s=0.12, repeatable=True),
    GestureKind(
        "precision_beat", False,
        prep=HandKey((0.17, -0.05, 0.28), twist=-20, flex=5, shape="precision"),
        stroke=HandKey((0.18, -0.15, 0.31), twist=-15, flex=-5, shape="precision"),
        accent=BodyAccent(head_pitch=3),
        weights=dict(neutral=1.5, happy=1.0, sad=1.0, angry=0.8, surprised=0.5),
        stroke_s=0.18, hold_s=0.15, repeatable=True),
    GestureKind(
        "palm_up_offer", False,
        prep=HandKey((0.16, -0.13, 0.23), twist=-40, shape="relaxed"),
        stroke=HandKey((0.27, -0.11, 0.37), twist=-85, flex=-10, shape="open"),
        accent=BodyAccent(head_pitch=2, head_roll=4, spine_pitch=2),
        weights=dict(neutral=2.0, happy=3.0, sad=1.5, angry=0.5, surprised=1.5),
        stroke_s=0.24, hold_s=0.4),
    GestureKind(
        "two_hand_frame", True,
        prep=HandKey((0.14, -0.03, 0.26), twist=0, shape="open"),
        stroke=HandKey((0.17, -0.12, 0.33), twist=5, shape="flat"),
        accent=BodyAccent(head_pitch=3),
        weights=dict(neutral=1.5, happy=1.5, sad=0.5, angry=1.0, surprised=1.0),
        stroke_s=0.22, hold_s=0.35),
    GestureKind(
        "point", False,
        prep=HandKey((0.22, -0.10, 0.25), twist=40),
        stroke=HandKey((0.30, 0.0, 0.42), twist=70, flex=-5, shape="point"),
        accent=BodyAccent(head_yaw=6, head_pitch=2),
        weights=dict(neutral=1.0, happy=1.0, sad=0.3, angry=2.0, surprised=1.0),
        stroke_s=0.22, hold_s=0.4),
    GestureKind(
        "self_point", False,
        prep=HandKey((0.13, -0.12, 0.25), twist=-10),
        stroke=HandKey((0.06, -0.05, 0.21), twist=20, flex=30, shape="open"),
        accent=BodyAccent(head_pitch=3, spine_pitch=-1.5),
        weights=dict(neutral=0.7, happy=0.8, sad=0.8, angry=0.8, surprised=0.6),
        stroke_s=0.24, hold_s=0.35),
    GestureKind(
        "shrug", True,
        prep=HandKey((0.18, -0.15, 0.22), twist=-30),
        stroke=HandKey((0.30, -0.13, 0.27), twist=-90, flex=-15, shape="open"),
        accent=BodyAccent(head_pitch=-2, head_roll=6, shrug=8),
        weights=dict(neutral=0.6, happy=0.5, sad=0.8, angry=0.3, surprised=1.5),
        stroke_s=0.3, hold_s=0.4),
    GestureKind(
        "dismiss", False,
        prep=HandKey((0.10, -0.10, 0.30), twist=80, flex=20),
        stroke=HandKey((0.36, -0.14, 0.29), twist=100, flex=-25, shape="open"),
        accent=BodyAccent(head_yaw=-5, head_roll=-3),
        weights=dict(neutral=0.6, happy=0.5, sad=0.5, angry=1.5, surprised=0.5),
        stroke_s=0.2, hold_s=0.2),
    GestureKind(
        "count", False,
        prep=HandKey((0.18, -0.05, 0.28), twist=-20),
        stroke=HandKey((0.19, 0.0, 0.31), twist=-10, flex=-5, shape="count_1"),
        accent=BodyAccent(head_pitch=2),
        weights=dict(neutral=0.5, happy=0.5, sad=0.2, angry=0.6, surprised=0.3),
        stroke_s=0.22, hold_s=0.45, counting=True),
    GestureKind(
        "chop", False,
        prep=HandKey((0.16, 0.02, 0.28), shape="flat"),
        stroke=HandKey((0.16, -0.18, 0.34), shape="flat"),
        accent=BodyAccent(head_pitch=6, spine_pitch=2),
        weights=dict(neutral=0.6, happy=0.3, sad=0.1, angry=3.0, surprised=0.4),
        stroke_s=0.14, hold_s=0.2, repeatable=True),
    GestureKind(
        "hands_together", True,
        prep=HandKey((0.10, -0.09, 0.27), twist=10),
        stroke=HandKey((0.055, -0.12, 0.28), twist=5, flex=5, shape="cupped"),
        accent=BodyAccent(head_pitch=2),
        weights=dict(neutral=0.8, happy=0.5, sad=2.0, angry=0.2, surprised=0.3),
        stroke_s=0.25, hold_s=0.5),
    GestureKind(
        "two_hand_beat", True,
        prep=HandKey((0.18, -0.07, 0.30), twist=60, shape="open"),
        stroke=HandKey((0.20, -0.17, 0.32), twist=70, flex=-5, shape="open"),
        accent=BodyAccent(head_pitch=5),
        weights=dict(neutral=1.0, happy=1.0, sad=0.5, angry=1.5, surprised=0.8),
        stroke_s=0.18, hold_s=0.15, repeatable=True),
    GestureKind(
        "wide_open", True,
        prep=HandKey((0.20, -0.12, 0.25), twist=-30, shape="open"),
        stroke=HandKey((0.36, 0.02, 0.30), twist=-60, flex=-20, shape="spread"),
        accent=BodyAccent(head_pitch=-4, shrug=4),
        weights=dict(neutral=0.3, happy=1.5, sad=0.1, angry=0.3, surprised=3.0),
        stroke_s=0.26, hold_s=0.4),
    GestureKind(
        "fist_beat", False,
        prep=HandKey((0.19, -0.02, 0.27), twist=10, shape="fist"),
        stroke=HandKey((0.19, -0.18, 0.31), twist=15, shape="fist"),
        accent=BodyAccent(head_pitch=6, spine_pitch=1.5),
        weights=dict(neutral=0.2, happy=0.1, sad=0.1, angry=2.5, surprised=0.2),
        stroke_s=0.15, hold_s=0.15, repeatable=True),
    GestureKind(
        "sweep", False,
        prep=HandKey((0.12, -0.12, 0.33), twist=-60, shape="open"),
        stroke=HandKey((0.40, -0.08, 0.26), twist=-80, flex=-10, shape="open"),
        accent=BodyAccent(head_yaw=5, head_roll=3),
        weights=dict(neutral=0.7, happy=1.2, sad=0.3, angry=0.5, surprised=1.0),
        stroke_s=0.3, hold_s=0.3),
)
GESTURE_INDEX: dict[str, int] = {g.name: i for i, g in enumerate(GESTURES)}

# Rest poses for pauses: arms hanging relaxed at the sides (palms toward the thighs), or hands loosely
# together in front of the navel with the elbows bent about 90° (never lower: that reads as the groin).
# Or hands loosely clasped behind the back at the sacrum (palms facing back); the hand goes there and
# back past the hip (BEHIND_VIA), never through it.
REST_POSES: dict[str, HandKey] = {
    "arms_down": HandKey((0.21, -0.34, 0.02), twist=0, flex=0),
    "hands_together": HandKey((0.07, -0.10, 0.24), twist=5, flex=10),
    "hands_behind": HandKey((0.075, -0.27, -0.19), twist=40, flex=10),
}
BEHIND_VIA = HandKey((0.23, -0.29, -0.09), twist=20, flex=5)
# How often each rest is chosen for a long pause, per emotion; hands behind
# only in pauses of at least BEHIND_MIN_PAUSE_S (the way there and back takes ≈ 1 s).
REST_WEIGHTS: dict[str, dict[str, float]] = {
    "arms_down": dict(neutral=0.45, happy=0.5, sad=0.3, angry=0.45, surprised=0.5),
    "hands_together": dict(neutral=0.3, happy=0.3, sad=0.55, angry=0.2, surprised=0.35),
    "hands_behind": dict(neutral=0.25, happy=0.2, sad=0.15, angry=0.35, surprised=0.15),
}
BEHIND_MIN_PAUSE_S = 2.2
# Where a hand waits during short gaps inside speech: lowered to the belly, still in gesture space.
READY_POSE = HandKey((0.18, -0.17, 0.21), twist=10, flex=5)
# A low, pocket-like rest: the hand hangs at the front of the hip, thumb forward, wrist bent back a
# little (as if the thumb hooked a pocket); out at the side, never in front of the groin.
LOW_REST = HandKey((0.25, -0.31, 0.03), twist=25, flex=-15, deviation=5)


@dataclass(frozen=True)
class RestRegime:
    """How a speaker holds the hands for a stretch of a take (several seconds, changing between phrases).

    `active` and `resting` name the rests (REST_POSES / "ready" / "low") of the hand that gestures and of
    the other one; with `one_handed` only the active hand gestures (the resting one stays put).
    """

    name: str
    active: str
    resting: str
    one_handed: bool
    weights: tuple[float, float, float, float, float]  # per emotion, options.EMOTIONS order


# Real speakers change how they hold their hands every several seconds (BEAT2, TED talks): hands
# ready in front, arms at the sides, loosely clasped, one hand low like in a pocket, one behind the back.
REST_REGIMES: tuple[RestRegime, ...] = (
    RestRegime("ready", "ready", "ready", False, (0.25, 0.3, 0.15, 0.35, 0.3)),
    RestRegime("sides", "arms_down", "arms_down", False, (0.25, 0.25, 0.3, 0.2, 0.25)),
    RestRegime("clasped", "hands_together", "hands_together", False, (0.15, 0.15, 0.25, 0.1, 0.15)),
    RestRegime("one_low", "ready", "low", True, (0.2, 0.15, 0.2, 0.15, 0.15)),
    RestRegime("one_behind", "arms_down", "hands_behind", True, (0.15, 0.15, 0.1, 0.2, 0.15)),
)
REGIME_S = (5.0, 12.0)  # how long one regime lasts (uniform), snapped to a nearby pause
MAX_COUNT = 4  # counting gestures show up to this many fingers
