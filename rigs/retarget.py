"""Put SMPL-X motion on any humanoid armature. Pure numpy; bpy only reads and writes the results.

Method (all in the target armature's space, Blender axes):
1. SMPL-X forward kinematics gives each joint's global rotation G_j(t); SMPL-X rest is a T-pose with
   every joint frame equal to the body frame, so G_j is also the joint's delta from rest. Convert to
   Blender axes (SMPL-X (x, y, z) → (x, −z, y)) and to the rig's facing.
2. Per target bone b, an alignment rotation S_b maps the SMPL-X rest segment direction d_b onto the
   bone's rest direction e_b (so A-pose vs T-pose and rolls cancel out): centre bones align
   (d_b, body left) → (e_b, body left); the hand aligns (d_b, across-palm) pairs; limbs and fingers
   take their parent's alignment plus the shortest arc for what is left; head, jaw, eyes and toes
   keep S = I (their rest poses agree: looking/pointing forward). Posture bones (pelvis, spine,
   neck, clavicles, legs, feet) keep S = I too when their rest direction (a centre chain's overall
   one) is within POSTURE_MATCH_MAX_DEG of the SMPL-X segment's: both rests are then the same
   standing posture differing only in proportions (where the joint centres sit, how curved the
   spine is), which must not turn into a pose (raised shoulders, bowed knees, a swayback). Centre
   bones that do align, align in the sagittal plane only: a sideways offset in a rest is not a lean.
3. Posed bone rotation in armature space: G_b = G_j(t) · S_bᵀ · R_b, with R_b the rest rotation
   (`bone.matrix_local`, roll included). Its direction is G_j(t)·d_b: the SMPL-X segment's.
4. Pose-bone rotation (Blender's `rotation_quaternion`): L_b = (R_pᵀ R_b)ᵀ G_pᵀ G_b.
Spine/neck chains of different length get the SMPL-X chain's rotation by slerp fractions; split
(twist) chains share the segment rotation. Unmapped bones keep rest relative to their parent.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._backend import hand_pose, kinematics, rotations, skeleton
from .skeletons import BoneChain, SkeletonMap

J = skeleton.JOINT_INDEX
NJ = skeleton.NUM_JOINTS

# SMPL-X (x, y, z) → Blender (x, −z, y).
SMPLX_TO_BLENDER = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])

# Joint whose position ends each SMPL-X segment (the segment's direction is joint → end).
SEGMENT_END: dict[int, int] = {
    J["pelvis"]: J["spine1"], J["spine1"]: J["spine2"], J["spine2"]: J["spine3"],
    J["spine3"]: J["neck"], J["neck"]: J["head"],
    **{J[f"{s}_{a}"]: J[f"{s}_{b}"] for s in ("left", "right") for a, b in (
        ("collar", "shoulder"), ("shoulder", "elbow"), ("elbow", "wrist"), ("wrist", "middle1"),
        ("hip", "knee"), ("knee", "ankle"), ("ankle", "foot"))},
    **{J[f"{s}_{f}{i}"]: J[f"{s}_{f}{i + 1}"] for s in ("left", "right")
       for f in ("index", "middle", "pinky", "ring", "thumb") for i in (1, 2)},
}
# Fingertip segments have no end joint: they continue the middle segment's direction.
TIP_CONTINUES: dict[int, int] = {J[f"{s}_{f}3"]: J[f"{s}_{f}2"] for s in ("left", "right")
                                 for f in ("index", "middle", "pinky", "ring", "thumb")}
CENTRE_JOINTS = frozenset(J[n] for n in ("pelvis", "spine1", "spine2", "spine3", "neck"))
# Rest poses of both skeletons agree for these (looking / pointing forward): transfer deltas as they are.
DELTA_JOINTS = frozenset(J[n] for n in ("head", "jaw", "left_eye_smplhf", "right_eye_smplhf",
                                         "left_foot", "right_foot"))
# Both rests stand the same way here; only proportions differ (see POSTURE_MATCH_MAX_DEG).
POSTURE_JOINTS = CENTRE_JOINTS | frozenset(J[f"{s}_{n}"] for s in ("left", "right")
                                           for n in ("collar", "hip", "knee", "ankle"))
# Above this rest-direction difference a posture bone is posed differently (legs spread wide, a raised
# clavicle): it follows the SMPL-X segment's direction like a limb.
POSTURE_MATCH_MAX_DEG = 35.0
FOOT_JOINTS = tuple(J[n] for n in ("left_ankle", "right_ankle", "left_foot", "right_foot"))


@dataclass(frozen=True, eq=False)
class RigDescription:
    """A target armature, bpy-free.

    bone_names (B,); parents (B,) parent index or −1; rest (B, 4, 4) armature-space rest matrices
    (Blender's `bone.matrix_local`: columns x, y = head→tail, z; roll included; translation = head);
    lengths (B,) head→tail lengths.
    """

    bone_names: tuple[str, ...]
    parents: tuple[int, ...]
    rest: np.ndarray
    lengths: np.ndarray
    name: str = "armature"

    def index(self, bone: str) -> int:
        return self.bone_names.index(bone)

    @property
    def heads(self) -> np.ndarray:
        """(B, 3)"""
        return self.rest[:, :3, 3]

    @property
    def tails(self) -> np.ndarray:
        """(B, 3)"""
        return self.rest[:, :3, 3] + self.rest[:, :3, 1] * self.lengths[:, None]

    @classmethod
    def from_heads_tails(cls, names, parents, heads, tails, rolls, name: str = "armature") -> "RigDescription":
        """Build from edit-bone data (heads/tails (B, 3), rolls (B,) radians, Blender's roll convention)."""
        heads = np.asarray(heads, dtype=np.float64)
        tails = np.asarray(tails, dtype=np.float64)
        rest = np.tile(np.eye(4), (len(names), 1, 1))
        rest[:, :3, :3] = bone_rest_rotation(tails - heads, np.asarray(rolls, dtype=np.float64))
        rest[:, :3, 3] = heads
        return cls(tuple(names), tuple(int(p) for p in parents), rest,
                   np.linalg.norm(tails - heads, axis=-1), name)


@dataclass(frozen=True, eq=False)
class RetargetedMotion:
    """Per-frame pose-bone values for one armature.

    rotations (T, B, 4) quaternions (w, x, y, z) in each bone's rest frame (Blender's
    `pose.bones[n].rotation_quaternion`), sign-continuous over time, identity for unmapped bones;
    root_location (T, 3) `pose.bones[root_bone].location`; mapped (B,) which bones SMPL-X drives.
    """

    bone_names: tuple[str, ...]
    rotations: np.ndarray
    root_bone: str
    root_location: np.ndarray
    mapped: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))


