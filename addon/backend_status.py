"""The backend's readiness for people: status line, engine choices that say what is installed, the check
before a job, and the neural engines' install the preferences start.

What a Python can run always comes from running it (`backend_python.probe`: `python -m backend info
--json`), cached per interpreter and refreshed after an install or a change of Python.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import bpy

from ..backend.errors import UserError
from .worker_session import session
from .backend_python import (BLENDER_PYTHON, BackendPython, ProbeResult, forget_probes, probe_cached, probe_now,
                             probing)
from .neural_install import NeuralInstall, install_models_zip
from .preferences import current_backend, preferences, user_dir

REDRAW_INTERVAL_S = 0.25
ENGINE_LABELS = {"builtin": "Built-in", "neural": "Neural"}
_INSTALL: NeuralInstall | None = None
_ENUM_ITEMS: dict[str, list] = {}  # Blender needs the strings of dynamic enum items kept alive


def tag_redraw(area_types: tuple[str, ...] = ("VIEW_3D", "PREFERENCES")) -> None:
    """Redraw every open area of these types (the sidebar, the preferences; the viewport for live preview)."""
    wm = bpy.context.window_manager
    for window in wm.windows if wm is not None else ():
        for area in window.screen.areas:
            if area.type in area_types:
                area.tag_redraw()


def _redraw_while_busy():
    """Timer: redraw the sidebar and preferences until probes and installs are done."""
    busy = probing() or (_INSTALL is not None and not _INSTALL.finished)
    tag_redraw()
    return REDRAW_INTERVAL_S if busy else None


def watch() -> None:
    """Redraw from a timer while a probe or an install runs (not in background mode)."""
    if not bpy.app.background and not bpy.app.timers.is_registered(_redraw_while_busy):
        bpy.app.timers.register(_redraw_while_busy, first_interval=REDRAW_INTERVAL_S)


def probe_for_ui(context) -> ProbeResult | None:
    """The cached probe of the current backend Python; starts one (and a redraw timer) when there is none."""
    result = probe_cached(current_backend(context))
    if result is None:
        watch()
    return result


def retest_backend(context) -> ProbeResult | None:
    """Probe the current backend Python again: waited for in background mode, else on a helper thread."""
    python = current_backend(context)
    probe_cached(python, refresh=True)
    result = probe_now(python) if bpy.app.background else None
    watch()
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
    if python.origin == BLENDER_PYTHON:
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


# --- installs from the preferences ---------------------------------------------------------------

def _install_folder() -> str:
    folder = user_dir()
    if folder is None:
        raise UserError("the neural engines install into the extension's user folder: install Orator as an "
                        "extension (Blender 4.2+), or choose a Backend Python with torch")
    return folder


def install_state() -> NeuralInstall | None:
    """The neural engines' install started last (running or finished), or None."""
    return _INSTALL


def installing() -> bool:
    return _INSTALL is not None and not _INSTALL.finished


def install_blocked_reason(context) -> str:
    """'' when Install Neural Engines can start, else why not (for the operator's poll message)."""
    if installing():
        return "An install is running"
    prefs = preferences(context)
    if prefs is not None and prefs.python:
        return "A Backend Python is chosen: install torch into it with its own pip"
    return ""


def begin_neural_install(context) -> NeuralInstall:
    """Start pip for torch into the user folder on a helper thread (UserError when there is no such folder)."""
    global _INSTALL
    prefs = preferences(context)
    python = current_backend(context)
    env = dict(python.environment())
    env.pop("PYTHONPATH", None)  # pip resolves torch for the target folder alone
    wheels_dir = bpy.path.abspath(prefs.wheels_dir) if prefs is not None and prefs.wheels_dir else ""
    _INSTALL = NeuralInstall(python.executable, Path(_install_folder()),
                             prefs.torch_variant if prefs is not None else "cpu", wheels_dir, env)
    return _INSTALL.start()


def cancel_neural_install() -> None:
    if installing():
        _INSTALL.cancel()


def after_install() -> None:
    """What an install changed is seen from now on: probes run again, the next job starts a new worker."""
    forget_probes()
    session().stop()


def install_models(archive: str) -> list[str]:
    """Unpack the models zip into the user folder; returns the checkpoints' names (UserError when unusable)."""
    names = install_models_zip(archive, _install_folder())
    after_install()
    return names


def shutdown() -> None:
    """Unregister: stop a running install and the redraw timer."""
    cancel_neural_install()
    if bpy.app.timers.is_registered(_redraw_while_busy):
        bpy.app.timers.unregister(_redraw_while_busy)
