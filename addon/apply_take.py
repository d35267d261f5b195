"""Put generated takes on a character: retarget, resample to the scene fps, key, stack takes in the NLA.

Everything numeric happens before the first change to the scene; the scene changes are recorded
(`scene_edits.SceneEdits`) and rolled back if any of them fails, so an error never leaves half a take behind.
Takes (`takes`): every take gets a muted NLA track, the playing one is also the active action; the
user's own animation is moved to a muted track, never edited.
The user's actions keep playing as keyed: bones are keyed in their own rotation mode (never changed),
and an unmuted track under the takes holds the pose from before the first take (see
`keep_pose_before_takes`). A generated Rigify rig is keyed on its FK controls (`rigs.rigify`).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import bpy
import numpy as np

from ..backend.formats.motion_npz import MotionFile, read_motion_npz
from ..backend.motion.resample import resample_linear, resample_quaternions, sample_positions
from ..rigs.blender.pose import describe_armature
from ..rigs.face_map import face_source, face_weights
from ..rigs.mouth import keyed_bone_mask, mouth_mechanism
from ..rigs.retarget import RetargetedMotion, RigDescription, retarget_smplx_to_rig
from ..rigs.rigify import control_take
from ..rigs.skeletons import SkeletonMap, detect_skeleton, is_generated_rig
from .keyframe_writer import SLOTTED_ACTIONS, TakeCurves, WrittenTake, take_channels, write_held_values, write_take
from .scene_edits import SceneEdits, add_nla_track, ensure_animation_data
from .takes import (ARMATURE_KEY, AUDIO_KEY, BODY_SLOT_KEY, FACE_ACTION_KEY, FACE_SLOT_KEY, SOUND_KEY, TAKE_KEY,
                    next_take_number, sound_strips, stash_user_action, take_name, use_take)

BASE_KEY = "orator_base"                 # action tag: the values Orator's channels had before the first take
BASE_TRACK = "Orator: pose before takes"


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



def skeleton_map(armature_obj) -> SkeletonMap:
    """The SMPL-X map of the armature's rig family (UserError when it is not a humanoid we know)."""
    rig = describe_armature(armature_obj)
    return detect_skeleton(rig.bone_names, rig.parents, armature_obj.name)



def face_mesh_for(armature_obj):
    """The mesh deformed by `armature_obj` with the most face shape keys Orator drives (ARKit, Oculus
    visemes, VRM expressions), or None."""
    best, best_count = None, 0
    for obj in bpy.data.objects:
        if obj.type != "MESH" or obj.data.shape_keys is None:
            continue
        driven = obj.parent == armature_obj or any(
            m.type == "ARMATURE" and m.object == armature_obj for m in obj.modifiers)
        if not driven:
            continue
        source, matched = face_source(k.name for k in obj.data.shape_keys.key_blocks)
        count = len(matched) if source != "expressions" else 0
        if count > best_count:
            best, best_count = obj, count
    return best



def face_channels(key_names) -> tuple[str, dict[int, str]]:
    """Which motion curves drive these shape keys: ('arkit' | 'oculus' | 'vrm', channel → key) from
    the ARKit curves, else ('expressions', FLAME index → key) for SMPL-X/FLAME `Exp###` keys."""
    return face_source(key_names)



def take_curves(motion: MotionFile, rig: RigDescription, mapping: SkeletonMap, face: tuple[str, dict[int, str]],
                fps: float, frame_start: int) -> TakeCurves:
    """Retarget one take onto the rig and resample it from the motion's rate to `fps`.

    face: (source, channel index → shape key) from `face_channels`.
    """
    retargeted = retarget_smplx_to_rig(motion.poses, motion.trans, rig, mapping)
    bone_names, bone_rotations, root_bone, root_location, switches = body_channels(
        rig, mapping, retargeted, mouth_mechanism(*face))
    positions = sample_positions(motion.n_frames, motion.fps, fps)
    rotations = resample_quaternions(bone_rotations, positions)
    root = resample_linear(root_location, positions)
    source, shape_map = face
    weights = face_weights(source, motion.arkit, motion.expressions)
    shape_indices = sorted(i for i in shape_map if weights is not None and i < weights.shape[1])
    if shape_indices:
        shape_values = resample_linear(weights[:, shape_indices], positions)
    else:
        shape_indices, shape_values = [], np.zeros((len(positions), 0))
    return TakeCurves(bone_names=bone_names, rotations=rotations,
                      root_bone=root_bone, root_location=root,
                      shape_keys=tuple(shape_map[i] for i in shape_indices), shape_values=shape_values,
                      frame_start=int(frame_start), switches=switches)



