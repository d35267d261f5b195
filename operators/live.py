"""Live Preview / Record / Stop: thin operators over addon/live_session.py."""
from __future__ import annotations

import os

import bpy

from ..addon import live_session
from ..addon.apply_take import ApplyRequest, apply_takes
from ..addon.preferences import current_backend
from ..backend.errors import UserError


class ORATOR_OT_live_start(bpy.types.Operator):
    """Drive the character's face and head from the microphone while the viewport plays (Record also keeps
    the performance as a take when stopped)"""

    bl_idname = "orator.live_start"
    bl_label = "Live Preview"
    bl_options = {"REGISTER"}

    record: bpy.props.BoolProperty(name="Record", default=False)
    # testing/automation: play this recording at real-time pace instead of the microphone
    test_input: bpy.props.StringProperty(name="Input File", default="", options={"HIDDEN", "SKIP_SAVE"})

    @classmethod
    def poll(cls, context):
        return context.scene.orator.armature is not None and not live_session.running()

    def execute(self, context):
        settings = context.scene.orator
        backend = current_backend(context)
        if self.test_input and not os.path.isfile(bpy.path.abspath(self.test_input)):
            self.report({"ERROR"}, f"Orator: input file not found: {self.test_input}")
            return {"CANCELLED"}
        live_session.start(backend.executable, backend.environment(), settings.armature.name,
                           settings.face_mesh.name if settings.face_mesh is not None else None, self.record,
                           bpy.path.abspath(self.test_input) if self.test_input else None)
        return {"FINISHED"}


class ORATOR_OT_live_stop(bpy.types.Operator):
    """Stop Live Preview; a recording becomes a new take (one undo step)"""

    bl_idname = "orator.live_stop"
    bl_label = "Stop Live"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return live_session.current() is not None

    def execute(self, context):
        s = live_session.current()
        take_dir, error = live_session.stop()
        if error:
            self.report({"ERROR"}, f"Orator live: {error}")
        if take_dir is None:
            return {"FINISHED"} if not error else {"CANCELLED"}
        try:
            apply_takes(context, ApplyRequest(s.armature_name, s.mesh_name, os.path.join(take_dir, "live.wav"),
                                              (os.path.join(take_dir, "motion.npz"),),
                                              int(context.scene.frame_start), bool(context.scene.orator.add_sound)))
        except UserError as exc:
            self.report({"ERROR"}, f"Orator: {exc}")
            return {"CANCELLED"}
        self.report({"INFO"}, f"Orator: recorded take from {s.frames_seen} live frames")
        return {"FINISHED"}


CLASSES = (ORATOR_OT_live_start, ORATOR_OT_live_stop)
