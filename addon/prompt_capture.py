"""Prompt capture: the artist poses the character at a frame (or a frame range) and the generated takes honour it.

A prompt is stored on the armature object (`object.orator_prompts`, saved with the .blend; its groups are
in `properties`) in rig terms: the pose-bone rotations of every mapped bone and the root location at the
moment Add Prompt was pressed, the face's ARKit shape-key values, which body parts (or which selected
bones) it fixes and the scene frames it holds for. Generate from Audio converts the enabled prompts to
SMPL-X/ARKit (`rigs.prompt_capture`, `rigs.face_map`) and writes them as the backend's prompts .npz
(`backend/prompts.py`) with motion-rate (30 fps) frame numbers counted from the audio's start frame.

Keyframes on an action named "<armature> prompts" are prompts too: every keyed bone is fixed on every
frame it has a key on, at its keyed value.
"""
from __future__ import annotations

from pathlib import Path

import bpy
import numpy as np

from ..backend.vocabulary.rates import MOTION_FPS
from ..backend.errors import UserError
from ..backend.vocabulary.face import ARKIT_NAMES
from ..backend.vocabulary.skeleton import NUM_JOINTS
from ..backend.prompts import Prompts, prompts_from_arrays, write_prompts
from ..rigs.blender.pose import describe_armature
from ..rigs.face_map import match_arkit_shape_keys
from ..rigs.prompt_capture import PARTS, bone_joint_mask, part_joint_mask, rig_pose_to_smplx
from ..rigs.skeletons import detect_skeleton

MARKER_PREFIX = "prompt: "
PROMPT_ACTION_SUFFIX = " prompts"
PART_ITEMS = [("UPPER", "Upper Body", "Spine, shoulders, arms and wrists"),
              ("HANDS", "Hands", "Fingers of both hands"),
              ("LOWER", "Lower Body", "Legs and feet"),
              ("HEAD", "Head/Face", "Neck, head and the face's shape keys"),
              ("ROOT", "Root", "Pelvis rotation and the root position")]
PART_OF_ITEM = dict(zip((i[0] for i in PART_ITEMS), PARTS))
assert set(PART_OF_ITEM.values()) == set(PARTS)


# --- recording -----------------------------------------------------------------------------------

def _mapped_bones(armature_obj):
    rig = describe_armature(armature_obj)
    return rig, detect_skeleton(rig.bone_names, rig.parents, armature_obj.name)


def record_prompt(armature_obj, face_mesh, frame_start: int, frame_end: int, parts: set[str],
                  selected_bones: list[str] | None):
    """Add a prompt holding the armature's current pose (and face) over [frame_start, frame_end]."""
    rig, mapping = _mapped_bones(armature_obj)
    if selected_bones is not None:
        selected_bones = [b for b in selected_bones if b in mapping.mapped_bones]
        if not selected_bones:
            raise UserError("select pose bones that Orator drives (arms, spine, head, legs, fingers) first")
    elif not parts:
        raise UserError("choose at least one body part to prompt")
    prompt = armature_obj.orator_prompts.add()
    prompt.frame_start, prompt.frame_end = int(frame_start), int(max(frame_end, frame_start))
    prompt.use_bones = selected_bones is not None
    if selected_bones is None:
        prompt.parts = set(parts)
    root = mapping.root_bone
    for name in mapping.mapped_bones:
        basis = armature_obj.pose.bones[name].matrix_basis
        item = prompt.bones.add()
        item.name = name
        item.rotation = tuple(basis.to_quaternion())
        if name == root:
            item.location = tuple(basis.translation)
        item.prompted = selected_bones is not None and name in selected_bones
    keys = face_mesh.data.shape_keys if face_mesh is not None and face_mesh.type == "MESH" else None
    if keys is not None and (selected_bones is None and "HEAD" in parts):
        for name in match_arkit_shape_keys(k.name for k in keys.key_blocks).values():
            item = prompt.shapes.add()
            item.name = name
            item.value = keys.key_blocks[name].value
    armature_obj.orator_prompt_index = len(armature_obj.orator_prompts) - 1
    return prompt


def sync_prompt_markers(scene) -> None:
    """Timeline markers 'prompt: <parts>' at the start (and end) of every enabled prompt of the character."""
    for marker in [m for m in scene.timeline_markers if m.name.startswith(MARKER_PREFIX)]:
        scene.timeline_markers.remove(marker)
    armature_obj = scene.orator.armature
    if armature_obj is None:
        return
    for prompt in armature_obj.orator_prompts:
        if prompt.enabled:
            scene.timeline_markers.new(MARKER_PREFIX + prompt.label, frame=prompt.frame_start)
            if prompt.frame_end > prompt.frame_start:
                scene.timeline_markers.new(MARKER_PREFIX + prompt.label + " (end)", frame=prompt.frame_end)