def body_channels(rig: RigDescription, mapping: SkeletonMap, retargeted: RetargetedMotion, mouth: str):
    """(bone names, rotations (T, B, 4), root bone, root location (T, 3), switches) to key.

    Most rigs: the deform bones the retarget drives. A generated Rigify rig: its FK controls (its
    deform bones follow constraints and ignore keys), with the limbs switched to FK for the take."""
    if mapping.family == "rigify" and is_generated_rig(rig.bone_names):
        take = control_take(rig, retargeted)
        switches = tuple((f'pose.bones["{bpy.utils.escape_identifier(bone)}"]["{bpy.utils.escape_identifier(prop)}"]',
                          value) for bone, prop, value in take.switches)
        return take.controls, take.rotations, take.root_control, take.root_location, switches
    # one mouth (`rigs.mouth`): where a jawOpen shape key opens it, the jaw bone is not keyed
    keyed = np.flatnonzero(retargeted.mapped & keyed_bone_mask(rig.bone_names, mapping.jaw_bone, mouth))
    return (tuple(rig.bone_names[i] for i in keyed), retargeted.rotations[:, keyed], retargeted.root_bone,
            retargeted.root_location, ())



def _current_value(id_, path: str, index: int) -> float:
    value = id_.path_resolve(path)
    return float(value[index]) if hasattr(value, "__len__") else float(value)



def keep_pose_before_takes(id_, channels, frame: int, edits: SceneEdits) -> None:
    """Hold what the channels a take keys were before Orator first keyed them, on an unmuted NLA track
    under everything else: the user's own actions, which key only some of those channels, then play
    over the pose they were made on (not over whatever the last take left behind), and the rig's
    switches (IK/FK) go back to theirs. Takes key every one of these channels, so they play unchanged.

    channels: (data path, array index, group). Not made when the user plays NLA tracks of their own
    (the base track would sit above them)."""
    ad = ensure_animation_data(id_, edits)
    track = next((t for t in ad.nla_tracks if t.name == BASE_TRACK and t.strips
                  and t.strips[0].action is not None and BASE_KEY in t.strips[0].action), None)
    if track is None:
        if any(not t.mute for t in ad.nla_tracks):
            return
        id_type = "KEY" if isinstance(id_, bpy.types.Key) else "OBJECT"
        action = bpy.data.actions.new(f"{id_.name} {BASE_TRACK}")
        action[BASE_KEY] = True
        edits.record(lambda: bpy.data.actions.remove(action))
        slot, _ = write_held_values(action, id_type, id_.name,
                                    [(p, i, g, _current_value(id_, p, i)) for p, i, g in channels], frame)
        track = add_nla_track(id_, BASE_TRACK, action, slot, frame, edits, mute=False)
        track.strips[0].extrapolation = "HOLD"
        return
    action = track.strips[0].action
    have = {(fc.data_path, fc.array_index) for fc in _base_fcurves(action, id_)}
    missing = [(p, i, g, _current_value(id_, p, i)) for p, i, g in channels if (p, i) not in have]
    if missing:
        id_type = "KEY" if isinstance(id_, bpy.types.Key) else "OBJECT"
        _, made = write_held_values(action, id_type, id_.name, missing, int(track.strips[0].frame_start))
        edits.record(lambda: [_remove_fcurve(action, id_, fc) for fc in made])



