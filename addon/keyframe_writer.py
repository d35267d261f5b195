"""The one keyframe writer: a take's bone and shape-key curves → new Action(s), keyed at every frame.

Keys go in bulk (`keyframe_points.add` + `foreach_set`), never per frame with `keyframe_insert`.
Blender ≥ 4.4 (slotted actions): one Action with an OBJECT slot (the armature's bones) and a KEY
slot (the mesh's shape keys), so exporters see one animation. Blender 4.2/4.3: the legacy layout,
one Action per animated ID (`<name>` for the armature, `<name> face` for the shape keys).
Nothing is assigned here; `apply_take` decides which ID plays which action.
"""
from __future__ import annotations

from dataclasses import dataclass

import bpy
import numpy as np

from ..rigs.rotation_modes import channel_property, rotation_values

SLOTTED_ACTIONS = bpy.app.version >= (4, 4, 0)
LINEAR = bpy.types.Keyframe.bl_rna.properties["interpolation"].enum_items["LINEAR"].value
FACE_GROUP = "Face"


@dataclass(frozen=True, eq=False)
class TakeCurves:
    """One take's per-frame values at the scene's frame rate, keyed from `frame_start` on.

    bone_names (B,) pose bones to key; rotations (T, B, 4) quaternions (w, x, y, z), sign-continuous;
    rotation_modes (B,) each bone's own `rotation_mode`, the property its keys go to (empty: all
    QUATERNION); previous_euler (B, 3) where Euler curves start from (the bones' current angles);
    root_bone: the bone whose `location` carries root_location (T, 3), or None;
    shape_keys (K,) key-block names; shape_values (T, K);
    switches: (armature data path, value) pairs held for the whole take (a rig's IK/FK switches).
    """

    bone_names: tuple[str, ...]
    rotations: np.ndarray
    root_bone: str | None
    root_location: np.ndarray | None
    shape_keys: tuple[str, ...]
    shape_values: np.ndarray
    frame_start: int
    rotation_modes: tuple[str, ...] = ()
    previous_euler: np.ndarray | None = None
    switches: tuple[tuple[str, float], ...] = ()

    @property
    def n_frames(self) -> int:
        return int(self.rotations.shape[0] if len(self.bone_names) else self.shape_values.shape[0])

    @property
    def frame_end(self) -> int:
        return self.frame_start + self.n_frames - 1


@dataclass(frozen=True)
class WrittenTake:
    """Where a take's keys live. Slotted: one action, two slots; legacy: two actions, no slots."""

    body_action: "bpy.types.Action"
    face_action: "bpy.types.Action | None"
    body_slot: object = None
    face_slot: object = None


def _channel_adder(action, id_type: str, slot_name: str):
    """(slot or None, new_fcurve(path, index, group)) for one animated ID in `action`."""
    if SLOTTED_ACTIONS:
        from bpy_extras.anim_utils import action_ensure_channelbag_for_slot

        slot = action.slots.new(id_type, slot_name)
        bag = action_ensure_channelbag_for_slot(action, slot)
        return slot, lambda path, index, group: bag.fcurves.new(path, index=index, group_name=group)
    return None, lambda path, index, group: action.fcurves.new(path, index=index, action_group=group)


def _key_all(fcurves: list, frames: np.ndarray, values: np.ndarray) -> None:
    """Key every curve at every frame. frames (T,); values (T, C) for C = len(fcurves)."""
    n = len(frames)
    co = np.empty((n, 2), dtype=np.float32)
    co[:, 0] = frames
    interpolation = np.full(n, LINEAR, dtype=np.int32)
    for c, fc in enumerate(fcurves):
        co[:, 1] = values[:, c]
        fc.keyframe_points.add(n)
        fc.keyframe_points.foreach_set("co", co.ravel())
        fc.keyframe_points.foreach_set("interpolation", interpolation)
        fc.update()


