"""Orator's operators and the sidebar settings they read."""
from __future__ import annotations

import bpy

from . import backend_setup, prompts, settings
from .character import ORATOR_OT_add_character
from .export import ORATOR_OT_export
from .generate import ORATOR_OT_generate_from_audio
from .live import CLASSES as LIVE_CLASSES
from .takes import ORATOR_OT_use_take
from .worker_session import shutdown_session

CLASSES = (ORATOR_OT_add_character, ORATOR_OT_generate_from_audio, ORATOR_OT_use_take, ORATOR_OT_export,
           *LIVE_CLASSES)


def register() -> None:
    settings.register()
    prompts.register()
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    backend_setup.register()


def unregister() -> None:
    backend_setup.unregister()
    shutdown_session()
    from ..addon import live_session
    live_session.stop(apply=False)
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
    prompts.unregister()
    settings.unregister()