def _base_fcurves(action, id_):
    if not SLOTTED_ACTIONS:
        return list(action.fcurves)
    from bpy_extras.anim_utils import action_get_channelbag_for_slot

    out = []
    for slot in action.slots:
        bag = action_get_channelbag_for_slot(action, slot)
        if bag is not None:
            out += list(bag.fcurves)
    return out



def _remove_fcurve(action, id_, fc) -> None:
    if not SLOTTED_ACTIONS:
        action.fcurves.remove(fc)
        return
    from bpy_extras.anim_utils import action_get_channelbag_for_slot

    for slot in action.slots:
        bag = action_get_channelbag_for_slot(action, slot)
        if bag is not None and fc in list(bag.fcurves):
            bag.fcurves.remove(fc)



def pose_before_takes_tracks(id_) -> list:
    """The base track(s) of `keep_pose_before_takes` on this ID."""
    ad = id_.animation_data if id_ is not None else None
    return [t for t in (ad.nla_tracks if ad is not None else ())
            if t.name == BASE_TRACK and t.strips and t.strips[0].action is not None and BASE_KEY in t.strips[0].action]



def in_bone_rotation_modes(curves: TakeCurves, armature_obj) -> TakeCurves:
    """The take keyed in each bone's own rotation mode (Euler, axis-angle or quaternion), so no
    bone's `rotation_mode` changes and the user's own actions keep playing as they were keyed."""
    bones = [armature_obj.pose.bones[n] for n in curves.bone_names]
    modes = tuple(pb.rotation_mode for pb in bones)
    previous = np.array([tuple(pb.rotation_euler) for pb in bones], dtype=np.float64).reshape(-1, 3)
    return replace(curves, rotation_modes=modes, previous_euler=previous)



def add_sound_strip(scene, audio_path: str, frame_start: int, edits: SceneEdits):
    """The audio as a sound strip at frame_start: Orator's strip of that file at that frame when
    there is one (re-generating the same audio reuses it), else a new one on a free channel.

    None when this Blender cannot load sounds (built without Audaspace)."""
    if scene.sequence_editor is None:
        scene.sequence_editor_create()
        edits.record(scene.sequence_editor_clear)
    strips = sound_strips(scene)
    wanted = Path(bpy.path.abspath(audio_path)).resolve()
    channels = [1]
    for s in strips:
        channels.append(s.channel + 1)
        if (s.type == "SOUND" and s.sound is not None and int(s.frame_start) == int(frame_start)
                and Path(bpy.path.abspath(s.sound.filepath)).resolve() == wanted):
            if AUDIO_KEY not in s:
                s[AUDIO_KEY] = str(audio_path)
                edits.record(lambda s=s: s.pop(AUDIO_KEY, None))
            return s
    try:
        strip = strips.new_sound(name=Path(audio_path).stem, filepath=str(audio_path),
                                 channel=min(max(channels), 128), frame_start=int(frame_start))
    except RuntimeError:  # a Blender build without audio support (e.g. the bpy 4.2 module): keys only
        return None
    strip[AUDIO_KEY] = str(audio_path)
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
    curves = [in_bone_rotation_modes(take_curves(m, rig, mapping, face, fps, request.frame_start), armature_obj)
              for m in motions]

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
        stash_user_action(armature_obj, edits)
        keep_pose_before_takes(armature_obj, take_channels(curves[0]), request.frame_start, edits)
        if keys is not None:
            stash_user_action(keys, edits)
            keep_pose_before_takes(keys, [(f'key_blocks["{bpy.utils.escape_identifier(k)}"].value', 0, "Face")
                                          for k in curves[0].shape_keys], request.frame_start, edits)
        for written in created:
            body = written.body_action
            add_nla_track(armature_obj, body.name, body, written.body_slot, request.frame_start, edits)
            if keys is not None and written.face_action is not None:
                add_nla_track(keys, body.name, written.face_action, written.face_slot,
                                 request.frame_start, edits)
        if request.add_sound:
            strip = add_sound_strip(scene, request.audio_path, request.frame_start, edits)
            for written in created if strip is not None else ():
                written.body_action[SOUND_KEY] = strip.name
        use_take(armature_obj, mesh_obj, created[0].body_action, edits, scene)
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

