"""The inverse of retargeting: a posed rig → SMPL-X joint rotations, for masked keyframe prompts.

`retarget_smplx_to_rig` poses bone b as G_b = g_b · S_bᵀ · R_b (armature space), where g_b is the
SMPL-X joint's global rotation in the rig's frame (or, along a bend chain, the rotation at the bone's
progress between its joints). Reading a pose back: g_b = G_b · R_bᵀ · S_b from the same alignments
(`plan_drives`), then the joint globals in SMPL-X axes and their local rotations. Chains with one
bone per joint (the default character, Unreal, Mixamo, SMPL-X) give back any pose exactly; a bend
chain with more bones than joints, or split twist bones, carry fewer degrees of freedom than the rig,
so there the pose is read from the bone nearest each joint (exact for poses retargeting produced).
Joints no bone drives are not determined: they get the identity rotation and a False mask.

The root position is read with the same mapping retargeting uses, linearised about the standing rest
(probed through `retarget_smplx_to_rig`, so the two never disagree). Takes place their root relative to
their first frame, so a root-position prompt is exact only for takes that start at the rest position.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._backend import hand_pose, rotations, skeleton
from .retarget import (SMPLX_TO_BLENDER, RetargetedMotion, RigDescription, default_hand_mean, plan_drives,
                       pose_rig, retarget_smplx_to_rig, rig_facing, smplx_rest_positions)
from .skeletons import SkeletonMap

NJ = skeleton.NUM_JOINTS
J = skeleton.JOINT_INDEX

# Body parts an artist prompts as a whole, as SMPL-X joints; "root" also fixes the root position and
# "head" also the face curves. Jaw and eyes follow the face curves (backend/prompts.py), so no part
# names them as joints.
PART_JOINTS: dict[str, tuple[int, ...]] = {
    "upper": tuple(J[n] for n in ("spine1", "spine2", "spine3", "left_collar", "right_collar", "left_shoulder",
                                  "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist")),
    "hands": skeleton.HAND_JOINTS,
    "lower": tuple(J[n] for n in ("left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
                                  "left_foot", "right_foot")),
    "head": (J["neck"], J["head"]),
    "root": (J["pelvis"],),
}
PARTS: tuple[str, ...] = tuple(PART_JOINTS)


@dataclass(frozen=True, eq=False)
class CapturedPose:
    """poses (T, 55, 3) axis-angle local rotations (fingers relative to the hand mean, as in BEAT2);
    trans (T, 3) root position, metres, Y up; joint_mask (55,) joints the rig's bones determine."""

    poses: np.ndarray
    trans: np.ndarray
    joint_mask: np.ndarray


def part_joint_mask(parts) -> np.ndarray:
    """(55,) bool: the joints of the named parts (names from PARTS)."""
    mask = np.zeros(NJ, bool)
    for part in parts:
        mask[list(PART_JOINTS[part])] = True
    return mask


def bone_joint_mask(mapping: SkeletonMap, bone_names) -> np.ndarray:
    """(55,) bool: the SMPL-X joints the given rig bones drive (selected bones → prompted joints)."""
    wanted = set(bone_names)
    mask = np.zeros(NJ, bool)
    for chain in mapping.chains:
        if wanted & set(chain.bones):
            mask[list(chain.joints)] = True
    return mask


def _power(m: np.ndarray, fraction: float) -> np.ndarray:
    """(..., 3, 3) rotation → the rotation about the same axis by `fraction` of its angle."""
    return rotations.axis_angle_to_matrix(rotations.matrix_to_axis_angle(m) * fraction)


def _chain_globals(chain, bone_globals: dict[int, np.ndarray], parent_global: np.ndarray) -> list[np.ndarray]:
    """Joint globals (T, 3, 3) of one chain from its bones' g_b (keyed by position in the chain).

    Split chains: every piece carries the joint's rotation; the first is read. Bend chains: bone i sits
    at u = (i + 1)·m/n along the joints (u = k is joint k, between joints a constant-rate rotation).
    """
    n, m = len(chain.bones), len(chain.joints)
    if chain.split:
        return [bone_globals[0]]
    u = np.array([(i + 1) * m / n for i in range(n)])
    out = [parent_global]
    for k in range(1, m + 1):
        exact = np.flatnonzero(np.abs(u - k) < 1e-9)
        if len(exact):
            out.append(bone_globals[int(exact[0])])
            continue
        i = int(np.flatnonzero(u > k - 1 + 1e-9)[0])   # the first bone past joint k − 1
        step = np.swapaxes(out[-1], -1, -2) @ bone_globals[i]
        out.append(out[-1] @ _power(step, 1.0 / (u[i] - (k - 1))))
    return out[1:]


