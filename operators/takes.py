"""Use Take: switch which take plays (every take keeps its muted NLA track; the chosen one becomes the active
action)."""
from __future__ import annotations

import bpy

from ..addon.takes import take_actions, use_take
from ._poll import character_chosen


class ORATOR_OT_use_take(bpy.types.Operator):
    """Play this take on the character (the others stay as muted NLA tracks)"""

    bl_idname = "orator.use_take"
    bl_label = "Use Take"
    bl_options = {"REGISTER", "UNDO"}

    action_name: bpy.props.StringProperty(name="Take")

    @classmethod
    def poll(cls, context):
        return character_chosen(cls, context)

    def execute(self, context):
        settings = context.scene.orator
        armature_obj = settings.armature
        action = bpy.data.actions.get(self.action_name)
        if action is None or action not in take_actions(armature_obj):
            self.report({"ERROR"}, f"Orator: '{self.action_name}' is not a take of {armature_obj.name}")
            return {"CANCELLED"}
        use_take(armature_obj, settings.face_mesh, action, scene=context.scene)
        return {"FINISHED"}
