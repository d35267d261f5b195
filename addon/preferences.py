"""The one way to the add-on's preferences, and the folders and backend Python they decide.

The preferences' properties are declared in `properties.PreferenceProperties`; the registered
AddonPreferences class (with its draw) is `panels.preferences.OratorPreferences`.
"""
from __future__ import annotations

import sys
from pathlib import Path

import bpy

from .backend_python import BLENDER_PYTHON, BackendPython, resolve

ROOT_PACKAGE = __package__.rpartition(".")[0]   # the extension's package: the preferences' bl_idname
ADDON_DIR = Path(__file__).resolve().parents[1]


def preferences(context=None):
    """The Orator preferences (context or bpy.context), or None when the add-on is not enabled (its
    modules imported by a script, or during unregister)."""
    addon = (context or bpy.context).preferences.addons.get(ROOT_PACKAGE)
    return addon.preferences if addon is not None else None


def user_dir() -> str | None:
    """The extension's user folder (neural engines, models, generated files); None for a legacy add-on."""
    try:
        return bpy.utils.extension_path_user(ROOT_PACKAGE, create=True)
    except (ValueError, RuntimeError, AttributeError):
        return None


def backend_of(prefs) -> BackendPython:
    """The Python that runs the backend for these preferences (None: Blender's own), with the folders it
    needs on its path (`backend_python.resolve`)."""
    if prefs is None:
        return BackendPython(sys.executable, (), BLENDER_PYTHON)
    chosen = bpy.path.abspath(prefs.python) if prefs.python else ""
    return resolve(chosen, user_dir(), ADDON_DIR)


def current_backend(context=None) -> BackendPython:
    return backend_of(preferences(context))


def abspath_setting(context, name: str) -> str:
    """A folder or file preference as an absolute path ('' when unset or the add-on is not enabled)."""
    prefs = preferences(context)
    value = getattr(prefs, name, "") if prefs is not None else ""
    return bpy.path.abspath(value) if value else ""
