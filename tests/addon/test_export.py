"""FBX and glTF exports: the GLB passes the Khronos glTF-Validator, and re-importing either file gives
the same skinning transforms and shape-key values as the source at every frame (within 1e-4)."""
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

    from bl_ext.user_default.orator.operators.export import ExportTarget, export_fbx, export_glb

    bpy.ops.wm.read_homefile(use_empty=True)
    bpy.ops.orator.add_character(source="DEFAULT")
    s = bpy.context.scene.orator
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
    glb = export_glb(bpy.context, str(out / "orator.glb"), target)
    fbx = export_fbx(bpy.context, str(out / "orator.fbx"), target)
    return dict(bones=bones, take=take.name, frames=frames, reference=reference, glb=glb, fbx=fbx,
                fps=bpy.context.scene.render.fps)


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
        bpy.ops.import_scene.fbx(filepath=exported["fbx"], anim_offset=0.0)  # default 1 shifts by a frame
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
    got = sample(scene, arm, mesh, exported["frames"], exported["bones"])
    ref = exported["reference"]
    bone_err = max(np.abs(g[0] - r[0]).max() for g, r in zip(got, ref))
    shape_err = max(np.abs(g[1] - r[1]).max() for g, r in zip(got, ref))
    assert bone_err < TOLERANCE and shape_err < TOLERANCE, (bone_err, shape_err)
    # the comparison has something to compare: the motion and the face really move
    assert np.ptp([r[1].max() for r in ref]) > 0.05
    assert max(np.abs(r[0] - ref[0][0]).max() for r in ref) > 0.05
