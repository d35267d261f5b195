"""Poll checks shared by the operators."""
from __future__ import annotations


def character_chosen(cls, context) -> bool:
    """Operator poll: a character is chosen in the sidebar; else the tooltip says to choose one."""
    if context.scene.orator.armature is None:
        cls.poll_message_set("Choose a character first")
        return False
    return True
