"""Add Character: Orator's default CC0 character, an SMPL-X body from the user's model file, or the selected rig."""
from __future__ import annotations

import bpy

from ..addon.character import add_character, use_character
from ..backend.errors import UserError


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
            armature_obj, mesh_obj = add_character(context, self.source, self.smplx_path)
        except UserError as exc:
            self.report({"ERROR"}, f"Orator: {exc}")
            return {"CANCELLED"}
        use_character(context, armature_obj, mesh_obj)
        face = f", face on {mesh_obj.name}" if mesh_obj is not None else ", no face shape keys found"
        self.report({"INFO"}, f"Orator: animating {armature_obj.name}{face}")
        return {"FINISHED"}
