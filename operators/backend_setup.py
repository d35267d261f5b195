"""The preferences' backend operators: test the Python, install the neural engines, install the models zip.

What they do lives in `addon.backend_status`; these only report and drive the modal install.
"""
from __future__ import annotations

import bpy

from ..addon import backend_status
from ..addon.neural_install import TORCH_VERSION, NeuralInstall
from ..backend.errors import UserError


class ORATOR_OT_test_backend(bpy.types.Operator):
    """Run `python -m backend info` with the backend Python and show what it found"""

    bl_idname = "orator.test_backend"
    bl_label = "Test Backend Python"

    def execute(self, context):
        result = backend_status.retest_backend(context)
        if result is not None and result.error:
            self.report({"ERROR"}, f"Orator: {result.error}")
            return {"CANCELLED"}
        return {"FINISHED"}


class ORATOR_OT_install_neural_engines(bpy.types.Operator):
    """Install torch for the neural engines into the extension's user folder with pip"""

    bl_idname = "orator.install_neural_engines"
    bl_label = "Install Neural Engines"

    _timer = None

    @classmethod
    def poll(cls, context):
        reason = backend_status.install_blocked_reason(context)
        if reason:
            cls.poll_message_set(reason)
        return not reason

    def _finish(self, install: NeuralInstall) -> set:
        backend_status.after_install()
        if install.error:
            self.report({"WARNING"} if install.error == "cancelled" else {"ERROR"},
                        f"Orator: neural engines not installed: {install.error}")
            return {"CANCELLED"}
        self.report({"INFO"}, f"Orator: torch {TORCH_VERSION} installed for the neural engines")
        return {"FINISHED"}

    def execute(self, context):
        try:
            install = backend_status.begin_neural_install(context)
        except UserError as exc:
            self.report({"ERROR"}, f"Orator: {exc}")
            return {"CANCELLED"}
        return self._finish(install.wait())

    def invoke(self, context, event):
        if bpy.app.background or context.window is None:
            return self.execute(context)
        try:
            backend_status.begin_neural_install(context)
        except UserError as exc:
            self.report({"ERROR"}, f"Orator: {exc}")
            return {"CANCELLED"}
        wm = context.window_manager
        self._timer = wm.event_timer_add(backend_status.REDRAW_INTERVAL_S, window=context.window)
        wm.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        install = backend_status.install_state()
        if event.type == "ESC" and event.value == "PRESS":
            install.cancel()
        if event.type != "TIMER" and event.type != "ESC":
            return {"PASS_THROUGH"}
        backend_status.tag_redraw()
        if not install.finished:
            return {"RUNNING_MODAL"}
        context.window_manager.event_timer_remove(self._timer)
        return self._finish(install)

    def cancel(self, context):
        backend_status.cancel_neural_install()
        if self._timer is not None:
            context.window_manager.event_timer_remove(self._timer)


class ORATOR_OT_cancel_neural_install(bpy.types.Operator):
    """Stop the running install (what was installed before stays)"""

    bl_idname = "orator.cancel_neural_install"
    bl_label = "Cancel Install"

    @classmethod
    def poll(cls, context):
        return backend_status.installing()

    def execute(self, context):
        backend_status.cancel_neural_install()
        return {"FINISHED"}


class ORATOR_OT_install_models(bpy.types.Operator):
    """Install the neural engines' models from the Orator models zip (orator-models-<version>.zip)"""

    bl_idname = "orator.install_models"
    bl_label = "Install Models"

    filepath: bpy.props.StringProperty(subtype="FILE_PATH")
    filter_glob: bpy.props.StringProperty(default="*.zip", options={"HIDDEN"})

    def invoke(self, context, event):
        context.window_manager.fileselect_add(self)
        return {"RUNNING_MODAL"}

    def execute(self, context):
        try:
            names = backend_status.install_models(bpy.path.abspath(self.filepath))
        except UserError as exc:
            self.report({"ERROR"}, f"Orator: {exc}")
            return {"CANCELLED"}
        self.report({"INFO"}, f"Orator: installed {', '.join(names)}")
        return {"FINISHED"}


CLASSES = (ORATOR_OT_test_backend, ORATOR_OT_install_neural_engines, ORATOR_OT_cancel_neural_install,
           ORATOR_OT_install_models)