def write_take(name: str, armature_obj, shape_keys_id, curves: TakeCurves) -> WrittenTake:
    """Create the action(s) of one take and key every frame of `curves`.

    armature_obj: the armature object (names its OBJECT slot); shape_keys_id: the mesh's
    `shape_keys` datablock or None (no face channels). Returns the new action(s) and slots.
    """
    frames = np.arange(curves.frame_start, curves.frame_start + curves.n_frames, dtype=np.float32)
    body = bpy.data.actions.new(name)
    body_slot, new_body_curve = _channel_adder(body, "OBJECT", armature_obj.name)

    curves_out, columns = [], []
    modes = curves.rotation_modes or ("QUATERNION",) * len(curves.bone_names)
    per_bone: dict[int, np.ndarray] = {}
    for mode in set(modes):  # each bone keyed in its own rotation mode, which is never switched
        bones = [b for b, m in enumerate(modes) if m == mode]
        previous = curves.previous_euler[bones] if curves.previous_euler is not None else None
        values = rotation_values(curves.rotations[:, bones], mode, previous)
        per_bone.update({b: values[:, k] for k, b in enumerate(bones)})
    for b, bone in enumerate(curves.bone_names):
        prop, n_channels = channel_property(modes[b])
        path = f'pose.bones["{bpy.utils.escape_identifier(bone)}"].{prop}'
        for i in range(n_channels):
            curves_out.append(new_body_curve(path, i, bone))
        columns.append(per_bone[b])
    if curves.root_bone is not None and curves.root_location is not None:
        path = f'pose.bones["{bpy.utils.escape_identifier(curves.root_bone)}"].location'
        for i in range(3):
            curves_out.append(new_body_curve(path, i, curves.root_bone))
        columns.append(curves.root_location)
    for path, value in curves.switches:
        curves_out.append(new_body_curve(path, 0, "Rig switches"))
        columns.append(np.full((len(frames), 1), value))
    if curves_out:
        _key_all(curves_out, frames, np.concatenate(columns, axis=1))

    face, face_slot = None, None
    if shape_keys_id is not None and len(curves.shape_keys):
        face = body if SLOTTED_ACTIONS else bpy.data.actions.new(f"{name} face")
        face_slot, new_face_curve = _channel_adder(face, "KEY", shape_keys_id.name)
        face_curves = [new_face_curve(f'key_blocks["{bpy.utils.escape_identifier(k)}"].value', 0, FACE_GROUP)
                       for k in curves.shape_keys]
        _key_all(face_curves, frames, curves.shape_values)
    return WrittenTake(body, face, body_slot, face_slot)


def write_held_values(action, id_type: str, slot_name: str, channels, frame: int):
    """Add channels holding one value each (a single key, so it holds for all time) to `action`.

    channels: (data path, array index, group, value). Slotted actions: a new slot of `id_type` named
    `slot_name`, or the action's existing one of that type. Returns (slot or None, new F-curves)."""
    slot = None
    if SLOTTED_ACTIONS:
        from bpy_extras.anim_utils import action_ensure_channelbag_for_slot

        slot = next((s for s in action.slots if s.target_id_type == id_type), None) or action.slots.new(id_type, slot_name)
        bag = action_ensure_channelbag_for_slot(action, slot)
        new_curve = lambda path, index, group: bag.fcurves.new(path, index=index, group_name=group)  # noqa: E731
    else:
        new_curve = lambda path, index, group: action.fcurves.new(path, index=index, action_group=group)  # noqa: E731
    made = []
    for path, index, group, value in channels:
        fc = new_curve(path, index, group)
        fc.keyframe_points.add(1)
        fc.keyframe_points.foreach_set("co", np.array([frame, value], dtype=np.float32))
        fc.update()
        made.append(fc)
    return slot, made


def take_channels(curves: TakeCurves) -> list[tuple[str, int, str]]:
    """(data path, array index, group) of every armature channel `write_take` keys for `curves`."""
    out = []
    modes = curves.rotation_modes or ("QUATERNION",) * len(curves.bone_names)
    for bone, mode in zip(curves.bone_names, modes):
        prop, n_channels = channel_property(mode)
        path = f'pose.bones["{bpy.utils.escape_identifier(bone)}"].{prop}'
        out += [(path, i, bone) for i in range(n_channels)]
    if curves.root_bone is not None and curves.root_location is not None:
        path = f'pose.bones["{bpy.utils.escape_identifier(curves.root_bone)}"].location'
        out += [(path, i, curves.root_bone) for i in range(3)]
    out += [(path, 0, "Rig switches") for path, _ in curves.switches]
    return out
