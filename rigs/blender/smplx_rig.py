"""Build a skinned SMPL-X body or FLAME head in Blender from the user's own model file (bpy).

Body: the 10,475-vertex mesh (SMPL-X axes converted to Blender: (x, y, z) → (x, −z, y)), a 55-bone
armature named like SMPL-X's joints (heads at J_regressor·v, tails toward the child joint, rolls
turning each bone's Z axis toward the body's front), LBS weights as vertex groups (the 4 largest per
vertex, renormalised), shape keys `Shape000..` (betas, slider ±5) and `Exp000..` (FLAME expression,
slider ±3), and optionally `Pose000..485` pose-corrective keys (value = entry of R − I, to be driven
by the keyframe writer). Bone frames differ from SMPL-X's body frame, so motion goes through
`rigs.retarget` (detect_skeleton → family 'smplx'), like any other rig.
"""
from __future__ import annotations

import bpy
import numpy as np

from .. import flame_model as flame
from ..face_map import expression_key_name
from ..retarget import SEGMENT_END, SMPLX_TO_BLENDER, TIP_CONTINUES
from ..smplx_model import SmplxModel
from .._backend import skeleton

FORWARD = np.array([0.0, -1.0, 0.0])  # Blender: characters face −Y
UP = np.array([0.0, 0.0, 1.0])


def _to_blender(points: np.ndarray) -> np.ndarray:
    return np.asarray(points, dtype=np.float64) @ SMPLX_TO_BLENDER.T


def smplx_bone_tails(joints: np.ndarray) -> np.ndarray:
    """(55, 3) Blender-axes joints → (55, 3) bone tails: toward the child joint, sensible for leaves."""
    tails = np.empty_like(joints)
    for j in range(len(joints)):
        name = skeleton.JOINT_NAMES[j]
        if j in SEGMENT_END:
            tails[j] = joints[SEGMENT_END[j]]
        elif j in TIP_CONTINUES:
            tails[j] = joints[j] + 0.8 * (joints[j] - joints[TIP_CONTINUES[j]])
        elif name == "head":
            tails[j] = joints[j] + 0.18 * UP
        elif name == "jaw":
            tails[j] = joints[j] + 0.08 * FORWARD - 0.03 * UP
        elif "eye" in name:
            tails[j] = joints[j] + 0.02 * FORWARD
        else:  # feet: toward the toes
            tails[j] = joints[j] + 0.06 * FORWARD - 0.01 * UP
    return tails


def _build_armature(context, name: str, bone_names, parents, heads, tails):
    arm = bpy.data.armatures.new(name)
    obj = bpy.data.objects.new(name, arm)
    context.collection.objects.link(obj)
    view_layer = context.view_layer
    view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode="EDIT")
    ebs = []
    for n, h, t in zip(bone_names, heads, tails):
        eb = arm.edit_bones.new(n)
        eb.head, eb.tail = h.tolist(), t.tolist()
        direction = (t - h) / np.linalg.norm(t - h)
        # Z toward the front unless the bone itself points front/back (feet, eyes, jaw): then up
        ref = FORWARD if abs(direction @ FORWARD) < 0.8 else UP
        eb.align_roll(ref.tolist())
        ebs.append(eb)
    for eb, p in zip(ebs, parents):
        if p >= 0:
            eb.parent = ebs[p]
    bpy.ops.object.mode_set(mode="OBJECT")
    return obj


def _build_mesh(context, name: str, verts: np.ndarray, faces: np.ndarray):
    me = bpy.data.meshes.new(name)
    me.vertices.add(len(verts))
    me.vertices.foreach_set("co", verts.astype(np.float32).ravel())
    me.loops.add(faces.size)
    me.loops.foreach_set("vertex_index", faces.astype(np.int32).ravel())
    me.polygons.add(len(faces))
    me.polygons.foreach_set("loop_start", np.arange(0, faces.size, 3, dtype=np.int32))
    me.update(calc_edges=True)
    me.validate(clean_customdata=False)  # drops degenerate triangles, never vertices
    obj = bpy.data.objects.new(name, me)
    context.collection.objects.link(obj)
    return obj


