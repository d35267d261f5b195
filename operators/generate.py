"""Generate from Audio: send the audio to the backend worker, then key the takes on the character.

Interactive: a modal operator polls the worker from a 0.1 s timer (the UI never waits), shows
progress in the sidebar and the status bar, and ESC cancels. Background mode and scripts
(`bpy.ops.orator.generate_from_audio()`): the same operator waits for the job. The takes are
applied inside this one operator execution, so they are one undo step.
The request and applying the result: `addon.generation`.
"""
from __future__ import annotations

import bpy

from ..addon.generation import GenerateRequest, finish_job, read_request, set_progress
from ..backend.errors import UserError
from ..addon.worker_session import JobState, session

TIMER_INTERVAL_S = 0.1


class ORATOR_OT_generate_from_audio(bpy.types.Operator):
    """Generate body and face animation for the character from the speech recording"""

    bl_idname = "orator.generate_from_audio"
    bl_label = "Generate from Audio"
    bl_options = {"REGISTER", "UNDO"}

    _timer = None
    _job: JobState | None = None
    _request: GenerateRequest | None = None

    @classmethod
    def poll(cls, context):
        settings = context.scene.orator
        if settings.armature is None:
            cls.poll_message_set("Add or choose a character first")
            return False
        if not settings.audio:
            cls.poll_message_set("Choose an audio file first")
            return False
        if context.window_manager.orator_progress.running:
            cls.poll_message_set("A generation is already running")
            return False
        return True

    def _report_all(self, reports) -> None:
        for kind, message in reports:
            self.report(kind, message)

    def execute(self, context):
        """Blocking run (background mode, scripts)."""
        try:
            request = read_request(context)
        except UserError as exc:
            self.report({"ERROR"}, f"Orator: {exc}")
            return {"CANCELLED"}
        session().env = request.env
        job = session().run_blocking(request.python, request.audio, request.output_dir,
                                     request.options, request.timeout_s)
        result, reports = finish_job(context, request, job)
        self._report_all(reports)
        return result

    def invoke(self, context, event):
        if bpy.app.background or context.window is None:
            return self.execute(context)
        try:
            self._request = read_request(context)
        except UserError as exc:
            self.report({"ERROR"}, f"Orator: {exc}")
            return {"CANCELLED"}
        session().env = self._request.env
        self._job = session().begin(self._request.python, self._request.audio,
                                    self._request.output_dir, self._request.options,
                                    self._request.timeout_s)
        wm = context.window_manager
        self._timer = wm.event_timer_add(TIMER_INTERVAL_S, window=context.window)
        wm.modal_handler_add(self)
        set_progress(context, self._job)
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        job = self._job
        if event.type == "ESC" and event.value == "PRESS":
            session().cancel(job)
        elif event.type != "TIMER":
            return {"PASS_THROUGH"}
        session().pump(job)
        set_progress(context, job)
        if not job.finished:
            return {"RUNNING_MODAL"}
        context.window_manager.event_timer_remove(self._timer)
        self._timer = None
        set_progress(context, None)
        result, reports = finish_job(context, self._request, job)
        self._report_all(reports)
        return result

    def cancel(self, context):
        """Blender ends the operator (file load, window closed): drop the job."""
        if self._job is not None:
            session().cancel(self._job)
        if self._timer is not None:
            context.window_manager.event_timer_remove(self._timer)
        set_progress(context, None)
