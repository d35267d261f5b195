"""Export Character: the character and its takes as FBX or glTF binary for game engines (`addon.export`)."""
from __future__ import annotations

import os
from pathlib import Path

import bpy

from ..addon.export import ExportTarget, export_fbx, export_fbx_per_take, export_glb
from ._poll import character_chosen


class ORATOR_OT_export(bpy.types.Operator):
    """Export the character and its takes for game engines (FBX or glTF binary)"""

    bl_idname = "orator.export"
    bl_label = "Export Character"
    bl_options = {"REGISTER"}

    filepath: bpy.props.StringProperty(subtype="FILE_PATH")
    format: bpy.props.EnumProperty(name="Format", items=(
        ("GLB", "glTF binary (.glb)", "Every take as its own animation"),
        ("FBX", "FBX (.fbx)", "The playing take (or one file per take)"),
    ), default="GLB")
    all_takes: bpy.props.BoolProperty(name="One FBX per take", default=False)
    include_user_actions: bpy.props.BoolProperty(
        name="Include My Actions", default=False,
        description="glTF: also export your own actions that Orator stashed in the NLA (off: only the takes)")

    @classmethod
    def poll(cls, context):
        if not character_chosen(cls, context):
            return False
        if context.mode != "OBJECT":
            cls.poll_message_set("Switch to Object Mode first")
            return False
        return True

    def invoke(self, context, event):
        if not self.filepath:
            name = context.scene.orator.armature.name + (".glb" if self.format == "GLB" else ".fbx")
            self.filepath = os.path.join(os.path.dirname(bpy.data.filepath) or os.path.expanduser("~"), name)
        context.window_manager.fileselect_add(self)
        return {"RUNNING_MODAL"}

    def execute(self, context):
        settings = context.scene.orator
        target = ExportTarget(settings.armature.name,
                              settings.face_mesh.name if settings.face_mesh is not None else None)
        path = bpy.path.abspath(self.filepath)
        suffix = ".glb" if self.format == "GLB" else ".fbx"
        path = str(Path(path).with_suffix(suffix))
        try:
            if self.format == "GLB":
                written = [export_glb(context, path, target, self.include_user_actions)]
            elif self.all_takes:
                written = export_fbx_per_take(context, path, target)
            else:
                written = [export_fbx(context, path, target)]
        except (RuntimeError, OSError) as exc:
            self.report({"ERROR"}, f"Orator: {exc}")
            return {"CANCELLED"}
        self.report({"INFO"}, "Orator: wrote " + ", ".join(written))
        return {"FINISHED"}
