"""Which character Orator animates: the default CC0 character, an SMPL-X body built from the user's model
file, or the selected humanoid rig; the sidebar's armature and face mesh are set here."""
from __future__ import annotations

import os

import bpy

from ..backend.errors import UserError
from .apply_take import face_mesh_for, skeleton_map
from .preferences import abspath_setting


def selected_armature(context):
    """The active armature, or the armature the active mesh is parented to; None otherwise."""
    obj = context.active_object
    if obj is not None and obj.type == "MESH" and obj.parent is not None and obj.parent.type == "ARMATURE":
        obj = obj.parent
    return obj if obj is not None and obj.type == "ARMATURE" else None


def use_character(context, armature_obj, mesh_obj) -> None:
    """Make this armature (and face mesh) the sidebar's target."""
    settings = context.scene.orator
    settings.armature = armature_obj
    settings.face_mesh = mesh_obj


def smplx_model_path(context, chosen: str) -> str:
    """The SMPL-X .npz to build: `chosen`, else the sidebar's, else the first .npz in the preferences'
    SMPL-X folder (UserError when there is none, or the file is missing)."""
    path = bpy.path.abspath(chosen or context.scene.orator.smplx_model)
    if not path:
        folder = abspath_setting(context, "smplx_dir")
        candidates = sorted(f for f in os.listdir(folder) if f.lower().endswith(".npz")) \
            if folder and os.path.isdir(folder) else []
        if not candidates:
            raise UserError("choose your SMPL-X model .npz (or set the SMPL-X folder in the preferences)")
        path = os.path.join(folder, candidates[0])
    if not os.path.isfile(path):
        raise UserError(f"SMPL-X model not found: {path}")
    return path


def add_character(context, source: str, smplx_path: str = ""):
    """(armature, face mesh or None) for source 'DEFAULT' | 'SMPLX' | 'SELECTED'; UserError when the
    selected rig is not a humanoid Orator can drive (naming the bones it lacks)."""
    if source == "DEFAULT":
        from ..rigs.blender.build_character import build_default_character

        return build_default_character(context)
    if source == "SMPLX":
        from ..rigs.blender.smplx_rig import build_smplx_rig
        from ..rigs.smplx_model import load_smplx_model

        return build_smplx_rig(context, load_smplx_model(smplx_model_path(context, smplx_path)))
    armature_obj = selected_armature(context)
    if armature_obj is None:
        raise UserError("select a humanoid armature (or a mesh parented to one)")
    skeleton_map(armature_obj)  # a rig we cannot drive fails now, with the bones it lacks
    return armature_obj, face_mesh_for(armature_obj)
