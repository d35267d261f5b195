"""Add Prompt and Delete Prompt: record the character's pose as a prompt, or drop one (`addon.prompt_capture`)."""
from __future__ import annotations

import bpy

from ..addon.prompt_capture import record_prompt, selected_pose_bones, sync_prompt_markers
from ..backend.errors import UserError
from ._poll import character_chosen


class ORATOR_OT_add_prompt(bpy.types.Operator):
    """Fix the character's current pose (chosen parts, or the selected bones) from the current frame on"""

    bl_idname = "orator.add_prompt"
    bl_label = "Add Prompt"
    bl_options = {"REGISTER", "UNDO"}

    frame_start: bpy.props.IntProperty(name="Start", default=-1, description="-1: the current frame")
    frame_end: bpy.props.IntProperty(name="End", default=-1, description="-1: start + hold − 1")

    @classmethod
    def poll(cls, context):
        return character_chosen(cls, context)

    def execute(self, context):
        scene = context.scene
        armature_obj = scene.orator.armature
        settings = scene.orator_prompt_settings
        start = scene.frame_current if self.frame_start < 0 else self.frame_start
        end = start + settings.hold_frames - 1 if self.frame_end < 0 else self.frame_end
        selected = selected_pose_bones(armature_obj) if settings.use_bones else None
        try:
            prompt = record_prompt(armature_obj, scene.orator.face_mesh, start, end,
                                   set(settings.parts), selected)
        except UserError as exc:
            self.report({"ERROR"}, f"Orator: {exc}")
            return {"CANCELLED"}
        sync_prompt_markers(scene)
        self.report({"INFO"}, f"Orator: prompt {prompt.label} at frames {prompt.frame_start}–{prompt.frame_end}")
        return {"FINISHED"}


class ORATOR_OT_remove_prompt(bpy.types.Operator):
    """Delete this prompt"""

    bl_idname = "orator.remove_prompt"
    bl_label = "Delete Prompt"
    bl_options = {"REGISTER", "UNDO"}

    index: bpy.props.IntProperty(name="Index")

    @classmethod
    def poll(cls, context):
        return character_chosen(cls, context)

    def execute(self, context):
        armature_obj = context.scene.orator.armature
        if not 0 <= self.index < len(armature_obj.orator_prompts):
            self.report({"ERROR"}, f"Orator: no prompt number {self.index + 1}")
            return {"CANCELLED"}
        armature_obj.orator_prompts.remove(self.index)
        armature_obj.orator_prompt_index = min(armature_obj.orator_prompt_index, len(armature_obj.orator_prompts) - 1)
        sync_prompt_markers(context.scene)
        return {"FINISHED"}


CLASSES = (ORATOR_OT_add_prompt, ORATOR_OT_remove_prompt)
