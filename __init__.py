"""Orator: a Blender extension that turns a speech recording into full-body and face animation.

This folder is the extension package. The add-on lives in `preferences.py`, `operators/` and
`panels/`; `backend/` (bpy-free, run in a child process) and `rigs/` ship alongside it. bpy is only
imported inside those modules, so tools that merely read this folder never need Blender.
"""


def register() -> None:
    from . import operators, panels, preferences

    preferences.register()
    operators.register()
    panels.register()


def unregister() -> None:
    from . import operators, panels, preferences

    panels.unregister()
    operators.unregister()
    preferences.unregister()
