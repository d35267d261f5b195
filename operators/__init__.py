"""Orator's operators: thin bpy Operator classes over the modules in `addon/`."""
from __future__ import annotations

import bpy

from . import backend_setup, prompts
from .character import ORATOR_OT_add_character
from .export import ORATOR_OT_export
from .generate import ORATOR_OT_generate_from_audio
from .live import CLASSES as LIVE_CLASSES
from .takes import ORATOR_OT_use_take

CLASSES = (ORATOR_OT_add_character, ORATOR_OT_generate_from_audio, ORATOR_OT_use_take, ORATOR_OT_export,
           *prompts.CLASSES, *backend_setup.CLASSES, *LIVE_CLASSES)


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)


def unregister() -> None:
    from ..addon import live_session
    live_session.stop(apply=False)  # a running live preview's child process ends with the add-on
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
