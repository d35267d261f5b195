"""FBX and glTF exports: the GLB passes the Khronos glTF-Validator, its animation starts at t = 0 on the
audio's first frame and leaves the user's stashed action out; the FBX's time 0 is the audio start too, so
Blender's default import (one frame added) puts it on frame 1; re-importing either file gives the same
skinning transforms and shape-key values as the source at every frame (within 1e-4)."""
from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from .conftest import NODE_DIR

pytestmark = pytest.mark.blender
TOLERANCE = 1e-4


def deform_bones(arm) -> list[str]:
    return sorted(pb.name for pb in arm.pose.bones if pb.bone.use_deform)


def skinning(arm, names) -> np.ndarray:
    """(B, 4, 4) world-space deformation of bones `names` (independent of bone-axis conventions)."""
    mw = np.array(arm.matrix_world)
    return np.stack([mw @ np.array(arm.pose.bones[n].matrix) @ np.linalg.inv(np.array(arm.pose.bones[n].bone.matrix_local))
                     @ np.linalg.inv(mw) for n in names])


def shape_values(mesh) -> np.ndarray:
    return np.array([k.value for k in sorted(mesh.data.shape_keys.key_blocks[1:], key=lambda k: k.name)])


def sample(scene, arm, mesh, frames, bones):
    out = []
    for f in frames:
        scene.frame_set(f)
        out.append((skinning(arm, bones), shape_values(mesh)))
    return out


@pytest.fixture(scope="module")
def exported(addon, shared_dir, tmp_path_factory):
    """Default character with one take of a short clip, sampled, then exported as GLB and FBX."""
    import bpy

    from bl_ext.user_default.orator.addon.export import ExportTarget, export_fbx, export_glb

    bpy.ops.wm.read_homefile(use_empty=True)
    bpy.ops.orator.add_character(source="DEFAULT")
    s = bpy.context.scene.orator
    # the user's own action (stashed by the generation): not a glTF animation unless asked for
    s.armature.animation_data_create()
    s.armature.animation_data.action = bpy.data.actions.new("MyIdle")
    s.armature.pose.bones["head"].keyframe_insert("rotation_quaternion", frame=1)
    s.audio = str(shared_dir / "data" / "speech" / "ljspeech" / "LJ001-0008.wav")
    assert bpy.ops.orator.generate_from_audio() == {"FINISHED"}
    arm, mesh = s.armature, s.face_mesh
    take = arm.animation_data.action
    start, end = (int(round(x)) for x in take.frame_range)
    frames = list(range(start, end + 1))
    bones = deform_bones(arm)
    reference = sample(bpy.context.scene, arm, mesh, frames, bones)
    out = tmp_path_factory.mktemp("export")
    target = ExportTarget(arm.name, mesh.name)
    scene_range = bpy.context.scene.frame_start, bpy.context.scene.frame_end
    glb = export_glb(bpy.context, str(out / "orator.glb"), target)
    with_mine = export_glb(bpy.context, str(out / "with_mine.glb"), target, include_user_actions=True)
    fbx = export_fbx(bpy.context, str(out / "orator.fbx"), target)
    # the exports put everything back
    assert arm.animation_data.action == take and mesh.data.shape_keys.animation_data.action == take
    assert (bpy.context.scene.frame_start, bpy.context.scene.frame_end) == scene_range
    assert not any(t.name == "Orator export" for t in arm.animation_data.nla_tracks)
    assert all(s.mute is False for t in arm.animation_data.nla_tracks for s in t.strips)
    return dict(bones=bones, take=take.name, frames=frames, reference=reference, glb=glb, fbx=fbx,
                with_mine=with_mine, fps=bpy.context.scene.render.fps)


def glb_json(path) -> dict:
    import struct

    data = open(path, "rb").read()
    length = struct.unpack_from("<I", data, 12)[0]
    return json.loads(data[20:20 + length])


def test_glb_animation_starts_at_time_zero_with_takes_only(exported):
    gltf = glb_json(exported["glb"])
    assert [a["name"] for a in gltf["animations"]] == [exported["take"]]
    inputs = {s["input"] for a in gltf["animations"] for s in a["samplers"]}
    assert min(gltf["accessors"][i]["min"][0] for i in inputs) == 0.0  # the audio's first frame
    length = (len(exported["frames"]) - 1) / exported["fps"]
    assert max(gltf["accessors"][i]["max"][0] for i in inputs) == pytest.approx(length, abs=1e-4)
    names = [a["name"] for a in glb_json(exported["with_mine"])["animations"]]
    assert exported["take"] in names and "MyIdle" in names


def test_glb_passes_khronos_validator(exported, gltf_validator):
    run = subprocess.run(["node", str(NODE_DIR.parent / "validate_gltf.mjs"), exported["glb"], str(gltf_validator)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["numErrors"] == 0, report["errors"]
    assert report["info"]["animationCount"] == 1
    assert report["info"]["hasSkins"] and report["info"]["hasMorphTargets"]


def _reimport(kind: str, exported: dict):
    import bpy

    bpy.ops.wm.read_homefile(use_empty=True)
    bpy.context.scene.render.fps = exported["fps"]
    if kind == "fbx":
        bpy.ops.import_scene.fbx(filepath=exported["fbx"])  # default anim_offset=1: time 0 lands on frame 1
    else:
        bpy.ops.import_scene.gltf(filepath=exported["glb"])
    arm = next(o for o in bpy.data.objects if o.type == "ARMATURE")
    mesh = next(o for o in bpy.data.objects if o.type == "MESH" and o.data.shape_keys is not None)
    if kind == "glb":  # the take's animation by name: one action with an OBJECT and a KEY slot
        action = bpy.data.actions[exported["take"]]
        for ad, id_type in ((arm.animation_data, "OBJECT"), (mesh.data.shape_keys.animation_data, "KEY")):
            ad.action = action
            ad.action_slot = next(s for s in action.slots if s.target_id_type == id_type)
    return bpy.context.scene, arm, mesh


@pytest.mark.parametrize("kind", ["fbx", "glb"])
def test_round_trip_matches_every_frame(exported, kind):
    scene, arm, mesh = _reimport(kind, exported)
    assert set(exported["bones"]) <= set(deform_bones(arm))  # every deform bone came back
    # FBX: time 0 → frame 1 (the importer's default offset); glTF: time 0 → frame 0 (Blender's importer)
    first = 1 if kind == "fbx" else 0
    frames = [f - exported["frames"][0] + first for f in exported["frames"]]
    got = sample(scene, arm, mesh, frames, exported["bones"])
    ref = exported["reference"]
    bone_err = max(np.abs(g[0] - r[0]).max() for g, r in zip(got, ref))
    shape_err = max(np.abs(g[1] - r[1]).max() for g, r in zip(got, ref))
    assert bone_err < TOLERANCE and shape_err < TOLERANCE, (bone_err, shape_err)
    # the comparison has something to compare: the motion and the face really move
    assert np.ptp([r[1].max() for r in ref]) > 0.05
    assert max(np.abs(r[0] - ref[0][0]).max() for r in ref) > 0.05
