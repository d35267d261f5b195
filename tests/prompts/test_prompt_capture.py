"""Rig pose → SMPL-X (prompt capture) is the inverse of retargeting: retarget(capture(pose)) gives the pose back."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from backend.motion import rotations
from backend.vocabulary import skeleton
from rigs.prompt_capture import PART_JOINTS, bone_joint_mask, part_joint_mask, rig_pose_to_smplx
from rigs.retarget import retarget_smplx_to_rig
from rigs.skeletons import detect_skeleton

_spec = importlib.util.spec_from_file_location(
    "retarget_rigs", Path(__file__).resolve().parents[1] / "rigs" / "test_retarget.py")
retarget_rigs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(retarget_rigs)  # the test rigs of every family the retarget tests use
RIGS = retarget_rigs.all_test_rigs()
J = skeleton.JOINT_INDEX
FACE_DRIVEN = [J["jaw"], J["left_eye_smplhf"], J["right_eye_smplhf"]]


def rotation_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(..., 4) quaternions → (...,) angle between them, radians (sign-agnostic)."""
    dot = np.abs(np.sum(a * b, axis=-1))
    return 2.0 * np.arccos(np.clip(dot, 0.0, 1.0))


def random_smplx_poses(rng, t=6) -> np.ndarray:
    poses = rng.normal(0.0, 0.35, (t, 55, 3))
    poses[:, FACE_DRIVEN] = 0.0
    return poses


@pytest.mark.parametrize("rig_name", sorted(RIGS))
def test_capture_then_retarget_gives_the_rig_pose_back(rig_name):
    """Rig poses that retargeting produces (every family, bend and twist chains included)."""
    rig = RIGS[rig_name]
    mapping = detect_skeleton(rig.bone_names, rig.parents, rig.name)
    rng = np.random.default_rng(11)
    trans = np.tile([0.0, skeleton.PELVIS_REST_HEIGHT, 0.0], (6, 1))
    posed = retarget_smplx_to_rig(random_smplx_poses(rng), trans, rig, mapping)
    captured = rig_pose_to_smplx(rig, mapping, posed.rotations, posed.root_location)
    again = retarget_smplx_to_rig(captured.poses, captured.trans, rig, mapping)
    err = rotation_error(again.rotations[:, posed.mapped], posed.rotations[:, posed.mapped])
    assert err.max() < 1e-3, (rig_name, err.max())
    # every joint a bone drives is determined, the face-driven ones are not prompted as rotations
    driven = np.zeros(55, bool)
    for chain in mapping.chains:
        driven[list(chain.joints)] = True
    assert np.array_equal(captured.joint_mask, driven)


@pytest.mark.parametrize("rig_name", ["default_character", "mixamo_like_a_pose", "smplx"])
def test_any_pose_of_a_one_bone_per_joint_rig_round_trips(rig_name):
    """Arbitrary artist poses on every mapped bone (not only retargeted ones) come back exactly."""
    rig = RIGS[rig_name]
    mapping = detect_skeleton(rig.bone_names, rig.parents, rig.name)
    rng = np.random.default_rng(5)
    mapped = np.isin(rig.bone_names, mapping.mapped_bones)
    q = np.tile([1.0, 0.0, 0.0, 0.0], (4, len(rig.bone_names), 1))
    q[:, mapped] = rotations.axis_angle_to_quat(rng.normal(0.0, 0.5, (4, mapped.sum(), 3)))
    captured = rig_pose_to_smplx(rig, mapping, q)
    again = retarget_smplx_to_rig(captured.poses, captured.trans, rig, mapping)
    err = rotation_error(again.rotations[:, mapped], q[:, mapped])
    assert err.max() < 1e-3, err.max()


def test_rest_pose_reads_as_the_standing_rest():
    rig = RIGS["default_character"]
    mapping = detect_skeleton(rig.bone_names, rig.parents, rig.name)
    q = np.tile([1.0, 0.0, 0.0, 0.0], (len(rig.bone_names), 1))
    captured = rig_pose_to_smplx(rig, mapping, q)
    back = retarget_smplx_to_rig(captured.poses[None], captured.trans[None], rig, mapping)
    assert rotation_error(back.rotations[0], q).max() < 1e-3
    assert abs(captured.trans[1] - skeleton.PELVIS_REST_HEIGHT) < 0.02
    # a root moved 20 cm sideways reads as the SMPL-X root moved about as far
    root = rig.index(mapping.root_bone)
    sideways = back.root_location[0] + rig.rest[root, :3, :3].T @ [0.2, 0, 0]  # location is in the bone's frame
    shifted = rig_pose_to_smplx(rig, mapping, q, root_location=sideways)
    again = retarget_smplx_to_rig(np.stack([captured.poses, shifted.poses]),
                                  np.stack([captured.trans, shifted.trans]), rig, mapping)
    travelled = again.root_location[1] - again.root_location[0]
    assert np.allclose(rig.rest[root, :3, :3] @ travelled, [0.2, 0, 0], atol=5e-3)  # linearised: within 5 mm


def test_part_and_bone_masks():
    assert part_joint_mask(["hands"]).sum() == 30
    assert not part_joint_mask(list(PART_JOINTS))[FACE_DRIVEN].any()
    rig = RIGS["default_character"]
    mapping = detect_skeleton(rig.bone_names, rig.parents, rig.name)
    mask = bone_joint_mask(mapping, ["upperarm_l", "hand_l"])
    assert np.flatnonzero(mask).tolist() == [J["left_shoulder"], J["left_wrist"]]
