"""Orator's UI: the Orator tab in the 3D View sidebar and the add-on's preferences."""
from __future__ import annotations

import bpy

from .preferences import OratorPreferences
from .sidebar import CLASSES as SIDEBAR_CLASSES

CLASSES = (OratorPreferences, *SIDEBAR_CLASSES)


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)


def unregister() -> None:
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