# --- conversion for Generate from Audio ----------------------------------------------------------

def motion_frames(first: float, last: float, frame_start: int, fps: float) -> range:
    """The 30 fps motion frames that scene frames first..last show (the audio starts at frame_start).

    At another scene rate a scene frame falls between two motion frames and the keyed take interpolates
    them, so both are included: the take then equals the prompt on every prompted scene frame.
    """
    a = (first - frame_start) * MOTION_FPS / fps
    b = (last - frame_start) * MOTION_FPS / fps
    return range(int(np.floor(a + 1e-6)), int(np.ceil(b - 1e-6)) + 1)


def _check_bones(rig, names, what: str) -> None:
    for name in names:
        if name not in rig.bone_names:
            raise UserError(f"{what} uses bone {name} which the rig does not have")


class PromptBuilder:
    """Collects fixed channels per motion frame; later prompts win where two fix the same channel."""

    def __init__(self) -> None:
        self.rows: dict[int, dict[str, np.ndarray]] = {}

    def row(self, frame: int) -> dict[str, np.ndarray]:
        if frame not in self.rows:
            self.rows[frame] = dict(pose_mask=np.zeros(NUM_JOINTS, bool), poses=np.zeros((NUM_JOINTS, 3), np.float32),
                                    trans_mask=np.zeros((), bool), trans=np.zeros(3, np.float32),
                                    arkit_mask=np.zeros(len(ARKIT_NAMES), bool),
                                    arkit=np.zeros(len(ARKIT_NAMES), np.float32))
        return self.rows[frame]

    def add(self, frames, joint_mask, poses, trans=None, arkit: dict[int, float] | None = None) -> None:
        """frames: motion frames; joint_mask (55,); poses (55, 3) or (len(frames), 55, 3); trans (3,) or
        (len(frames), 3) or None; arkit: ARKit index → value."""
        poses = np.broadcast_to(np.asarray(poses, np.float32), (len(frames), NUM_JOINTS, 3))
        for i, f in enumerate(frames):
            r = self.row(int(f))
            r["pose_mask"] |= joint_mask
            r["poses"][joint_mask] = poses[i][joint_mask]
            if trans is not None:
                r["trans_mask"] = np.ones((), bool)
                r["trans"] = np.broadcast_to(np.asarray(trans, np.float32), (len(frames), 3))[i].copy()
            for k, v in (arkit or {}).items():
                r["arkit_mask"][k], r["arkit"][k] = True, v

    def build(self) -> Prompts:
        frames = sorted(self.rows)
        if not frames:
            return Prompts.empty()
        stacked = {key: np.stack([self.rows[f][key] for f in frames]) for key in self.rows[frames[0]]}
        return prompts_from_arrays({"frames": np.array(frames, np.int64), **stacked}, "scene prompts")


def add_stored_prompts(builder: PromptBuilder, armature_obj, rig, mapping, frame_start: int, fps: float) -> None:
    """The armature's enabled Add Prompt records → builder."""
    for prompt in armature_obj.orator_prompts:
        if not prompt.enabled:
            continue
        _check_bones(rig, [b.name for b in prompt.bones], f"prompt at frame {prompt.frame_start}")
        q = np.tile([1.0, 0.0, 0.0, 0.0], (len(rig.bone_names), 1))
        location = np.zeros(3)
        for b in prompt.bones:
            q[rig.index(b.name)] = tuple(b.rotation)
            if b.name == mapping.root_bone:
                location = np.array(tuple(b.location))
        captured = rig_pose_to_smplx(rig, mapping, q, location)
        if prompt.use_bones:
            mask = bone_joint_mask(mapping, [b.name for b in prompt.bones if b.prompted])
        else:
            mask = part_joint_mask(PART_OF_ITEM[p] for p in prompt.parts)
        mask &= captured.joint_mask
        arkit = {}
        if prompt.shapes:
            matched = match_arkit_shape_keys(s.name for s in prompt.shapes)
            values = {s.name: s.value for s in prompt.shapes}
            arkit = {i: float(np.clip(values[name], 0.0, 1.0)) for i, name in matched.items()}
        trans = captured.trans if (not prompt.use_bones and "ROOT" in prompt.parts) else None
        builder.add(motion_frames(prompt.frame_start, prompt.frame_end, frame_start, fps), mask, captured.poses,
                    trans, arkit)