# --- small rotation helpers ----------------------------------------------------------------------

def bone_rest_rotation(vector: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """Blender's vec_roll_to_mat3: (B, 3) head→tail vectors, (B,) rolls → (B, 3, 3) bone rotations.

    The shortest rotation taking +Y to the bone direction, followed by `roll` about the bone.
    """
    nor = vector / np.linalg.norm(vector, axis=-1, keepdims=True)
    x, y, z = nor[:, 0], nor[:, 1], nor[:, 2]
    theta = 1.0 + y
    theta_alt = x * x + z * z
    near_neg_y = (theta <= 6.1e-3) & (theta_alt <= 2.5e-4)
    theta = np.where(theta > 6.1e-3, theta, theta_alt * 0.5 + theta_alt * theta_alt * 0.125)
    theta = np.where(near_neg_y, 1.0, theta)
    b = np.empty((len(nor), 3, 3))
    b[:, :, 0] = np.stack([1 - x * x / theta, -x, -x * z / theta], -1)
    b[:, :, 1] = nor
    b[:, :, 2] = np.stack([-x * z / theta, -z, 1 - z * z / theta], -1)
    b[near_neg_y] = np.diag([-1.0, -1.0, 1.0])
    return rotations.axis_angle_to_matrix(nor * roll[:, None]) @ b


def shortest_arc(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(3,) unit a → (3,) unit b: the smallest rotation (3, 3) taking a to b."""
    axis = np.cross(a, b)
    s, c = np.linalg.norm(axis), float(np.dot(a, b))
    if s < 1e-9:
        if c > 0:
            return np.eye(3)
        ortho = np.cross(a, [1.0, 0.0, 0.0] if abs(a[0]) < 0.9 else [0.0, 1.0, 0.0])
        return rotations.axis_angle_to_matrix(ortho / np.linalg.norm(ortho) * np.pi)
    return rotations.axis_angle_to_matrix(axis / s * np.arctan2(s, c))


def two_vector_alignment(a1, a2, b1, b2) -> np.ndarray:
    """Rotation (3, 3) taking a1 exactly onto b1 and a2 as close as possible to b2 (all (3,))."""
    def frame(u, v):
        u = u / np.linalg.norm(u)
        w = v - np.dot(v, u) * u
        n = np.linalg.norm(w)
        if n < 1e-6:
            return None
        w = w / n
        return np.stack([u, w, np.cross(u, w)], axis=-1)
    fa, fb = frame(np.asarray(a1, float), np.asarray(a2, float)), frame(np.asarray(b1, float), np.asarray(b2, float))
    if fa is None or fb is None:
        return shortest_arc(_unit(a1), _unit(b1))
    return fb @ fa.T


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _axis_permutation_nearest(m: np.ndarray) -> np.ndarray:
    """The signed axis permutation (a rotation) nearest to (3, 3) m."""
    best, score = np.eye(3), -np.inf
    for perm in ((0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)):
        for signs in np.array(np.meshgrid([1, -1], [1, -1], [1, -1])).T.reshape(-1, 3):
            p = np.zeros((3, 3))
            p[list(perm), [0, 1, 2]] = signs
            if np.linalg.det(p) > 0 and np.sum(p * m) > score:
                best, score = p, np.sum(p * m)
    return best


def _slerp_identity(m: np.ndarray, fraction: float) -> np.ndarray:
    """(..., 3, 3) rotation → the same rotation about the same axis by `fraction` of its angle."""
    return rotations.quat_to_matrix(rotations.quat_slerp(_IDENTITY_QUAT, rotations.matrix_to_quat(m), fraction))


_IDENTITY_QUAT = np.array([1.0, 0.0, 0.0, 0.0])


# --- rig analysis --------------------------------------------------------------------------------

def rig_facing(rig: RigDescription, mapping: SkeletonMap) -> np.ndarray:
    """(3, 3) rotation from Blender's standard facing (left +X, up +Z, facing −Y) to the rig's.

    Measured from the rig's hips (left − right) and spine (pelvis → head), snapped to the nearest
    axis permutation so that a slightly leaning rest pose does not tilt the motion.
    """
    def head_of(joint: str) -> np.ndarray:
        bones = mapping.bones_for_joint(J[joint])
        return rig.heads[rig.index(bones[0])]

    left = head_of("left_hip") - head_of("right_hip")
    up = head_of("head") - head_of("pelvis")
    measured = two_vector_alignment(np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0]), up, left)
    return _axis_permutation_nearest(measured)


def _topological_order(parents: tuple[int, ...]) -> list[int]:
    order, seen = [], set()

    def visit(i):
        if i in seen:
            return
        if parents[i] >= 0:
            visit(parents[i])
        seen.add(i)
        order.append(i)
    for i in range(len(parents)):
        visit(i)
    return order


@dataclass(frozen=True, eq=False)
class _BoneDrive:
    bone: int              # target bone index
    joint: int             # SMPL-X joint whose rotation drives it (end of its progress for bends)
    chain: BoneChain
    position: int          # index of the bone in its chain
    alignment: np.ndarray  # (3, 3) S_b
    ref_dir: np.ndarray    # (3,) SMPL-X rest reference direction in the rig's frame


def _bend_points(chain: BoneChain, rest_pos: np.ndarray) -> np.ndarray:
    """(m + 1, 3) rest positions of the SMPL-X polyline a bend chain follows."""
    ends = [SEGMENT_END.get(chain.joints[-1], chain.joints[-1])]
    return rest_pos[list(chain.joints) + ends]


def _polyline_at(points: np.ndarray, u: float) -> np.ndarray:
    k = min(int(np.floor(u)), len(points) - 2)
    return points[k] + (u - k) * (points[k + 1] - points[k])


def plan_drives(rig: RigDescription, mapping: SkeletonMap, rest_pos: np.ndarray,
                facing: np.ndarray) -> list[_BoneDrive]:
    """Alignment of every mapped bone. rest_pos: (55, 3) SMPL-X rest joints, already in the rig's frame."""
    left = facing @ np.array([1.0, 0.0, 0.0])
    last_alignment: dict[int, np.ndarray] = {}  # SMPL-X joint → alignment of its last bone
    drives: list[_BoneDrive] = []
    for chain in sorted(mapping.chains, key=lambda c: c.joints[0]):
        bones = [rig.index(b) for b in chain.bones]
        parent_joint = skeleton.PARENTS[chain.joints[0]]
        while parent_joint >= 0 and parent_joint not in last_alignment:
            parent_joint = skeleton.PARENTS[parent_joint]
        inherited = last_alignment.get(parent_joint, np.eye(3))
        m, n = len(chain.joints), len(bones)
        centre = not chain.split and m >= 1 and chain.joints[-1] in CENTRE_JOINTS
        # A posture chain keeps its own shape (spine curvature, clavicle split in two) when it stands
        # like the SMPL-X one overall.
        pts = _bend_points(chain, rest_pos)
        posture = drives_as_posture(chain.joints[-1], *_chain_dirs(rig, mapping, chain, rest_pos))
        for i, b in enumerate(bones):
            e = rig.rest[b, :3, 1]
            joint = chain.joints[-1] if chain.split else chain.joints[min(int(np.ceil((i + 1) * m / n)) - 1, m - 1)]
            if centre:
                seg_m = len(pts) - 1
                d = _unit(_polyline_at(pts, seg_m * (i + 1) / n) - _polyline_at(pts, seg_m * i / n))
                s = np.eye(3) if posture else two_vector_alignment(sagittal(d, left), left, sagittal(e, left), left)
            elif joint in DELTA_JOINTS:
                d, s = e.copy(), np.eye(3)
            else:
                if joint in SEGMENT_END:
                    d = _unit(rest_pos[SEGMENT_END[joint]] - rest_pos[joint])
                else:
                    d = _unit(rest_pos[joint] - rest_pos[TIP_CONTINUES[joint]])
                if posture:
                    s = _leg_line_alignment(rig, mapping, joint, rest_pos, inherited)
                    drives.append(_BoneDrive(b, joint, chain, i, s, d))
                    inherited = s
                    continue
                s = _hand_alignment(rig, mapping, joint, d, e, rest_pos)
                if s is None:
                    s = shortest_arc(inherited @ d, e) @ inherited
            drives.append(_BoneDrive(b, joint, chain, i, s, d))
            inherited = s
        last_alignment[chain.joints[-1]] = inherited
    return drives


def sagittal(v: np.ndarray, left: np.ndarray) -> np.ndarray:
    """(3,) direction v without its component along the body's left axis (3,), unit length."""
    return _unit(v - np.dot(v, left) * left)


def drives_as_posture(joint: int, smplx_dir: np.ndarray, rig_dir: np.ndarray) -> bool:
    """Whether `joint`'s bone carries the SMPL-X rotation from its own rest (S = I): a posture joint
    whose rest directions (3,) (SMPL-X segment, rig bone; same frame) differ by < POSTURE_MATCH_MAX_DEG."""
    if joint not in POSTURE_JOINTS:
        return False
    cos = float(np.dot(_unit(smplx_dir), _unit(rig_dir)))
    return cos > np.cos(np.radians(POSTURE_MATCH_MAX_DEG))


def _leg_line_alignment(rig, mapping, joint, rest_pos, inherited) -> np.ndarray:
    """S of a posture bone: the thigh turns the rig's hip→ankle line onto SMPL-X's seen from the front
    (the stance width; the knee keeps the rig's own shape), the shin keeps the thigh's, everything else
    is I (3, 3)."""
    name = skeleton.JOINT_NAMES[joint]
    if name.endswith("_knee"):
        return inherited
    if not name.endswith("_hip"):
        return np.eye(3)
    side = name[:-len("_hip")]
    hip_bones, knee_bones = mapping.bones_for_joint(joint), mapping.bones_for_joint(J[f"{side}_knee"])
    if not knee_bones:
        return np.eye(3)
    rig_line = rig.tails[rig.index(knee_bones[-1])] - rig.heads[rig.index(hip_bones[0])]
    smplx_line = rest_pos[J[f"{side}_ankle"]] - rest_pos[joint]
    forward = rig_facing(rig, mapping) @ np.array([0.0, -1.0, 0.0])
    frontal = [_unit(v - np.dot(v, forward) * forward) for v in (smplx_line, rig_line)]  # width only
    return shortest_arc(*frontal)


def leg_line_bones(rig: RigDescription, mapping: SkeletonMap) -> frozenset[str]:
    """Posture bones of the legs (hip, knee) whose hip→ankle line follows SMPL-X's rather than their rest."""
    legs = {J[f"{s}_{n}"] for s in ("left", "right") for n in ("hip", "knee")}
    facing = rig_facing(rig, mapping)
    rest_pos = smplx_rest_positions(np.asarray(skeleton.REST_OFFSETS, dtype=np.float64)) @ (facing @ SMPLX_TO_BLENDER).T
    return frozenset(rig.bone_names[dr.bone] for dr in plan_drives(rig, mapping, rest_pos, facing)
                     if dr.joint in legs and not np.allclose(dr.alignment, np.eye(3))
                     and drives_as_posture(dr.joint, *_chain_dirs(rig, mapping, dr.chain, rest_pos)))


def _chain_dirs(rig, mapping, chain, rest_pos):
    pts = _bend_points(chain, rest_pos)
    return pts[-1] - pts[0], rig.tails[rig.index(chain.bones[-1])] - rig.heads[rig.index(chain.bones[0])]


def posture_bones(rig: RigDescription, mapping: SkeletonMap) -> frozenset[str]:
    """Names of the bones that carry the SMPL-X rotation from their own rest (posture bones, S = I)."""
    facing = rig_facing(rig, mapping)
    to_rig = facing @ SMPLX_TO_BLENDER
    rest_pos = smplx_rest_positions(np.asarray(skeleton.REST_OFFSETS, dtype=np.float64)) @ to_rig.T
    return frozenset(rig.bone_names[dr.bone] for dr in plan_drives(rig, mapping, rest_pos, facing)
                     if dr.joint in POSTURE_JOINTS and np.allclose(dr.alignment, np.eye(3)))


def _hand_alignment(rig, mapping, joint, d, e, rest_pos):
    """Wrist alignment from (segment, across-palm) pairs, or None when the rig has no index/pinky."""
    name = skeleton.JOINT_NAMES[joint]
    if not name.endswith("_wrist"):
        return None
    side = name[:-len("_wrist")]
    index_bones = mapping.bones_for_joint(J[f"{side}_index1"])
    little_bones = mapping.bones_for_joint(J[f"{side}_pinky1"]) or mapping.bones_for_joint(J[f"{side}_ring1"])
    if not index_bones or not little_bones:
        return None
    little_joint = J[f"{side}_pinky1"] if mapping.bones_for_joint(J[f"{side}_pinky1"]) else J[f"{side}_ring1"]
    across_smplx = rest_pos[little_joint] - rest_pos[J[f"{side}_index1"]]
    across_rig = rig.heads[rig.index(little_bones[0])] - rig.heads[rig.index(index_bones[0])]
    return two_vector_alignment(d, across_smplx, e, across_rig)


def smplx_rest_positions(offsets: np.ndarray) -> np.ndarray:
    """(55, 3) rest offsets from parents → (55, 3) rest joint positions relative to the pelvis."""
    pos = np.zeros((NJ, 3))
    for i, p in enumerate(skeleton.PARENTS):
        pos[i] = offsets[i] if p < 0 else pos[p] + offsets[i]
    return pos - pos[0]


def _leg_length(lengths) -> float:
    return float(np.mean(lengths)) if len(lengths) else float("nan")


def default_hand_mean() -> np.ndarray:
    """(30, 3) the project's stand-in for MANO's mean relaxed hand (backend.formats.hand_pose)."""
    return np.asarray(hand_pose.MEAN_RELAXED_HAND, dtype=np.float64)


def retarget_smplx_to_rig(poses: np.ndarray, trans: np.ndarray, rig: RigDescription, mapping: SkeletonMap,
                          hand_mean: np.ndarray | None = None,
                          smplx_offsets: np.ndarray | None = None) -> RetargetedMotion:
    """SMPL-X motion → pose-bone rotations and root location for `rig`.

    poses: (T, 165) or (T, 55, 3) axis-angle, fingers relative to the mean hand (BEAT2,
    `flat_hand_mean=False`); trans: (T, 3) metres, Y up.
    hand_mean: (30, 3) or (90,) finger axis-angles of the mean hand, joints 25–54 (a user's model file:
    concatenate hands_meanl, hands_meanr); None → the project's authored relaxed hand; pass zeros for
    flat-hand-relative poses. smplx_offsets: (55, 3) rest offsets from each joint's parent (a user's
    model: J[i] − J[parent]); None → the approximate neutral ones.
    The root translation is scaled by target leg length / SMPL-X leg length, relative to the first
    frame horizontally and to the clip's floor (lowest foot joint) vertically.
    """
    poses = np.asarray(poses, dtype=np.float64).reshape(len(poses), NJ, 3).copy()
    trans = np.asarray(trans, dtype=np.float64).reshape(-1, 3)
    t_frames = len(poses)
    mean = default_hand_mean() if hand_mean is None else np.asarray(hand_mean, dtype=np.float64)
    poses = hand_pose.add_hand_mean(poses, mean)
    offsets = np.asarray(skeleton.REST_OFFSETS if smplx_offsets is None else smplx_offsets, dtype=np.float64)

    facing = rig_facing(rig, mapping)
    to_rig = facing @ SMPLX_TO_BLENDER
    glob, pos = kinematics.forward_kinematics(poses, trans, offsets)
    glob_rig = to_rig @ glob @ to_rig.T                          # (T, 55, 3, 3)
    rest_pos = smplx_rest_positions(offsets) @ to_rig.T          # (55, 3)
    drives = plan_drives(rig, mapping, rest_pos, facing)

    n_bones = len(rig.bone_names)
    posed = np.empty((t_frames, n_bones, 3, 3))
    driven: dict[int, np.ndarray] = {}
    for dr in drives:
        chain = dr.chain
        if chain.split or len(chain.joints) == 0:
            g = glob_rig[:, dr.joint]
        else:
            g = _bend_rotation(glob_rig, chain, (dr.position + 1) / len(chain.bones))
        driven[dr.bone] = g @ dr.alignment.T @ rig.rest[dr.bone, :3, :3]

    rest_rot = rig.rest[:, :3, :3]
    local = np.empty((t_frames, n_bones, 3, 3))
    for b in _topological_order(rig.parents):
        p = rig.parents[b]
        if b in driven:
            posed[:, b] = driven[b]
        elif p >= 0:
            posed[:, b] = posed[:, p] @ (rest_rot[p].T @ rest_rot[b])
        else:
            posed[:, b] = rest_rot[b]
        rest_rel = rest_rot[b] if p < 0 else rest_rot[p].T @ rest_rot[b]
        parent_posed = np.eye(3) if p < 0 else posed[:, p]
        local[:, b] = rest_rel.T @ np.swapaxes(parent_posed, -1, -2) @ posed[:, b]

    quats = rotations.quat_make_continuous(rotations.matrix_to_quat(local), axis=0)
    mapped = np.zeros(n_bones, dtype=bool)
    mapped[list(driven)] = True

    root = rig.index(mapping.root_bone)
    delta = _root_displacement(pos, rest_pos, offsets, to_rig, facing, rig, mapping)
    p = rig.parents[root]
    frame = rest_rot[root] if p < 0 else posed[:, p] @ rest_rot[p].T @ rest_rot[root]
    root_location = np.einsum("...ji,...j->...i", np.broadcast_to(frame, (t_frames, 3, 3)), delta)
    return RetargetedMotion(rig.bone_names, quats, mapping.root_bone, root_location, mapped)


def _bend_rotation(glob_rig: np.ndarray, chain: BoneChain, progress: float) -> np.ndarray:
    """(T, 3, 3) global rotation at `progress` ∈ (0, 1] along a bend chain of SMPL-X joints."""
    parent = skeleton.PARENTS[chain.joints[0]]
    gs = [glob_rig[:, parent]] + [glob_rig[:, j] for j in chain.joints]
    u = progress * len(chain.joints)
    k = min(int(np.floor(u + 1e-9)), len(chain.joints))
    frac = u - k
    if frac < 1e-9:
        return gs[k]
    step = np.swapaxes(gs[k], -1, -2) @ gs[k + 1]
    return gs[k] @ _slerp_identity(step, frac)


def _root_displacement(pos, rest_pos, offsets, to_rig, facing, rig, mapping) -> np.ndarray:
    """(T, 3) armature-space displacement of the root bone from its rest position."""
    up = facing @ np.array([0.0, 0.0, 1.0])
    pos_rig = pos @ to_rig.T                              # (T, 55, 3)
    height = pos_rig @ up                                 # (T, 55)
    # how far the SMPL-X foot joints sit above the floor when standing (≈ 0 for the neutral body)
    neutral_rest = smplx_rest_positions(np.asarray(skeleton.REST_OFFSETS, dtype=np.float64))
    clearance = skeleton.PELVIS_REST_HEIGHT + float(np.min(neutral_rest[list(FOOT_JOINTS), 1]))
    floor = float(np.min(height[:, FOOT_JOINTS])) - clearance
    standing = -float(np.min(rest_pos[list(FOOT_JOINTS)] @ up)) + clearance
    pelvis = pos_rig[:, 0]
    vertical = (pelvis @ up) - floor - standing
    horizontal = pelvis - np.outer(pelvis @ up, up)
    horizontal = horizontal - horizontal[0]

    smplx_leg = [np.linalg.norm(rest_pos[J[f"{s}_knee"]] - rest_pos[J[f"{s}_hip"]])
                 + np.linalg.norm(rest_pos[J[f"{s}_ankle"]] - rest_pos[J[f"{s}_knee"]]) for s in ("left", "right")]
    rig_leg = [sum(rig.lengths[rig.index(b)] for j in (f"{s}_hip", f"{s}_knee")
                   for b in mapping.bones_for_joint(J[j])) for s in ("left", "right")]
    scale = _leg_length(rig_leg) / _leg_length(smplx_leg)
    return scale * (horizontal + np.outer(vertical, up))


def pose_rig(rig: RigDescription, motion: RetargetedMotion) -> np.ndarray:
    """Armature-space pose matrices (T, B, 4, 4) from pose-bone values, as Blender evaluates them.

    pose_b = pose_parent · rest_parent⁻¹ · rest_b · T(location) · R(quaternion).
    """
    t_frames, n_bones = motion.rotations.shape[:2]
    basis = np.tile(np.eye(4), (t_frames, n_bones, 1, 1))
    basis[..., :3, :3] = rotations.quat_to_matrix(motion.rotations)
    root = rig.index(motion.root_bone)
    basis[:, root, :3, 3] = motion.root_location
    out = np.empty((t_frames, n_bones, 4, 4))
    for b in _topological_order(rig.parents):
        p = rig.parents[b]
        rel = rig.rest[b] if p < 0 else np.linalg.inv(rig.rest[p]) @ rig.rest[b]
        out[:, b] = (rel if p < 0 else out[:, p] @ rel) @ basis[:, b]
    return out