def _skin(mesh_obj, armature_obj, bone_names, weights: np.ndarray, top_k: int = 4) -> None:
    """LBS weights (V, J) → vertex groups, the top_k largest per vertex renormalised."""
    order = np.argsort(-weights, axis=1)[:, :top_k]
    w = np.take_along_axis(weights, order, axis=1)
    w = np.where(w > 1e-6, w, 0.0)
    w = w / np.maximum(w.sum(axis=1, keepdims=True), 1e-12)
    groups = [mesh_obj.vertex_groups.new(name=n) for n in bone_names]
    for v, (js, ws) in enumerate(zip(order, w)):
        for j, wt in zip(js, ws):
            if wt > 0.0:
                groups[j].add([v], float(wt), "REPLACE")
    mod = mesh_obj.modifiers.new("Armature", "ARMATURE")
    mod.object = armature_obj
    mesh_obj.parent = armature_obj


def _add_keys(mesh_obj, base: np.ndarray, dirs: np.ndarray, names, slider: float) -> None:
    """One shape key per direction (V, 3, K) in Blender axes: base + dirs[..., k]."""
    for k, n in enumerate(names):
        key = mesh_obj.shape_key_add(name=n, from_mix=False)
        key.data.foreach_set("co", (base + dirs[:, :, k]).astype(np.float32).ravel())
        key.slider_min, key.slider_max = -slider, slider


def build_smplx_rig(context, model: SmplxModel, name: str = "SMPLX", betas=None, with_expressions: bool = True,
                    num_betas: int = 10, num_expressions: int = 100, pose_correctives: bool = False):
    """Create the SMPL-X armature and skinned mesh. Returns (armature_obj, mesh_obj)."""
    v = model.shaped_vertices(betas)
    joints = _to_blender(model.j_regressor @ v)
    verts = _to_blender(v)
    arm = _build_armature(context, name, skeleton.JOINT_NAMES, model.parents, joints, smplx_bone_tails(joints))
    mesh = _build_mesh(context, name + "_mesh", verts, model.faces)
    _skin(mesh, arm, skeleton.JOINT_NAMES, model.weights)

    mesh.shape_key_add(name="Basis", from_mix=False)
    rot = SMPLX_TO_BLENDER
    nb = min(num_betas, model.num_betas)
    _add_keys(mesh, verts, np.einsum("ab,vbk->vak", rot, model.shapedirs[:, :, :nb]),
              [f"Shape{i:03d}" for i in range(nb)], 5.0)
    if with_expressions:
        ne = min(num_expressions, model.num_expressions)
        _add_keys(mesh, verts, np.einsum("ab,vbk->vak", rot, model.exprdirs[:, :, :ne]),
                  [expression_key_name(i) for i in range(ne)], 3.0)
    if pose_correctives:
        _add_keys(mesh, verts, np.einsum("ab,vbk->vak", rot, model.posedirs),
                  [f"Pose{i:03d}" for i in range(model.posedirs.shape[-1])], 10.0)
    return arm, mesh


def build_flame_head(context, model: flame.FlameModel, name: str = "FLAME", num_expressions: int = 100):
    """Create a FLAME head: 5-bone armature (root, neck, jaw, eyes), skinned mesh, `Exp###` keys."""
    joints = _to_blender(model.joints())
    tails = joints.copy()
    tails[0] = joints[1]                                   # root → neck
    tails[1] = joints[1] + 0.12 * UP                       # neck/head up
    tails[2] = joints[2] + 0.06 * FORWARD - 0.03 * UP      # jaw toward the chin
    tails[3:] = joints[3:] + 0.02 * FORWARD                # eyes look forward
    tails[0] = np.where(np.linalg.norm(tails[0] - joints[0]) < 1e-4, joints[0] + 0.05 * UP, tails[0])
    arm = _build_armature(context, name, flame.JOINT_NAMES, model.parents, joints, tails)
    verts = _to_blender(model.v_template)
    mesh = _build_mesh(context, name + "_mesh", verts, model.faces)
    _skin(mesh, arm, flame.JOINT_NAMES, model.weights)
    mesh.shape_key_add(name="Basis", from_mix=False)
    ne = min(num_expressions, model.exprdirs.shape[-1])
    _add_keys(mesh, verts, np.einsum("ab,vbk->vak", SMPLX_TO_BLENDER, model.exprdirs[:, :, :ne]),
              [expression_key_name(i) for i in range(ne)], 3.0)
    return arm, mesh
