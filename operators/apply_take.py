"""Put generated takes on a character: retarget, resample to the scene fps, key, stack takes in the NLA.

Everything numeric happens before the first change to the scene; the scene changes are recorded
and rolled back if any of them fails, so an error never leaves half a take behind.
Takes: every take gets a muted NLA track (on the armature, and on the shape keys), the playing one
is also the active action; the user's own animation is moved to a muted track, never edited.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import bpy
import numpy as np

from ..backend.formats.motion_npz import MotionFile, read_motion_npz
from ..rigs.blender.pose import describe_armature
from ..rigs.face_map import match_arkit_shape_keys, match_expression_keys
from ..rigs.mouth import keyed_bone_mask, mouth_mechanism
from ..rigs.retarget import RigDescription, retarget_smplx_to_rig
from ..rigs.skeletons import SkeletonMap, detect_skeleton
from .keyframe_writer import SLOTTED_ACTIONS, TakeCurves, WrittenTake, write_take
from .resample import resample_linear, resample_quaternions, sample_positions

TAKE_KEY = "orator_take"            # action custom properties that mark and describe an Orator take
AUDIO_KEY = "orator_audio"
ARMATURE_KEY = "orator_armature"
FACE_ACTION_KEY = "orator_face_action"   # legacy layout: the shape-key action's name
BODY_SLOT_KEY = "orator_body_slot"       # slotted layout: slot identifiers
FACE_SLOT_KEY = "orator_face_slot"
STASH_SUFFIX = " (stashed)"


@dataclass(frozen=True)
class ApplyRequest:
    """Which takes go on which character, where on the timeline."""

    armature_name: str
    mesh_name: str | None
    audio_path: str
    take_motion_paths: tuple[str, ...]
    frame_start: int
    add_sound: bool = True


def scene_fps(scene) -> float:
    return scene.render.fps / scene.render.fps_base


def take_name(audio_path: str, take: int) -> str:
    """The action name of a take, e.g. 'LJ001-0001 take 1'."""
    return f"{Path(audio_path).stem} take {take}"


def skeleton_map(armature_obj) -> SkeletonMap:
    """The SMPL-X map of the armature's rig family (UserError when it is not a humanoid we know)."""
    rig = describe_armature(armature_obj)
    return detect_skeleton(rig.bone_names, rig.parents, armature_obj.name)


def face_mesh_for(armature_obj):
    """The mesh deformed by `armature_obj` with the most ARKit shape keys, or None."""
    best, best_count = None, 0
    for obj in bpy.data.objects:
        if obj.type != "MESH" or obj.data.shape_keys is None:
            continue
        driven = obj.parent == armature_obj or any(
            m.type == "ARMATURE" and m.object == armature_obj for m in obj.modifiers)
        if not driven:
            continue
        count = len(match_arkit_shape_keys(k.name for k in obj.data.shape_keys.key_blocks))
        if count > best_count:
            best, best_count = obj, count
    return best


def face_channels(key_names) -> tuple[str, dict[int, str]]:
    """Which motion curves drive these shape keys: ('arkit', ARKit index → key) when any ARKit key
    matches, else ('expressions', FLAME index → key) for SMPL-X/FLAME `Exp###` keys."""
    key_names = list(key_names)
    arkit_map = match_arkit_shape_keys(key_names)
    if arkit_map:
        return "arkit", arkit_map
    return "expressions", match_expression_keys(key_names)