def root_position_map(rig: RigDescription, mapping: SkeletonMap, smplx_offsets: np.ndarray | None = None
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(trans0 (3,), location0 (3,), A (3, 3)): root-bone location ≈ location0 + A·(trans − trans0) about
    the standing rest, probed through retarget_smplx_to_rig (rest pose, 10 cm steps up, sideways, forward)."""
    trans0 = np.array([0.0, skeleton.PELVIS_REST_HEIGHT, 0.0])
    step = 0.1
    trans = np.stack([trans0, trans0 + [step, 0, 0], trans0 + [0, step, 0], trans0 + [0, 0, step]])
    moved = retarget_smplx_to_rig(np.zeros((4, NJ, 3)), trans, rig, mapping, smplx_offsets=smplx_offsets)
    loc = moved.root_location
    return trans0, loc[0], (loc[1:] - loc[0]).T / step


def rig_pose_to_smplx(rig: RigDescription, mapping: SkeletonMap, bone_rotations: np.ndarray,
                      root_location: np.ndarray | None = None, hand_mean: np.ndarray | None = None,
                      smplx_offsets: np.ndarray | None = None) -> CapturedPose:
    """Posed rig → SMPL-X pose, the inverse of retarget_smplx_to_rig on the joints the rig drives.

    bone_rotations: (T, B, 4) or (B, 4) pose-bone quaternions (w, x, y, z) in rig.bone_names order
    (Blender's `rotation_quaternion`); root_location: (T, 3) or (3,) the root bone's `location` (None:
    at rest). hand_mean / smplx_offsets as for retarget_smplx_to_rig.
    """
    q = np.asarray(bone_rotations, dtype=np.float64)
    single = q.ndim == 2
    q = q[None] if single else q
    t_frames = len(q)
    loc = np.zeros((t_frames, 3)) if root_location is None else np.asarray(root_location, np.float64).reshape(-1, 3)
    loc = np.broadcast_to(loc, (t_frames, 3))
    offsets = np.asarray(skeleton.REST_OFFSETS if smplx_offsets is None else smplx_offsets, dtype=np.float64)
    mean = default_hand_mean() if hand_mean is None else np.asarray(hand_mean, dtype=np.float64)

    facing = rig_facing(rig, mapping)
    to_rig = facing @ SMPLX_TO_BLENDER
    rest_pos = smplx_rest_positions(offsets) @ to_rig.T
    drives = plan_drives(rig, mapping, rest_pos, facing)
    posed = pose_rig(rig, RetargetedMotion(rig.bone_names, q, mapping.root_bone, loc))[..., :3, :3]  # (T, B, 3, 3)

    # g_b for every driven bone, grouped by chain
    per_chain: dict[int, dict[int, np.ndarray]] = {}
    chain_of: dict[int, object] = {}
    for d in drives:
        g = posed[:, d.bone] @ rig.rest[d.bone, :3, :3].T @ d.alignment
        per_chain.setdefault(id(d.chain), {})[d.position] = g
        chain_of[id(d.chain)] = d.chain
    first_joint = {chain.joints[0]: key for key, chain in chain_of.items() if chain.joints}

    glob_rig = np.empty((t_frames, NJ, 3, 3))
    known = np.zeros(NJ, bool)
    done = np.zeros(NJ, bool)
    for j in range(NJ):  # SMPL-X parents precede their children
        if done[j]:
            continue
        p = skeleton.PARENTS[j]
        parent_global = np.broadcast_to(np.eye(3), (t_frames, 3, 3)) if p < 0 else glob_rig[:, p]
        if j in first_joint:
            chain = chain_of[first_joint[j]]
            joints = chain.joints if not chain.split else chain.joints[-1:]
            for joint, g in zip(joints, _chain_globals(chain, per_chain[first_joint[j]], parent_global)):
                glob_rig[:, joint] = g
                known[joint] = done[joint] = True
            continue
        glob_rig[:, j] = parent_global  # not driven by any bone: identity local rotation
        done[j] = True

    glob = to_rig.T @ glob_rig @ to_rig
    parents = np.array([max(p, 0) for p in skeleton.PARENTS])
    local = np.swapaxes(glob[:, parents], -1, -2) @ glob
    local[:, 0] = glob[:, 0]
    poses = rotations.matrix_to_axis_angle(local)
    poses[:, ~known] = 0.0
    poses = hand_pose.add_hand_mean(poses, -np.asarray(mean, np.float64))  # retargeting adds the mean hand back
    poses[:, skeleton.HANDS][:, ~known[skeleton.HANDS]] = 0.0

    trans0, loc0, a = root_position_map(rig, mapping, smplx_offsets)
    trans = trans0 + (loc - loc0) @ np.linalg.inv(a).T
    if single:
        return CapturedPose(poses[0], trans[0], known)
    return CapturedPose(poses, trans, known)
