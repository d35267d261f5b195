"""SMPL-X skeleton facts: the 55 joints in `poses` column order, their parents, the named joints and
slices the code indexes with, and EMAGE's body parts.

The one place these facts live; engines, writers, rigs and the add-on import them from here.
"""
from __future__ import annotations

JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck",
    "left_collar", "right_collar", "head", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "jaw",
    "left_eye_smplhf", "right_eye_smplhf",
    "left_index1", "left_index2", "left_index3",
    "left_middle1", "left_middle2", "left_middle3",
    "left_pinky1", "left_pinky2", "left_pinky3",
    "left_ring1", "left_ring2", "left_ring3",
    "left_thumb1", "left_thumb2", "left_thumb3",
    "right_index1", "right_index2", "right_index3",
    "right_middle1", "right_middle2", "right_middle3",
    "right_pinky1", "right_pinky2", "right_pinky3",
    "right_ring1", "right_ring2", "right_ring3",
    "right_thumb1", "right_thumb2", "right_thumb3",
)
NUM_JOINTS = len(JOINT_NAMES)  # 55

PARENTS: tuple[int, ...] = (
    -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 15, 15, 15,
    20, 25, 26, 20, 28, 29, 20, 31, 32, 20, 34, 35, 20, 37, 38,
    21, 40, 41, 21, 43, 44, 21, 46, 47, 21, 49, 50, 21, 52, 53,
)

JOINT_INDEX: dict[str, int] = {name: i for i, name in enumerate(JOINT_NAMES)}

# Named joints the code indexes `poses` with.
PELVIS = JOINT_INDEX["pelvis"]               # 0
SPINE3 = JOINT_INDEX["spine3"]               # 9, the chest
NECK = JOINT_INDEX["neck"]                   # 12
HEAD = JOINT_INDEX["head"]                   # 15
JAW_JOINT = JOINT_INDEX["jaw"]               # 22
LEFT_EYE = JOINT_INDEX["left_eye_smplhf"]    # 23
RIGHT_EYE = JOINT_INDEX["right_eye_smplhf"]  # 24
EYE_JOINTS: tuple[int, int] = (LEFT_EYE, RIGHT_EYE)
FACE_JOINTS = slice(JAW_JOINT, RIGHT_EYE + 1)   # 22:25, the joints the face curves drive

# Fingers: 15 joints per hand (index, middle, pinky, ring, thumb; three segments each), left then right.
FINGERS = ("index", "middle", "pinky", "ring", "thumb")  # SMPL-X order inside one hand block
LEFT_HAND_START = JOINT_INDEX["left_index1"]    # 25
RIGHT_HAND_START = JOINT_INDEX["right_index1"]  # 40
JOINTS_PER_HAND = 15
NUM_HAND_JOINTS = 2 * JOINTS_PER_HAND           # 30: the rows of a mean hand
LEFT_HAND = slice(LEFT_HAND_START, LEFT_HAND_START + JOINTS_PER_HAND)      # 25:40
RIGHT_HAND = slice(RIGHT_HAND_START, RIGHT_HAND_START + JOINTS_PER_HAND)   # 40:55
HANDS = slice(LEFT_HAND_START, RIGHT_HAND_START + JOINTS_PER_HAND)         # 25:55, where the mean hand adds

# Body parts as EMAGE splits them.
UPPER_JOINTS: tuple[int, ...] = (3, 6, 9, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21)
HAND_JOINTS: tuple[int, ...] = tuple(range(HANDS.start, HANDS.stop))
LOWER_JOINTS: tuple[int, ...] = (0, 1, 2, 4, 5, 7, 8, 10, 11)

# Approximate neutral SMPL-X rest offsets of each joint from its parent, metres, Y up, Z forward,
# X to the body's left (T-pose). Measured shape of an average adult; used where no user model file
# is given: BVH export, forward kinematics for metrics and foot-contact checks.
REST_OFFSETS: tuple[tuple[float, float, float], ...] = (
    (0.0, 0.0, 0.0),            # pelvis (placed by trans)
    (0.061, -0.091, -0.012),    # left_hip
    (-0.060, -0.094, -0.009),   # right_hip
    (0.000, 0.110, -0.027),     # spine1
    (0.043, -0.379, 0.009),     # left_knee
    (-0.043, -0.381, 0.001),    # right_knee
    (0.003, 0.134, 0.005),      # spine2
    (-0.015, -0.398, -0.037),   # left_ankle
    (0.019, -0.400, -0.036),    # right_ankle
    (0.000, 0.054, 0.001),      # spine3
    (0.027, -0.059, 0.125),     # left_foot
    (-0.026, -0.061, 0.128),    # right_foot
    (-0.002, 0.211, -0.034),    # neck
    (0.077, 0.120, -0.002),     # left_collar
    (-0.080, 0.119, -0.007),    # right_collar
    (0.012, 0.077, 0.032),      # head
    (0.091, 0.030, -0.012),     # left_shoulder
    (-0.089, 0.033, -0.006),    # right_shoulder
    (0.259, -0.013, -0.027),    # left_elbow
    (-0.254, -0.010, -0.029),   # right_elbow
    (0.249, 0.009, -0.001),     # left_wrist
    (-0.255, 0.006, -0.005),    # right_wrist
    (0.002, -0.015, 0.045),     # jaw
    (0.031, 0.038, 0.080),      # left_eye_smplhf
    (-0.031, 0.038, 0.080),     # right_eye_smplhf
    # left hand: index, middle, pinky, ring, thumb (three segments each)
    (0.098, -0.005, 0.030), (0.034, -0.003, 0.001), (0.023, -0.004, -0.001),
    (0.100, -0.002, 0.009), (0.034, -0.001, -0.005), (0.025, -0.001, -0.003),
    (0.083, -0.012, -0.038), (0.019, -0.003, -0.008), (0.017, -0.001, -0.005),
    (0.093, -0.006, -0.017), (0.029, -0.002, -0.007), (0.024, -0.001, -0.004),
    (0.025, -0.015, 0.024), (0.025, -0.004, 0.023), (0.026, -0.002, 0.015),
)
_LEFT_HAND = REST_OFFSETS[LEFT_HAND]
REST_OFFSETS = REST_OFFSETS + tuple((-x, y, z) for (x, y, z) in _LEFT_HAND)
assert len(REST_OFFSETS) == NUM_JOINTS and len(PARENTS) == NUM_JOINTS and HANDS.stop == NUM_JOINTS

# Pelvis height above the floor in the neutral rest pose (metres); BEAT2 `trans` y is ≈ this.
PELVIS_REST_HEIGHT = 0.93


def mirror_joint(index: int) -> int:
    """Index of the joint on the other side of the body (itself for centre joints)."""
    name = JOINT_NAMES[index]
    if name.startswith("left_"):
        return JOINT_INDEX["right_" + name[5:]]
    if name.startswith("right_"):
        return JOINT_INDEX["left_" + name[6:]]
    return index