def _action_fcurves(action):
    """Every F-curve of an action: slotted (Blender ≥ 4.4) or legacy."""
    if hasattr(action, "layers") and len(action.layers):
        return [fc for layer in action.layers for strip in layer.strips for bag in strip.channelbags
                for fc in bag.fcurves]
    return list(getattr(action, "fcurves", ()))


def _bone_of_path(path: str) -> tuple[str | None, str]:
    if not path.startswith('pose.bones["'):
        return None, ""
    name, _, prop = path[len('pose.bones["'):].partition('"]')
    return name.replace('\\"', '"').replace("\\\\", "\\"), prop.lstrip(".")


def add_prompt_action(builder: PromptBuilder, armature_obj, rig, mapping, frame_start: int, fps: float) -> None:
    """Keys on the action '<armature> prompts' → builder: each keyed bone fixed on its keyed frames."""
    action = bpy.data.actions.get(armature_obj.name + PROMPT_ACTION_SUFFIX)
    if action is None:
        return
    curves: dict[str, dict[tuple[str, int], object]] = {}
    keyed: dict[str, set[float]] = {}
    for fc in _action_fcurves(action):
        bone, prop = _bone_of_path(fc.data_path)
        if bone is None or prop not in ("rotation_quaternion", "rotation_euler", "location"):
            continue
        curves.setdefault(bone, {})[(prop, fc.array_index)] = fc
        if prop != "location":
            keyed.setdefault(bone, set()).update(k.co[0] for k in fc.keyframe_points)
    _check_bones(rig, sorted(keyed), f"prompt action '{action.name}'")
    from mathutils import Euler

    for frame in sorted(set().union(*keyed.values()) if keyed else ()):
        bones = [b for b, frames in keyed.items() if frame in frames and b in mapping.mapped_bones]
        if not bones:
            continue
        q = np.tile([1.0, 0.0, 0.0, 0.0], (len(rig.bone_names), 1))
        for b in bones:
            c = curves[b]
            if ("rotation_quaternion", 0) in c:
                q[rig.index(b)] = [c[("rotation_quaternion", i)].evaluate(frame) if ("rotation_quaternion", i) in c
                                   else (1.0 if i == 0 else 0.0) for i in range(4)]
            else:
                mode = armature_obj.pose.bones[b].rotation_mode
                angles = [c[("rotation_euler", i)].evaluate(frame) if ("rotation_euler", i) in c else 0.0
                          for i in range(3)]
                q[rig.index(b)] = tuple(Euler(angles, mode if len(mode) == 3 else "XYZ").to_quaternion())
        captured = rig_pose_to_smplx(rig, mapping, q)
        builder.add(motion_frames(frame, frame, frame_start, fps), bone_joint_mask(mapping, bones) & captured.joint_mask,
                    captured.poses)


def write_scene_prompts(context, armature_obj, frame_start: int, folder: str) -> str | None:
    """The character's enabled prompts (and prompt action) as a prompts .npz in `folder`; None when
    there are none. UserError for prompts the backend could not honour (before the audio starts,
    bones the rig lacks)."""
    prompt_action = bpy.data.actions.get(armature_obj.name + PROMPT_ACTION_SUFFIX)
    if not any(p.enabled for p in armature_obj.orator_prompts) and prompt_action is None:
        return None
    rig, mapping = _mapped_bones(armature_obj)
    scene = context.scene
    fps = scene.render.fps / scene.render.fps_base
    builder = PromptBuilder()
    add_prompt_action(builder, armature_obj, rig, mapping, frame_start, fps)
    add_stored_prompts(builder, armature_obj, rig, mapping, frame_start, fps)
    if builder.rows and min(builder.rows) < 0:
        first = min(builder.rows)
        raise UserError(f"prompt at frame {int(round(frame_start + first * fps / MOTION_FPS))} is before the "
                        f"audio starts (frame {frame_start})")
    prompts = builder.build()
    if prompts.count == 0:
        return None
    return str(write_prompts(Path(folder) / "prompts.npz", prompts))


def selected_pose_bones(armature_obj) -> list[str]:
    """Names of the armature's selected pose bones (the flag is on the bone or the pose bone, by Blender
    version)."""
    return [pb.name for pb in armature_obj.pose.bones if _bone_selected(armature_obj, pb)]


def _bone_selected(armature_obj, pose_bone) -> bool:
    bone = armature_obj.data.bones[pose_bone.name]
    return bool(getattr(bone, "select", False) or getattr(pose_bone, "select", False))
