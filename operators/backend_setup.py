"""The backend's readiness for people: status line, engine choices that say what is installed, and the
preferences' operators (test the Python, install the neural engines, install the models zip).

What a Python can run always comes from running it (`backend_python.probe`: `python -m backend info
--json`), cached per interpreter and refreshed after an install or a change of Python.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import bpy

from ..backend.errors import UserError
from ..backend_python import BackendPython, ProbeResult, forget_probes, probe_cached, probe_now, probing
from ..neural_install import TORCH_VERSION, NeuralInstall, install_models_zip
from ..addon.worker_session import session

ROOT_PACKAGE = __package__.rpartition(".")[0]
REDRAW_INTERVAL_S = 0.25
ENGINE_LABELS = {"builtin": "Built-in", "neural": "Neural"}
_INSTALL: NeuralInstall | None = None
_ENUM_ITEMS: dict[str, list] = {}  # Blender needs the strings of dynamic enum items kept alive


def _prefs(context):
    addon = context.preferences.addons.get(ROOT_PACKAGE)
    return addon.preferences if addon is not None else None


def current_backend(context) -> BackendPython:
    prefs = _prefs(context)
    return prefs.backend() if prefs is not None else BackendPython(sys.executable, (), "Blender's Python")


def _tag_redraw() -> None:
    wm = bpy.context.window_manager
    for window in wm.windows if wm is not None else ():
        for area in window.screen.areas:
            if area.type in ("VIEW_3D", "PREFERENCES"):
                area.tag_redraw()


def _redraw_while_busy():
    """Timer: redraw the sidebar and preferences until probes and installs are done."""
    busy = probing() or (_INSTALL is not None and not _INSTALL.finished)
    _tag_redraw()
    return REDRAW_INTERVAL_S if busy else None


def _watch() -> None:
    if not bpy.app.background and not bpy.app.timers.is_registered(_redraw_while_busy):
        bpy.app.timers.register(_redraw_while_busy, first_interval=REDRAW_INTERVAL_S)


def probe_for_ui(context) -> ProbeResult | None:
    """The cached probe of the current backend Python; starts one (and a redraw timer) when there is none."""
    result = probe_cached(current_backend(context))
    if result is None:
        _watch()
    return result


@dataclass(frozen=True)
class Status:
    icon: str
    text: str
    fix: str = ""


def _fix_for_missing(python: BackendPython, missing: list[str]) -> str:
    if any(name.endswith(".pt") for name in missing) and all(name.endswith(".pt") or name == "torch"
                                                             for name in missing):
        return "Preferences → Orator: Install neural engines / Install models"
    if python.origin == "Blender's Python":
        return "Install the Orator zip built for this platform (it carries them), or choose a Backend Python"
    return f"pip install {' '.join(m for m in missing if not m.endswith('.pt'))} into {python.executable}, " \
           "or clear 'Backend Python' to use Blender's own"


def backend_status(context) -> Status:
    """One line for the sidebar: installing / starting / checking / ready / what is missing and the fix."""
    if _INSTALL is not None and not _INSTALL.finished:
        return Status("IMPORT", f"Installing neural engines: {_INSTALL.stage} {_INSTALL.fraction * 100:.0f}%")
    python = current_backend(context)
    if session().starting():
        return Status("SORTTIME", "Backend: starting")
    result = probe_for_ui(context)
    if result is None:
        return Status("SORTTIME", f"Backend: checking {python.origin}")
    if result.error:
        return Status("ERROR", f"Backend: {result.error}",
                      "Preferences → Orator: fix 'Backend Python', or clear it to use Blender's own")
    if not (result.ready("body", "builtin") and result.ready("face", "builtin")):
        missing = result.missing("body", "builtin")
        return Status("ERROR", f"Backend: missing {', '.join(missing)}", _fix_for_missing(python, missing))
    neural = "neural ready" if result.ready("face", "neural") else "neural not installed"
    client = session().client
    state = "running" if client is not None and client.alive() else "ready"
    return Status("CHECKMARK", f"Backend: {state} ({python.origin}; built-in engines, {neural})")


def engine_items(context, part: str) -> list:
    """EnumProperty items for a sidebar engine choice, labelled with whether each engine is installed."""
    result = probe_cached(current_backend(context)) if context is not None else None
    items = []
    for index, name in enumerate(ENGINE_LABELS):
        label, description = ENGINE_LABELS[name], ""
        if name == "builtin":
            description = "Rule-based, needs no download"
        elif result is None:
            description = "Learned model (checking whether it is installed)"
        elif result.ready(part, name):
            description = "Learned model (installed)"
        else:
            label += " (not installed)"
            description = (f"Needs {', '.join(result.missing(part, name))}: Preferences → Orator → "
                           "Install neural engines / Install models")
        items.append((name, label, description, index))
    _ENUM_ITEMS[part] = items
    return items


def check_engines_ready(python: BackendPython, engines: dict[str, str]) -> None:
    """UserError naming what is missing and the fix when `python` cannot run the chosen engines.

    `engines`: {"body": name, "face": name}; engines the report does not know are left to the backend.
    """
    result = probe_now(python)
    if result.error:
        raise UserError(f"the backend Python does not work: {result.error}; fix 'Backend Python' in the "
                        "Orator preferences (empty: Blender's own)")
    for part, name in engines.items():
        known = (result.info or {}).get("available", {}).get(part, {})
        if name in known and not result.ready(part, name):
            missing = result.missing(part, name)
            raise UserError(f"the {ENGINE_LABELS.get(name, name).lower()} {part} engine needs "
                            f"{', '.join(missing)}: {_fix_for_missing(python, missing)}")


def _user_dir(context) -> str:
    try:
        return bpy.utils.extension_path_user(ROOT_PACKAGE, create=True)
    except (ValueError, RuntimeError, AttributeError):
        raise UserError("the neural engines install into the extension's user folder: install Orator as an "
                        "extension (Blender 4.2+), or choose a Backend Python with torch") from None


class ORATOR_OT_test_backend(bpy.types.Operator):
    """Run `python -m backend info` with the backend Python and show what it found"""

    bl_idname = "orator.test_backend"
    bl_label = "Test Backend Python"

    def execute(self, context):
        python = current_backend(context)
        probe_cached(python, refresh=True)
        result = probe_now(python) if bpy.app.background else None
        _watch()
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
        if _INSTALL is not None and not _INSTALL.finished:
            cls.poll_message_set("An install is running")
            return False
        prefs = _prefs(context)
        if prefs is not None and prefs.python:
            cls.poll_message_set("A Backend Python is chosen: install torch into it with its own pip")
            return False
        return True

    def _begin(self, context) -> NeuralInstall:
        global _INSTALL
        prefs = _prefs(context)
        python = current_backend(context)
        env = dict(python.environment())
        env.pop("PYTHONPATH", None)  # pip resolves torch for the target folder alone
        wheels_dir = bpy.path.abspath(prefs.wheels_dir) if prefs is not None and prefs.wheels_dir else ""
        _INSTALL = NeuralInstall(python.executable, Path(_user_dir(context)),
                                 prefs.torch_variant if prefs is not None else "cpu", wheels_dir, env)
        return _INSTALL.start()

    def _finish(self, install: NeuralInstall) -> set:
        forget_probes()
        session().stop()  # the next job starts a worker that sees torch
        if install.error:
            self.report({"WARNING"} if install.error == "cancelled" else {"ERROR"},
                        f"Orator: neural engines not installed: {install.error}")
            return {"CANCELLED"}
        self.report({"INFO"}, f"Orator: torch {TORCH_VERSION} installed for the neural engines")
        return {"FINISHED"}

    def execute(self, context):
        try:
            install = self._begin(context)
        except UserError as exc:
            self.report({"ERROR"}, f"Orator: {exc}")
            return {"CANCELLED"}
        return self._finish(install.wait())

    def invoke(self, context, event):
        if bpy.app.background or context.window is None:
            return self.execute(context)
        try:
            self._begin(context)
        except UserError as exc:
            self.report({"ERROR"}, f"Orator: {exc}")
            return {"CANCELLED"}
        wm = context.window_manager
        self._timer = wm.event_timer_add(REDRAW_INTERVAL_S, window=context.window)
        wm.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        install = _INSTALL
        if event.type == "ESC" and event.value == "PRESS":
            install.cancel()
        if event.type != "TIMER" and event.type != "ESC":
            return {"PASS_THROUGH"}
        _tag_redraw()
        if not install.finished:
            return {"RUNNING_MODAL"}
        context.window_manager.event_timer_remove(self._timer)
        return self._finish(install)

    def cancel(self, context):
        if _INSTALL is not None:
            _INSTALL.cancel()
        if self._timer is not None:
            context.window_manager.event_timer_remove(self._timer)


class ORATOR_OT_cancel_neural_install(bpy.types.Operator):
    """Stop the running install (what was installed before stays)"""

    bl_idname = "orator.cancel_neural_install"
    bl_label = "Cancel Install"

    @classmethod
    def poll(cls, context):
        return _INSTALL is not None and not _INSTALL.finished

    def execute(self, context):
        _INSTALL.cancel()
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
            names = install_models_zip(bpy.path.abspath(self.filepath), _user_dir(context))
        except UserError as exc:
            self.report({"ERROR"}, f"Orator: {exc}")
            return {"CANCELLED"}
        forget_probes()
        session().stop()
        self.report({"INFO"}, f"Orator: installed {', '.join(names)}")
        return {"FINISHED"}


def install_state() -> NeuralInstall | None:
    return _INSTALL


CLASSES = (ORATOR_OT_test_backend, ORATOR_OT_install_neural_engines, ORATOR_OT_cancel_neural_install,
           ORATOR_OT_install_models)


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)


def unregister() -> None:
    if _INSTALL is not None and not _INSTALL.finished:
        _INSTALL.cancel()
    if bpy.app.timers.is_registered(_redraw_while_busy):
        bpy.app.timers.unregister(_redraw_while_busy)
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
