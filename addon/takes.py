"""Take bookkeeping: which actions are Orator takes (their tags), their names and numbers, which take plays,
and switching to another take (its NLA track, its face, its sound strip).

Every take gets a muted NLA track (on the armature, and on the shape keys); the playing one is also the
active action. The user's own animation is moved to a muted track, never edited. Each audio has one
sound strip; using a take unmutes its own and mutes Orator's others.
"""
from __future__ import annotations

from pathlib import Path

import bpy

from .keyframe_writer import SLOTTED_ACTIONS
from .scene_edits import SceneEdits, add_nla_track, set_active

TAKE_KEY = "orator_take"            # action custom properties that mark and describe an Orator take
AUDIO_KEY = "orator_audio"
ARMATURE_KEY = "orator_armature"
FACE_ACTION_KEY = "orator_face_action"   # legacy layout: the shape-key action's name
SOUND_KEY = "orator_sound"               # a take's sound strip (its name); strips Orator made carry AUDIO_KEY
BODY_SLOT_KEY = "orator_body_slot"       # slotted layout: slot identifiers
FACE_SLOT_KEY = "orator_face_slot"
STASH_SUFFIX = " (stashed)"


def take_name(audio_path: str, take: int) -> str:
    """The action name of a take, e.g. 'LJ001-0001 take 1'."""
    return f"{Path(audio_path).stem} take {take}"


def next_take_number(armature_obj, audio_path: str) -> int:
    """Takes of one audio are numbered on across generations: 'X take 1', 'X take 2', …"""
    numbers = [int(a[TAKE_KEY]) for a in take_actions(armature_obj)
               if Path(str(a.get(AUDIO_KEY, ""))).stem == Path(audio_path).stem]
    return max(numbers, default=0) + 1


def take_actions(armature_obj) -> list:
    """The Orator takes on this armature, in the order their tracks were made."""
    ad = armature_obj.animation_data
    if ad is None:
        return []
    found = []
    for track in ad.nla_tracks:
        for strip in track.strips:
            if strip.action is not None and TAKE_KEY in strip.action and strip.action not in found:
                found.append(strip.action)
    return found


def active_take(armature_obj):
    ad = armature_obj.animation_data
    if ad is not None and ad.action is not None and TAKE_KEY in ad.action:
        return ad.action
    return None


def _slot_by_identifier(action, identifier: str | None):
    if not SLOTTED_ACTIONS or not identifier:
        return None
    return next((s for s in action.slots if s.identifier == identifier), None)


def face_part(action):
    """(action, slot) that carries a take's shape-key curves, or (None, None)."""
    if SLOTTED_ACTIONS:
        slot = _slot_by_identifier(action, action.get(FACE_SLOT_KEY))
        return (action, slot) if slot is not None else (None, None)
    face = bpy.data.actions.get(action.get(FACE_ACTION_KEY, ""))
    return (face, None) if face is not None else (None, None)


def stash_user_action(id_, edits: SceneEdits) -> None:
    """Move a non-Orator active action to a muted NLA track (the action itself is not touched)."""
    ad = id_.animation_data
    if ad is None or ad.action is None:
        return
    action = ad.action
    if TAKE_KEY in action:
        return  # takes always have their own track already
    slot = ad.action_slot if SLOTTED_ACTIONS else None
    add_nla_track(id_, action.name + STASH_SUFFIX, action, slot, int(action.frame_range[0]), edits)
    set_active(id_, None, None, edits)


def use_take(armature_obj, mesh_obj, action, edits: SceneEdits | None = None, scene=None) -> None:
    """Play take `action` on the armature (and its face on the mesh's shape keys), and its sound."""
    edits = edits or SceneEdits()
    switch_sound(scene if scene is not None else bpy.context.scene, action, edits)
    stash_user_action(armature_obj, edits)
    set_active(armature_obj, action, _slot_by_identifier(action, action.get(BODY_SLOT_KEY)), edits)
    keys = mesh_obj.data.shape_keys if mesh_obj is not None else None
    if keys is not None:
        face, face_slot = face_part(action)
        if face is not None:
            stash_user_action(keys, edits)
            set_active(keys, face, face_slot, edits)


def sound_strips(scene):
    editor = scene.sequence_editor
    return editor.strips if hasattr(editor, "strips") else editor.sequences


def orator_sound_strips(scene) -> list:
    """The sound strips Orator added (the user's own strips are never muted or reused)."""
    if scene.sequence_editor is None:
        return []
    return [s for s in sound_strips(scene) if s.type == "SOUND" and AUDIO_KEY in s]


def switch_sound(scene, action, edits: SceneEdits) -> None:
    """Unmute the take's own sound strip and mute Orator's others: one recording plays at a time.
    A take without a strip of its own (sound off) leaves the strips as they are."""
    wanted = action.get(SOUND_KEY)
    strips = orator_sound_strips(scene)
    if not wanted or not any(s.name == wanted for s in strips):
        return
    for strip in strips:
        mute = strip.name != wanted
        if strip.mute != mute:
            edits.record(lambda strip=strip, old=strip.mute: setattr(strip, "mute", old))
            strip.mute = mute

