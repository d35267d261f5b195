"""Export the character and its takes as FBX or glTF binary with settings game engines accept.

What Export Character (`operators.export`) writes; every scene change made for an export goes through a
`SceneEdits` and is rolled back afterwards.

Both: the armature's deform bones only (no leaf bones, no control bones), the skinned mesh with
its shape keys / morph targets, animation baked at every frame. FBX: −Z forward, Y up, scale 1
(Unity, Unreal and Godot import it upright at the right size); the playing take is baked over its
own frames, so export one file per take with `all_takes`. glTF: Y up by definition; every take
becomes one animation (bones and morph weights together).

Timing: the audio starts on a take's first frame, so that frame is time 0 in both files. glTF: the
exporter's slide-to-zero. FBX: the take is played from frame 0 while baking (an NLA strip moved
there for the export), so FBX time 0 is the audio start and its AnimationStack runs 0..(N-1)/fps;
Blender's FBX importer adds one frame by default (`anim_offset=1`), which puts the audio start on
frame 1 again; Unity, Unreal and Godot start the clip at time 0.
The user's own (stashed) actions are left out of the glTF unless asked for, and so is the pose
Orator holds for them under the takes (`apply_take.keep_pose_before_takes`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import bpy

from .apply_take import pose_before_takes_tracks
from .keyframe_writer import SLOTTED_ACTIONS
from .scene_edits import SceneEdits, add_nla_track, set_active
from .takes import TAKE_KEY, active_take, face_part, take_actions, use_take


EXPORT_TRACK = "Orator export"  # the temporary track that plays a take from frame 0 while the FBX bakes


@dataclass(frozen=True)
class ExportTarget:
    armature_name: str
    mesh_name: str | None


def _selected_only(context, target: ExportTarget):
    """Select exactly the character's armature and mesh; returns a function that restores the selection."""
    view_layer = context.view_layer
    before = [o for o in view_layer.objects if o.select_get()]
    active = view_layer.objects.active
    for o in before:
        o.select_set(False)
    arm = bpy.data.objects[target.armature_name]
    arm.select_set(True)
    if target.mesh_name:
        bpy.data.objects[target.mesh_name].select_set(True)
    view_layer.objects.active = arm

    def restore():
        for o in view_layer.objects:
            o.select_set(o in before)
        view_layer.objects.active = active
    return restore


def _take_frame_range(scene, action) -> tuple[int, int]:
    if action is None:
        return scene.frame_start, scene.frame_end
    start, end = action.frame_range
    return int(round(start)), int(round(end))


def _play_from_frame_zero(id_, action, slot, edits: SceneEdits) -> None:
    """Play `action` from frame 0 on `id_` for the export (an unmuted NLA strip there; the active action
    is lifted off meanwhile). `edits.rollback()` puts everything back."""
    set_active(id_, None, None, edits)
    add_nla_track(id_, EXPORT_TRACK, action, slot, 0, edits, mute=False)


def export_fbx(context, filepath: str, target: ExportTarget) -> str:
    """The playing take (bones + shape keys) baked into one FBX animation stack, its first frame at t = 0."""
    scene = context.scene
    arm = bpy.data.objects[target.armature_name]
    mesh = bpy.data.objects.get(target.mesh_name) if target.mesh_name else None
    take = active_take(arm)
    edits = SceneEdits()
    old_range = scene.frame_start, scene.frame_end
    start, end = _take_frame_range(scene, take)
    if take is not None:
        _play_from_frame_zero(arm, take, arm.animation_data.action_slot if SLOTTED_ACTIONS else None, edits)
        keys = mesh.data.shape_keys if mesh is not None else None
        face, face_slot = face_part(take)
        if keys is not None and keys.animation_data is not None and face is not None:
            _play_from_frame_zero(keys, face, face_slot, edits)
        start, end = 0, end - start
    scene.frame_start, scene.frame_end = start, end
    restore = _selected_only(context, target)
    try:
        result = bpy.ops.export_scene.fbx(
            filepath=filepath, use_selection=True, object_types={"ARMATURE", "MESH"},
            global_scale=1.0, apply_unit_scale=True, apply_scale_options="FBX_SCALE_ALL",
            axis_forward="-Z", axis_up="Y", use_space_transform=True, bake_space_transform=False,
            use_mesh_modifiers=False, mesh_smooth_type="FACE", add_leaf_bones=False,
            primary_bone_axis="Y", secondary_bone_axis="X", use_armature_deform_only=True,
            armature_nodetype="NULL", bake_anim=True, bake_anim_use_all_bones=True,
            bake_anim_use_nla_strips=False, bake_anim_use_all_actions=False,
            bake_anim_force_startend_keying=True, bake_anim_step=1.0, bake_anim_simplify_factor=0.0,
            path_mode="COPY", embed_textures=True)
    finally:
        restore()
        scene.frame_start, scene.frame_end = old_range
        edits.rollback()
    if result != {"FINISHED"}:
        raise RuntimeError(f"FBX export failed: {result}")
    return filepath


