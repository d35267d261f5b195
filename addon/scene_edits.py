"""The undo log for scene edits, and the NLA/action assignments every take operation is made of.

Every change goes through a `SceneEdits`, which records how to undo it; `rollback()` reverts them newest
first, so an operation that fails half-way leaves the scene as it found it.
"""
from __future__ import annotations

from .keyframe_writer import SLOTTED_ACTIONS


class SceneEdits:
    """Undo records of the changes made so far; `rollback()` reverts them newest first."""

    def __init__(self) -> None:
        self._undo: list = []

    def record(self, undo) -> None:
        self._undo.append(undo)

    def rollback(self) -> None:
        while self._undo:
            undo = self._undo.pop()
            try:
                undo()
            except (ReferenceError, RuntimeError):
                pass  # the datablock is already gone


def ensure_animation_data(id_, edits: SceneEdits):
    if id_.animation_data is None:
        id_.animation_data_create()
        edits.record(id_.animation_data_clear)
    return id_.animation_data


def set_active(id_, action, slot, edits: SceneEdits) -> None:
    """Make `action` (and `slot`) what `id_` plays, remembering the previous assignment."""
    ad = ensure_animation_data(id_, edits)
    old_action = ad.action
    old_slot = ad.action_slot if SLOTTED_ACTIONS else None

    def restore():
        ad.action = old_action
        if SLOTTED_ACTIONS and old_slot is not None:
            ad.action_slot = old_slot
    edits.record(restore)
    ad.action = action
    if SLOTTED_ACTIONS and action is not None and slot is not None:
        ad.action_slot = slot


def add_nla_track(id_, name: str, action, slot, frame_start: int, edits: SceneEdits, mute: bool = True):
    """A new NLA track on `id_` with one strip of `action` (its `slot`) from `frame_start`; muted by default."""
    ad = ensure_animation_data(id_, edits)
    track = ad.nla_tracks.new()
    edits.record(lambda: ad.nla_tracks.remove(track))
    track.name = name
    strip = track.strips.new(name, int(frame_start), action)
    if SLOTTED_ACTIONS and slot is not None:
        strip.action_slot = slot
    track.mute = mute
    return track

