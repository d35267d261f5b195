"""Orator: a Blender extension that turns a speech recording into full-body and face animation.

This folder is the extension package: `addon/` (the Blender-side logic), `operators/` (thin operators
over it) and `panels/` (sidebar and preferences); `backend/` (bpy-free, run in a child process) and
`rigs/` ship alongside. bpy is only imported inside those modules, so tools that merely read this
folder never need Blender.
"""


def register() -> None:
    from . import operators, panels
    from .addon import properties

    properties.register()
    operators.register()
    panels.register()


def unregister() -> None:
    from . import operators, panels
    from .addon import backend_status, properties
    from .addon.worker_session import shutdown_session

    panels.unregister()
    backend_status.shutdown()
    shutdown_session()
    operators.unregister()
    properties.unregister()
