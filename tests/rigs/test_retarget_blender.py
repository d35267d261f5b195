"""Retargeting checked in real Blender: pose bones set by apply_pose give the SMPL-X directions; the
SMPL-X rig built from a (synthetic) user model has the right mesh, bones and shape keys."""
from __future__ import annotations

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from backend.formats.motion_npz import read_motion_npz, write_motion_npz  # noqa: E402
from backend.vocabulary import skeleton  # noqa: E402
from rigs.blender.pose import apply_pose, apply_shape_key_frame, describe_armature  # noqa: E402
from rigs.blender.smplx_rig import build_flame_head, build_smplx_rig  # noqa: E402
from rigs.face_map import match_expression_keys  # noqa: E402
from rigs.flame_model import load_flame_model, synthetic_flame_arrays  # noqa: E402
from rigs.retarget import SMPLX_TO_BLENDER, RigDescription, retarget_smplx_to_rig  # noqa: E402
from rigs.skeletons import detect_skeleton  # noqa: E402
from rigs.smplx_model import load_smplx_model, write_synthetic_smplx  # noqa: E402
from tests.rigs.test_retarget import (TOL_DEG, _pose, all_test_rigs, canonical_poses,  # noqa: E402
                                      direction_errors, retarget_for_check)

pytestmark = pytest.mark.blender


@pytest.fixture(autouse=True)
def empty_scene():
    bpy.ops.wm.read_factory_settings(use_empty=True)
    yield


def build_armature(rig: RigDescription, rolls=None):
    """An armature whose edit bones have the rig's rest heads and tails; rolls given, or the rig's Z axes."""
    arm = bpy.data.armatures.new(rig.name)
    obj = bpy.data.objects.new(rig.name, arm)
    bpy.context.collection.objects.link(obj)
    bpy.context.view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode="EDIT")
    ebs = []
    for i, name in enumerate(rig.bone_names):
        eb = arm.edit_bones.new(name)
        eb.head, eb.tail = rig.heads[i].tolist(), rig.tails[i].tolist()
        if rolls is None:
            eb.align_roll(rig.rest[i, :3, 2].tolist())  # Z axis as in the description
        else:
            eb.roll = float(rolls[i])
        ebs.append(eb)
    for eb, p in zip(ebs, rig.parents):
        if p >= 0:
            eb.parent = ebs[p]
    bpy.ops.object.mode_set(mode="OBJECT")
    return obj


def posed_matrices(obj, motion) -> np.ndarray:
    """(T, B, 4, 4) pose_bone.matrix after apply_pose of every frame and a view-layer update."""
    out = []
    for k in range(motion.rotations.shape[0]):
        apply_pose(obj, motion, k)
        bpy.context.view_layer.update()
        out.append([np.array(obj.pose.bones[n].matrix) for n in motion.bone_names])
    return np.array(out)


@pytest.mark.parametrize("rig_name", ["default_character", "mixamo_like_a_pose", "rigify_like_4_spine", "smplx"])
def test_bone_directions_in_blender(rig_name):
    rig = all_test_rigs()[rig_name]
    rolls = None
    if rig_name == "default_character":  # Blender's own roll → matrix, to check bone_rest_rotation
        from rigs.character_asset import load_default_character
        rolls = load_default_character().bone_rolls
    obj = build_armature(rig, rolls)
    described = describe_armature(obj)
    assert set(described.bone_names) == set(rig.bone_names)  # Blender may reorder bones
    order = [rig.index(n) for n in described.bone_names]
    parent_names = [described.bone_names[p] if p >= 0 else None for p in described.parents]
    assert parent_names == [rig.bone_names[rig.parents[i]] if rig.parents[i] >= 0 else None for i in order]
    # our bpy-free roll convention equals Blender's: the described rest equals the synthetic one
    np.testing.assert_allclose(described.rest, rig.rest[order], atol=1e-4)
    poses = canonical_poses()
    motion = retarget_for_check(described, poses)
    errors = direction_errors(described, poses, posed_matrices(obj, motion))
    worst = max(errors, key=errors.get)
    print(f"bpy {rig_name}: worst {errors[worst]:.3f}° ({worst})")
    assert errors[worst] < TOL_DEG, f"{worst}: {errors[worst]:.2f}°"


@pytest.fixture(scope="module")
def smplx_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("smplx") / "SMPLX_NEUTRAL.npz"
    write_synthetic_smplx(path, np.random.default_rng(5))
    return load_smplx_model(path)