def _leave_out_of_gltf(ids, include_user_actions: bool, edits: SceneEdits) -> None:
    """Mute (for the export) the NLA strips the glTF should not carry: the held pose under the takes,
    and unless asked for, the user's own stashed actions (the exporter skips muted strips)."""
    for id_ in ids:
        ad = id_.animation_data if id_ is not None else None
        if ad is None:
            continue
        base = set(pose_before_takes_tracks(id_))
        for track in ad.nla_tracks:
            for strip in track.strips:
                action = strip.action
                # takes carry TAKE_KEY (a legacy take's shape-key action too); anything else is the user's
                leave = track in base or (not include_user_actions and action is not None and TAKE_KEY not in action)
                if leave and not strip.mute:
                    edits.record(lambda strip=strip: setattr(strip, "mute", False))
                    strip.mute = True


def export_glb(context, filepath: str, target: ExportTarget, include_user_actions: bool = False) -> str:
    """Character + every take (one glTF animation each, starting at t = 0) as a .glb."""
    arm = bpy.data.objects[target.armature_name]
    mesh = bpy.data.objects.get(target.mesh_name) if target.mesh_name else None
    edits = SceneEdits()
    _leave_out_of_gltf([arm, mesh.data.shape_keys if mesh is not None else None], include_user_actions, edits)
    restore = _selected_only(context, target)
    try:
        result = bpy.ops.export_scene.gltf(
            filepath=filepath, export_format="GLB", use_selection=True, export_yup=True,
            export_apply=False, export_skins=True, export_def_bones=True, export_leaf_bone=False,
            export_morph=True, export_morph_normal=False, export_morph_animation=True,
            export_animations=True, export_animation_mode="ACTIONS", export_nla_strips=True,
            export_force_sampling=True, export_frame_range=False, export_frame_step=1,
            export_anim_slide_to_zero=True, export_anim_single_armature=False,  # only takes (NLA + active)
            export_optimize_animation_size=False,
            export_all_influences=False, export_influence_nb=4, export_extras=False,
            export_cameras=False, export_lights=False)
    finally:
        restore()
        edits.rollback()
    if result != {"FINISHED"}:
        raise RuntimeError(f"glTF export failed: {result}")
    return filepath


def export_fbx_per_take(context, filepath: str, target: ExportTarget) -> list[str]:
    """One FBX per take: `<stem> <take name>.fbx` beside filepath (the playing take is restored)."""
    arm = bpy.data.objects[target.armature_name]
    mesh = bpy.data.objects.get(target.mesh_name) if target.mesh_name else None
    takes = take_actions(arm)
    if not takes:
        return [export_fbx(context, filepath, target)]
    edits = SceneEdits()
    written = []
    stem, folder = Path(filepath).stem, Path(filepath).parent
    try:
        for action in takes:
            use_take(arm, mesh, action, edits, context.scene)
            written.append(export_fbx(context, str(folder / f"{stem} {action.name}.fbx"), target))
    finally:
        edits.rollback()
    return written