def take_curves(motion: MotionFile, rig: RigDescription, mapping: SkeletonMap, face: tuple[str, dict[int, str]],
                fps: float, frame_start: int) -> TakeCurves:
    """Retarget one take onto the rig and resample it from the motion's rate to `fps`.

    face: (source, channel index → shape key) from `face_channels`.
    """
    retargeted = retarget_smplx_to_rig(motion.poses, motion.trans, rig, mapping)
    # one mouth: a jawOpen shape key opens it on its own, the jaw bone is then not keyed
    keyed = np.flatnonzero(retargeted.mapped & keyed_bone_mask(rig.bone_names, mapping.jaw_bone,
                                                               mouth_mechanism(*face)))
    positions = sample_positions(motion.n_frames, motion.fps, fps)
    rotations = resample_quaternions(retargeted.rotations[:, keyed], positions)
    root = resample_linear(retargeted.root_location, positions)
    source, shape_map = face
    weights = motion.arkit if source == "arkit" else motion.expressions
    shape_indices = sorted(i for i in shape_map if weights is not None and i < weights.shape[1])
    if shape_indices:
        shape_values = resample_linear(weights[:, shape_indices], positions)
    else:
        shape_indices, shape_values = [], np.zeros((len(positions), 0))
    return TakeCurves(bone_names=tuple(rig.bone_names[i] for i in keyed), rotations=rotations,
                      root_bone=retargeted.root_bone, root_location=root,
                      shape_keys=tuple(shape_map[i] for i in shape_indices), shape_values=shape_values,
                      frame_start=int(frame_start))


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


def _ensure_animation_data(id_, edits: SceneEdits):
    if id_.animation_data is None:
        id_.animation_data_create()
        edits.record(id_.animation_data_clear)
    return id_.animation_data


def _set_active(id_, action, slot, edits: SceneEdits) -> None:
    """Make `action` (and `slot`) what `id_` plays, remembering the previous assignment."""
    ad = _ensure_animation_data(id_, edits)
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


def _add_muted_track(id_, name: str, action, slot, frame_start: int, edits: SceneEdits):
    ad = _ensure_animation_data(id_, edits)
    track = ad.nla_tracks.new()
    edits.record(lambda: ad.nla_tracks.remove(track))
    track.name = name
    strip = track.strips.new(name, int(frame_start), action)
    if SLOTTED_ACTIONS and slot is not None:
        strip.action_slot = slot
    track.mute = True
    return track


def stash_user_action(id_, edits: SceneEdits) -> None:
    """Move a non-Orator active action to a muted NLA track (the action itself is not touched)."""
    ad = id_.animation_data
    if ad is None or ad.action is None:
        return
    action = ad.action
    if TAKE_KEY in action:
        return  # takes always have their own track already
    slot = ad.action_slot if SLOTTED_ACTIONS else None
    _add_muted_track(id_, action.name + STASH_SUFFIX, action, slot, int(action.frame_range[0]), edits)
    _set_active(id_, None, None, edits)


def _slot_by_identifier(action, identifier: str | None):
    if not SLOTTED_ACTIONS or not identifier:
        return None
    return next((s for s in action.slots if s.identifier == identifier), None)


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


def face_part(action):
    """(action, slot) that carries a take's shape-key curves, or (None, None)."""
    if SLOTTED_ACTIONS:
        slot = _slot_by_identifier(action, action.get(FACE_SLOT_KEY))
        return (action, slot) if slot is not None else (None, None)
    face = bpy.data.actions.get(action.get(FACE_ACTION_KEY, ""))
    return (face, None) if face is not None else (None, None)


def use_take(armature_obj, mesh_obj, action, edits: SceneEdits | None = None) -> None:
    """Play take `action` on the armature (and its face on the mesh's shape keys)."""
    edits = edits or SceneEdits()
    stash_user_action(armature_obj, edits)
    _set_active(armature_obj, action, _slot_by_identifier(action, action.get(BODY_SLOT_KEY)), edits)
    keys = mesh_obj.data.shape_keys if mesh_obj is not None else None
    if keys is not None:
        face, face_slot = face_part(action)
        if face is not None:
            stash_user_action(keys, edits)
            _set_active(keys, face, face_slot, edits)


def _ensure_quaternion_mode(armature_obj, bone_names, edits: SceneEdits) -> None:
    for name in bone_names:
        pb = armature_obj.pose.bones[name]
        if pb.rotation_mode != "QUATERNION":
            old = pb.rotation_mode
            edits.record(lambda pb=pb, old=old: setattr(pb, "rotation_mode", old))
            pb.rotation_mode = "QUATERNION"


def _sound_strips(scene):
    editor = scene.sequence_editor
    return editor.strips if hasattr(editor, "strips") else editor.sequences


