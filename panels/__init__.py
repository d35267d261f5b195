"""The Orator tab in the 3D View sidebar."""
from __future__ import annotations

import bpy

from .sidebar import CLASSES


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)


def unregister() -> None:
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