def test_smplx_rig_mesh_bones_and_keys(smplx_model):
    arm, mesh = build_smplx_rig(bpy.context, smplx_model, "SMPLX", num_betas=10, num_expressions=100)
    assert len(mesh.data.vertices) == 10475
    assert sorted(b.name for b in arm.data.bones) == sorted(skeleton.JOINT_NAMES)
    assert all(b.use_deform for b in arm.data.bones)
    assert {g.name for g in mesh.vertex_groups} == set(skeleton.JOINT_NAMES)
    keys = mesh.data.shape_keys.key_blocks
    names = [k.name for k in keys]
    assert names[0] == "Basis" and names[1:11] == [f"Shape{i:03d}" for i in range(10)]
    assert names[11:] == [f"Exp{i:03d}" for i in range(100)]
    basis = np.empty(10475 * 3, np.float32)
    keys["Basis"].data.foreach_get("co", basis)
    for name, dirs in (("Shape003", smplx_model.shapedirs[:, :, 3]), ("Exp042", smplx_model.exprdirs[:, :, 42])):
        co = np.empty(10475 * 3, np.float32)
        keys[name].data.foreach_get("co", co)
        np.testing.assert_allclose((co - basis).reshape(-1, 3), dirs @ SMPLX_TO_BLENDER.T, atol=1e-6)
    assert keys["Shape000"].slider_min == -5.0 and keys["Exp000"].slider_max == 3.0
    # heads at J_regressor · v_template in Blender axes
    heads = np.array([arm.data.bones[n].head_local for n in skeleton.JOINT_NAMES])
    np.testing.assert_allclose(heads, smplx_model.joints() @ SMPLX_TO_BLENDER.T, atol=1e-5)


def test_motion_file_on_smplx_rig(smplx_model, tmp_path):
    """A BEAT2-schema motion.npz, frame k: bone directions follow SMPL-X FK of the user's body; Exp keys
    carry the frame's expression coefficients."""
    rng = np.random.default_rng(11)
    t = 6
    poses = rng.normal(0.0, 0.3, (t, 55, 3))
    poses[3] = _pose(left_shoulder=[0, 0, -0.8], left_elbow=[0, -1.5, 0], head=[0, 0.5, 0])
    trans = np.tile([0.0, 1.2, 0.0], (t, 1)) + rng.normal(0, 0.05, (t, 3))
    expressions = rng.normal(0.0, 1.0, (t, 100))
    path = write_motion_npz(tmp_path / "motion.npz", poses, trans, np.zeros((t, 52)), expressions)
    clip = read_motion_npz(path)

    arm, mesh = build_smplx_rig(bpy.context, smplx_model, "SMPLX", num_betas=2, num_expressions=100)
    rig = describe_armature(arm)
    mapping = detect_skeleton(rig.bone_names, rig.parents)
    assert mapping.family == "smplx" and mapping.jaw_bone == "jaw"
    offsets, mean = smplx_model.rest_offsets(), smplx_model.hand_mean()
    motion = retarget_smplx_to_rig(clip.poses, clip.trans, rig, mapping, hand_mean=mean, smplx_offsets=offsets)
    k = 3
    one = {"frame": clip.poses[k].astype(np.float64)}
    single = retarget_smplx_to_rig(clip.poses[k:k + 1], np.array([[0.0, 0.95, 0.0]]), rig, mapping,
                                   hand_mean=mean, smplx_offsets=offsets)
    np.testing.assert_allclose(np.abs(np.sum(single.rotations[0] * motion.rotations[k], -1)), 1.0, atol=1e-6)
    errors = direction_errors(rig, one, posed_matrices(arm, single), offsets=offsets, hand_mean=mean)
    assert max(errors.values()) < TOL_DEG, max(errors.items(), key=lambda kv: kv[1])

    matched = match_expression_keys([kb.name for kb in mesh.data.shape_keys.key_blocks])
    apply_shape_key_frame(mesh, clip.expressions, matched, k)
    values = np.array([mesh.data.shape_keys.key_blocks[f"Exp{i:03d}"].value for i in range(100)])
    # slider range clamps the value to ±3
    np.testing.assert_allclose(values, np.clip(expressions[k], -3, 3), atol=1e-6)


def test_flame_head_builds(tmp_path):
    np.savez(tmp_path / "flame.npz", **synthetic_flame_arrays(np.random.default_rng(4)))
    model = load_flame_model(tmp_path / "flame.npz")
    arm, mesh = build_flame_head(bpy.context, model, "FLAME", num_expressions=50)
    assert len(mesh.data.vertices) == 5023
    assert sorted(b.name for b in arm.data.bones) == sorted(["root", "neck", "jaw", "left_eye", "right_eye"])
    assert arm.data.bones["jaw"].parent.name == "neck"
    names = [k.name for k in mesh.data.shape_keys.key_blocks]
    assert names == ["Basis"] + [f"Exp{i:03d}" for i in range(50)]