def add_sound_strip(scene, audio_path: str, frame_start: int, edits: SceneEdits):
    """The audio as a sound strip at frame_start (reused when that file already starts there).

    None when this Blender cannot load sounds (built without Audaspace)."""
    if scene.sequence_editor is None:
        scene.sequence_editor_create()
        edits.record(scene.sequence_editor_clear)
    strips = _sound_strips(scene)
    wanted = Path(bpy.path.abspath(audio_path)).resolve()
    channels = [1]
    for s in strips:
        channels.append(s.channel + 1)
        if (s.type == "SOUND" and s.sound is not None and int(s.frame_start) == int(frame_start)
                and Path(bpy.path.abspath(s.sound.filepath)).resolve() == wanted):
            return s
    try:
        strip = strips.new_sound(name=Path(audio_path).stem, filepath=str(audio_path),
                                 channel=min(max(channels), 128), frame_start=int(frame_start))
    except RuntimeError:  # a Blender build without audio support (e.g. the bpy 4.2 module): keys only
        return None
    sound = strip.sound
    edits.record(lambda: (strips.remove(strip), bpy.data.sounds.remove(sound) if sound.users == 0 else None))
    return strip


def apply_takes(context, request: ApplyRequest) -> list:
    """Key every take of a generation on the character; returns the new take actions (take 1 plays).

    All-or-nothing: on any error the scene is restored and the error re-raised.
    """
    scene = context.scene
    armature_obj = bpy.data.objects[request.armature_name]
    mesh_obj = bpy.data.objects.get(request.mesh_name) if request.mesh_name else None
    keys = mesh_obj.data.shape_keys if mesh_obj is not None else None
    rig = describe_armature(armature_obj)
    mapping = detect_skeleton(rig.bone_names, rig.parents, armature_obj.name)
    face = face_channels(k.name for k in keys.key_blocks) if keys is not None else ("arkit", {})
    fps = scene_fps(scene)
    motions = [read_motion_npz(p) for p in request.take_motion_paths]
    curves = [take_curves(m, rig, mapping, face, fps, request.frame_start) for m in motions]

    first = next_take_number(armature_obj, request.audio_path)
    edits = SceneEdits()
    created: list = []
    try:
        for k, take in enumerate(curves, start=first):
            name = take_name(request.audio_path, k)
            written = write_take(name, armature_obj, keys, take)
            created.append(written)
            edits.record(lambda w=written: _remove_written(w))
            _tag_take(written, k, request, armature_obj)
        _ensure_quaternion_mode(armature_obj, curves[0].bone_names, edits)
        stash_user_action(armature_obj, edits)
        if keys is not None:
            stash_user_action(keys, edits)
        for written in created:
            body = written.body_action
            _add_muted_track(armature_obj, body.name, body, written.body_slot, request.frame_start, edits)
            if keys is not None and written.face_action is not None:
                _add_muted_track(keys, body.name, written.face_action, written.face_slot,
                                 request.frame_start, edits)
        use_take(armature_obj, mesh_obj, created[0].body_action, edits)
        if request.add_sound:
            add_sound_strip(scene, request.audio_path, request.frame_start, edits)
        end = max(c.frame_end for c in curves)
        if end > scene.frame_end:
            old_end = scene.frame_end
            edits.record(lambda: setattr(scene, "frame_end", old_end))
            scene.frame_end = end
    except BaseException:
        edits.rollback()
        raise
    return [w.body_action for w in created]


def _tag_take(written: WrittenTake, take: int, request: ApplyRequest, armature_obj) -> None:
    body = written.body_action
    body[TAKE_KEY] = take
    body[AUDIO_KEY] = str(request.audio_path)
    body[ARMATURE_KEY] = armature_obj.name
    if SLOTTED_ACTIONS:
        body[BODY_SLOT_KEY] = written.body_slot.identifier
        if written.face_slot is not None:
            body[FACE_SLOT_KEY] = written.face_slot.identifier
    elif written.face_action is not None:
        body[FACE_ACTION_KEY] = written.face_action.name
        written.face_action[TAKE_KEY] = take


def _remove_written(written: WrittenTake) -> None:
    bpy.data.actions.remove(written.body_action)
    if written.face_action is not None and written.face_action != written.body_action:
        bpy.data.actions.remove(written.face_action)
