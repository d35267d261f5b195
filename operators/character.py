"""Add Character: Orator's default CC0 character, an SMPL-X body from the user's model file, or the selected rig."""
from __future__ import annotations

import os

import bpy

from ..backend.errors import UserError
from .apply_take import face_mesh_for, skeleton_map

ROOT_PACKAGE = __package__.rpartition(".")[0]


def _selected_armature(context):
    obj = context.active_object
    if obj is not None and obj.type == "MESH" and obj.parent is not None and obj.parent.type == "ARMATURE":
        obj = obj.parent
    return obj if obj is not None and obj.type == "ARMATURE" else None


def use_character(context, armature_obj, mesh_obj) -> None:
    """Make this armature (and face mesh) the sidebar's target."""
    settings = context.scene.orator
    settings.armature = armature_obj
    settings.face_mesh = mesh_obj


class ORATOR_OT_add_character(bpy.types.Operator):
    """Add a character for Orator to animate, or use the selected rig"""

    bl_idname = "orator.add_character"
    bl_label = "Add Character"
    bl_options = {"REGISTER", "UNDO"}

    source: bpy.props.EnumProperty(name="Character", items=(
        ("DEFAULT", "Default character", "Orator's CC0 character with 52 ARKit face shapes"),
        ("SMPLX", "SMPL-X from model file", "Build an SMPL-X body from your licensed SMPL-X .npz"),
        ("SELECTED", "Selected rig", "Animate the selected humanoid armature"),
    ), default="DEFAULT")
    smplx_path: bpy.props.StringProperty(name="SMPL-X model", subtype="FILE_PATH")

    @classmethod
    def poll(cls, context):
        if context.mode != "OBJECT":
            cls.poll_message_set("Switch to Object Mode first")
            return False
        return True

    def execute(self, context):
        try:
            if self.source == "DEFAULT":
                from ..rigs.blender.build_character import build_default_character

                armature_obj, mesh_obj = build_default_character(context)
            elif self.source == "SMPLX":
                armature_obj, mesh_obj = self._build_smplx(context)
            else:
                armature_obj = _selected_armature(context)
                if armature_obj is None:
                    raise UserError("select a humanoid armature (or a mesh parented to one)")
                skeleton_map(armature_obj)  # a rig we cannot drive fails now, with the bones it lacks
                mesh_obj = face_mesh_for(armature_obj)
        except UserError as exc:
            self.report({"ERROR"}, f"Orator: {exc}")
            return {"CANCELLED"}
        use_character(context, armature_obj, mesh_obj)
        face = f", face on {mesh_obj.name}" if mesh_obj is not None else ", no face shape keys found"
        self.report({"INFO"}, f"Orator: animating {armature_obj.name}{face}")
        return {"FINISHED"}

    def _build_smplx(self, context):
        from ..rigs.blender.smplx_rig import build_smplx_rig
        from ..rigs.smplx_model import load_smplx_model

        path = bpy.path.abspath(self.smplx_path or context.scene.orator.smplx_model)
        if not path:
            addon = context.preferences.addons.get(ROOT_PACKAGE)
            folder = bpy.path.abspath(addon.preferences.smplx_dir) if addon is not None else ""
            candidates = sorted(f for f in os.listdir(folder) if f.lower().endswith(".npz")) \
                if folder and os.path.isdir(folder) else []
            if not candidates:
                raise UserError("choose your SMPL-X model .npz (or set the SMPL-X folder in the preferences)")
            path = os.path.join(folder, candidates[0])
        if not os.path.isfile(path):
            raise UserError(f"SMPL-X model not found: {path}")
        return build_smplx_rig(context, load_smplx_model(path))
