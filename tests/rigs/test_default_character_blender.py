"""The default character built in real (headless) Blender: names, deformation, renders."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from rigs._backend import face_vocabulary  # noqa: E402
from rigs.blender.build_character import build_default_character  # noqa: E402
from rigs.blender.render import (read_png, render_contact_sheet,  # noqa: E402
                                 render_still)
from rigs.character_asset import load_default_character  # noqa: E402

pytestmark = pytest.mark.blender

LEAD_PREVIEW = "/tmp/orator_default_character.png"
LEAD_FACE_PREVIEW = "/tmp/orator_default_character_face.png"


@pytest.fixture
def built():
    bpy.ops.wm.read_factory_settings(use_empty=True)
    load_default_character()
    arm, mesh = build_default_character(bpy.context)
    return arm, mesh


def evaluated_coords(mesh_obj):
    depsgraph = bpy.context.evaluated_depsgraph_get()
    ev = mesh_obj.evaluated_get(depsgraph)
    me = ev.to_mesh()
    co = np.empty(len(me.vertices) * 3, dtype=np.float32)
    me.vertices.foreach_get("co", co)
    ev.to_mesh_clear()
    return co.reshape(-1, 3)


def test_build_is_complete(built):
    arm, mesh = built
    asset = load_default_character()
    assert [b.name for b in arm.data.bones] == list(asset.bone_names)
    assert arm.data.bones["jaw"].parent.name == "head"
    assert not arm.data.bones["Root"].use_deform and arm.data.bones["pelvis"].use_deform
    assert len(mesh.data.vertices) == asset.num_vertices
    assert len(mesh.data.polygons) == len(asset.faces)
    assert mesh.parent == arm and mesh.modifiers["Armature"].object == arm
    assert {g.name for g in mesh.vertex_groups} == set(asset.bone_names) - {"Root"}
    assert len(mesh.data.materials) == len(asset.material_names)
    assert mesh.data.uv_layers.active is not None
    assert all(p.use_smooth for p in mesh.data.polygons[:100])
    assert arm.name in bpy.context.collection.objects and mesh.name in bpy.context.collection.objects
    # Bone rest frames reproduce the asset's heads and tails.
    heads = np.array([b.head_local for b in arm.data.bones])
    np.testing.assert_allclose(heads, asset.bone_heads, atol=1e-5)


def test_vertex_group_weights_match_asset(built):
    _, mesh = built
    asset = load_default_character()
    dense = asset.dense_weights()
    groups = {g.index: asset.bone_index(g.name) for g in mesh.vertex_groups}
    for vid in (0, 5000, 9000, int(asset.part_vertices("tongue")[0])):
        got = np.zeros(len(asset.bone_names))
        for ge in mesh.data.vertices[vid].groups:
            got[groups[ge.group]] = ge.weight
        np.testing.assert_allclose(got, dense[vid], atol=1e-6)


def test_shape_key_names_exact_and_neutral(built):
    _, mesh = built
    blocks = mesh.data.shape_keys.key_blocks
    assert [k.name for k in blocks] == ["Basis", *face_vocabulary.ARKIT_NAMES]
    assert all(k.value == 0.0 for k in blocks[1:])
    np.testing.assert_allclose(evaluated_coords(mesh), load_default_character().vertices,
                               atol=1e-5)


def test_jaw_open_key_moves_exactly_its_target(built):
    _, mesh = built
    asset = load_default_character()
    mesh.data.shape_keys.key_blocks["jawOpen"].value = 1.0
    delta = evaluated_coords(mesh) - asset.vertices
    np.testing.assert_allclose(delta, asset.shape_offsets("jawOpen"), atol=1e-5)
    assert delta[:, 2].min() < -0.02


def test_posed_jaw_and_eye_bones_move_the_right_vertices(built):
    arm, mesh = built
    asset = load_default_character()
    jaw = arm.pose.bones["jaw"]
    jaw.rotation_mode = "XYZ"
    jaw.rotation_euler = (0.3, 0.0, 0.0)  # +X about the jaw bone opens the mouth
    delta = evaluated_coords(mesh) - asset.vertices
    moved = np.linalg.norm(delta, axis=1) > 1e-3
    tongue = asset.part_vertices("tongue")
    assert moved[tongue].all()
    assert delta[tongue, 2].mean() < -0.005
    assert not moved[asset.vertices[:, 2] > 1.56].any()  # nothing above the eyes
    assert not moved[asset.vertices[:, 2] < 1.3].any()
    chin = moved & (asset.vertices[:, 1] < -0.1)
    assert delta[chin, 2].mean() < -0.005
    jaw.rotation_euler = (0.0, 0.0, 0.0)

    eye = arm.pose.bones["eye_l"]
    eye.rotation_mode = "XYZ"
    eye.rotation_euler = (0.0, 0.0, 0.4)
    delta = evaluated_coords(mesh) - asset.vertices
    moved = np.linalg.norm(delta, axis=1) > 1e-4
    eye_l = asset.part_vertices("eye_l")
    assert moved[eye_l].all()
    assert not moved[asset.part_vertices("eye_r")].any()
    assert (asset.vertices[moved, 0] > 0).all()


def _content_box(pixels, background):
    """Rows/cols (r0, r1, c0, c1) of pixels unlike the background corner colour."""
    diff = np.abs(pixels[..., :3] - background[:3]).max(axis=-1) > 0.05
    rows, cols = np.flatnonzero(diff.any(axis=1)), np.flatnonzero(diff.any(axis=0))
    return diff, (rows[0], rows[-1], cols[0], cols[-1])


def test_render_still_looks_like_a_framed_person(built, tmp_path):
    arm, mesh = built
    out = tmp_path / "orator.png"
    render_still(out, arm, mesh)
    shutil.copyfile(out, LEAD_PREVIEW)
    px = read_png(out)
    assert px.shape == (768, 512, 4)
    background = px[2, 2]
    diff, (r0, r1, c0, c1) = _content_box(px, background)
    assert 0.08 < diff.mean() < 0.5
    assert r0 > 5 and r1 < 762  # head and feet inside the frame
    assert (r1 - r0) > 0.75 * 768  # and filling it
    person = px[diff][:, :3]
    assert person.mean() > 0.2  # lit, not black
    warm = (person[:, 0] > person[:, 1]) & (person[:, 1] > person[:, 2])
    assert warm.mean() > 0.8  # skin tones


def test_face_close_up_shows_open_jaw_and_closed_eyes(built, tmp_path):
    arm, mesh = built
    neutral, acting = tmp_path / "neutral.png", tmp_path / "acting.png"
    render_still(neutral, arm, mesh, resolution=(384, 384), framing="head")
    keys = mesh.data.shape_keys.key_blocks
    for name in ("jawOpen", "eyeBlinkLeft", "eyeBlinkRight"):
        keys[name].value = 1.0
    render_still(acting, arm, mesh, resolution=(384, 384), framing="head")
    shutil.copyfile(acting, LEAD_FACE_PREVIEW)
    a, b = read_png(neutral), read_png(acting)
    changed = np.abs(a[..., :3] - b[..., :3]).max(axis=-1) > 0.1
    assert 0.002 < changed.mean() < 0.2
    rows = np.flatnonzero(changed.any(axis=1))
    assert rows[-1] - rows[0] > 40  # eyes and mouth both changed, far apart
    # The render restores the scene: no preview camera or light left behind.
    assert not any(o.name.startswith("OratorPreview") for o in bpy.data.objects)


def test_contact_sheet_tiles_animated_frames(built, tmp_path):
    arm, mesh = built
    key = mesh.data.shape_keys.key_blocks["jawOpen"]
    key.value = 0.0
    key.keyframe_insert("value", frame=1)
    key.value = 1.0
    key.keyframe_insert("value", frame=3)
    out = render_contact_sheet(tmp_path / "sheet.png", [1, 3], arm, mesh,
                               tile_resolution=(128, 192))
    sheet = read_png(out)
    assert sheet.shape == (192, 256, 4)
    left, right = sheet[:, :128], sheet[:, 128:]
    assert left[..., :3].std() > 0.02 and right[..., :3].std() > 0.02
    assert np.abs(left - right).max() > 0.1  # the jaw moved between the tiles
    assert bpy.context.scene.frame_current == 1


def test_face_contact_sheet_closes_in_on_the_face(built, tmp_path):
    arm, mesh = built
    key = mesh.data.shape_keys.key_blocks["jawOpen"]
    key.value = 0.0
    key.keyframe_insert("value", frame=1)
    key.value = 0.4
    key.keyframe_insert("value", frame=2)
    face = read_png(render_contact_sheet(tmp_path / "face.png", [1, 2], arm, mesh,
                                         tile_resolution=(96, 96), framing="face"))
    head = read_png(render_contact_sheet(tmp_path / "head.png", [1], arm, mesh,
                                         tile_resolution=(96, 96), framing="head"))
    background = face[1, 1]
    skin_face = (np.abs(face[:, :96, :3] - background[:3]).max(axis=-1) > 0.05).mean()
    skin_head = (np.abs(head[..., :3] - background[:3]).max(axis=-1) > 0.05).mean()
    assert skin_face > 0.55 and skin_face > skin_head + 0.15  # the face fills more of its tile
    assert np.abs(face[:, :96] - face[:, 96:]).max() > 0.1  # the mouth opened between the tiles
