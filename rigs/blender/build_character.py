"""Create Orator's default character in Blender: an armature and a skinned, shape-keyed mesh.

Bulk data goes through `foreach_set` (vertices, loops, UVs, shape keys); only the 56 bones and the
vertex-group fills are per-item Python.
"""
from __future__ import annotations

import bpy
import numpy as np

from ..character_asset import CharacterAsset, load_default_character

SKIN_SUBSURFACE = 0.15


def _make_material(name: str, color, roughness: float, skin: bool):
    mat = bpy.data.materials.new(name)
    mat.diffuse_color = tuple(float(c) for c in color)  # what Workbench shows
    mat.roughness = float(roughness)
    if mat.node_tree is None:  # Blender < 5 creates materials without nodes
        mat.use_nodes = True
    bsdf = next((n for n in mat.node_tree.nodes if n.type == "BSDF_PRINCIPLED"), None)
    if bsdf is not None:
        bsdf.inputs["Base Color"].default_value = tuple(float(c) for c in color)
        bsdf.inputs["Roughness"].default_value = float(roughness)
        if skin and "Subsurface Weight" in bsdf.inputs:
            bsdf.inputs["Subsurface Weight"].default_value = SKIN_SUBSURFACE
            bsdf.inputs["Subsurface Radius"].default_value = (0.01, 0.004, 0.002)
    return mat


def build_armature(context, name: str, asset: CharacterAsset):
    """Armature object with the asset's rest bones (heads, tails, Blender rolls, parents)."""
    arm = bpy.data.armatures.new(name)
    arm_obj = bpy.data.objects.new(name, arm)
    context.collection.objects.link(arm_obj)
    prev_active = context.view_layer.objects.active
    prev_mode = context.object.mode if context.object is not None else "OBJECT"
    if prev_mode != "OBJECT":
        bpy.ops.object.mode_set(mode="OBJECT")
    context.view_layer.objects.active = arm_obj
    bpy.ops.object.mode_set(mode="EDIT")
    edit_bones = []
    for i, bone_name in enumerate(asset.bone_names):
        eb = arm.edit_bones.new(bone_name)
        eb.head = asset.bone_heads[i].tolist()
        eb.tail = asset.bone_tails[i].tolist()
        eb.roll = float(asset.bone_rolls[i])
        eb.use_deform = bool(asset.bone_deform[i])
        eb.use_connect = False
        parent = asset.bone_parents[i]
        if parent >= 0:
            eb.parent = edit_bones[parent]
        edit_bones.append(eb)
    bpy.ops.object.mode_set(mode="OBJECT")
    arm.display_type = "STICK"
    arm_obj.show_in_front = True
    context.view_layer.objects.active = prev_active if prev_active is not None else arm_obj
    return arm_obj


def build_mesh(context, name: str, asset: CharacterAsset):
    """Mesh object with UVs, smooth shading, materials, vertex groups and ARKit shape keys."""
    mesh = bpy.data.meshes.new(name)
    num_faces = len(asset.faces)
    mesh.vertices.add(asset.num_vertices)
    mesh.vertices.foreach_set("co", asset.vertices.ravel())
    mesh.loops.add(asset.faces.size)
    mesh.loops.foreach_set("vertex_index", asset.faces.ravel())
    mesh.polygons.add(num_faces)
    mesh.polygons.foreach_set("loop_start", np.arange(0, asset.faces.size, 4, dtype=np.int32))
    mesh.update(calc_edges=True)
    if len(asset.uvs):
        uv = mesh.uv_layers.new(name="UVMap")
        uv.uv.foreach_set("vector", asset.uvs.ravel())
    for i, mat_name in enumerate(asset.material_names):
        mesh.materials.append(_make_material(f"{name}_{mat_name}", asset.material_colors[i],
                                             asset.material_roughness[i], mat_name == "skin"))
    mesh.polygons.foreach_set("material_index", asset.face_materials.astype(np.int32))
    mesh.shade_smooth()
    mesh.validate()

    obj = bpy.data.objects.new(name + "_body", mesh)
    context.collection.objects.link(obj)

    # Vertex groups: one add() per (bone, distinct weight) keeps Python calls to ~10k.
    groups = {}
    for b, bone_name in enumerate(asset.bone_names):
        if asset.bone_deform[b]:
            groups[b] = obj.vertex_groups.new(name=bone_name)
    order = np.lexsort((asset.weight_value, asset.weight_bone))
    bones = asset.weight_bone[order]
    values = asset.weight_value[order]
    verts = asset.weight_vertex[order]
    cut = np.flatnonzero((np.diff(bones) != 0) | (np.diff(values) != 0)) + 1
    for start, stop in zip(np.r_[0, cut], np.r_[cut, len(order)]):
        groups[int(bones[start])].add(verts[start:stop].tolist(), float(values[start]), "REPLACE")

    basis = obj.shape_key_add(name="Basis", from_mix=False)
    base = asset.vertices.astype(np.float32)
    for key_name, (ids, offs) in asset.shape_targets.items():
        key = obj.shape_key_add(name=key_name, from_mix=False)
        co = base.copy()
        co[ids] += offs
        key.data.foreach_set("co", co.ravel())
        key.value = 0.0  # Blender 5 adds new keys at full strength
    mesh.shape_keys.use_relative = True
    basis.mute = False
    return obj


def build_default_character(context, name: str = "Orator", asset: CharacterAsset | None = None):
    """Build the default character into the active collection.

    Returns (armature_obj, mesh_obj); the mesh is parented to the armature and deformed by it
    through an Armature modifier.
    """
    asset = asset if asset is not None else load_default_character()
    arm_obj = build_armature(context, name, asset)
    mesh_obj = build_mesh(context, name, asset)
    mesh_obj.parent = arm_obj
    mod = mesh_obj.modifiers.new("Armature", "ARMATURE")
    mod.object = arm_obj
    mod.use_vertex_groups = True
    return arm_obj, mesh_obj
