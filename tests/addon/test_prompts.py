"""Prompts in real bpy: pose the default character, Add Prompt, Generate from Audio; the keyed take holds the
prompted pose; prompts survive save/reload; keys on '<armature> prompts' are prompts; a prompt past the audio
is one clear error and changes nothing."""
from __future__ import annotations

import numpy as np
import pytest

from .test_addon import fresh_character, generate

pytestmark = pytest.mark.blender
SHORT_CLIP = "LJ001-0002"  # 1.9 s
RAISED = {"upperarm_l": (0.80, 0.10, 0.55, -0.20), "lowerarm_l": (0.90, 0.0, 0.0, 0.43),
          "upperarm_r": (0.80, 0.10, -0.55, 0.20), "hand_r": (0.95, 0.2, 0.2, 0.0)}


@pytest.fixture(scope="module")
def clip(shared_dir):
    return shared_dir / "data" / "speech" / "ljspeech" / f"{SHORT_CLIP}.wav"


def unit(q) -> np.ndarray:
    q = np.asarray(q, np.float64)
    return q / np.linalg.norm(q)


def rotation_error(a, b) -> float:
    return float(2.0 * np.arccos(np.clip(abs(np.dot(unit(a), unit(b))), 0.0, 1.0)))


def pose(arm, rotations: dict) -> None:
    for name, q in rotations.items():
        pb = arm.pose.bones[name]
        pb.rotation_mode = "QUATERNION"
        pb.rotation_quaternion = unit(q)


def rotations_at(arm, frame: int, names) -> dict:
    import bpy

    bpy.context.scene.frame_set(frame)
    return {n: np.array(arm.pose.bones[n].rotation_quaternion) for n in names}


def test_add_prompt_generate_holds_the_pose(addon, clip):
    import bpy

    arm, _ = fresh_character(addon)
    scene = bpy.context.scene
    scene.render.fps = 24  # the audio plays at 24 fps here: prompt frames convert to the motion's 30 fps
    settings = scene.orator_prompt_settings
    settings.parts = {"UPPER"}
    settings.hold_frames = 8
    scene.frame_set(20)
    pose(arm, RAISED)
    assert bpy.ops.orator.add_prompt() == {"FINISHED"}
    prompt = arm.orator_prompts[0]
    assert (prompt.frame_start, prompt.frame_end, prompt.label) == (20, 27, "upper")
    assert [m.name for m in scene.timeline_markers] == ["prompt: upper", "prompt: upper (end)"]
    # a second prompt, head only, that is switched off: it must not act
    scene.frame_set(5)
    pose(arm, {"head": (0.9, 0.0, 0.0, 0.43)})
    settings.parts, settings.hold_frames = {"HEAD"}, 1
    assert bpy.ops.orator.add_prompt() == {"FINISHED"}
    arm.orator_prompts[1].enabled = False
    assert [m.name for m in scene.timeline_markers] == ["prompt: upper", "prompt: upper (end)"]
    pose(arm, {n: (1, 0, 0, 0) for n in [*RAISED, "head"]})  # the artist's pose is not what gets keyed

    assert generate(clip) == {"FINISHED"}
    take = arm.animation_data.action
    assert take is not None and take.name == f"{SHORT_CLIP} take 1"
    for frame in range(20, 28):
        got = rotations_at(arm, frame, RAISED)
        for name, q in RAISED.items():
            assert rotation_error(got[name], q) < 1e-3, (frame, name, rotation_error(got[name], q))
    # outside the prompt the take moves on its own; the disabled head prompt had no effect
    far = rotations_at(arm, 2, RAISED)
    assert max(rotation_error(far[n], q) for n, q in RAISED.items()) > 0.2
    assert rotation_error(rotations_at(arm, 5, ["head"])["head"], (0.9, 0.0, 0.0, 0.43)) > 0.05

    # regenerating keeps the prompts: take 2 holds the same pose
    assert generate(clip, seed=7) == {"FINISHED"}
    assert arm.animation_data.action.name == f"{SHORT_CLIP} take 2"
    got = rotations_at(arm, 24, RAISED)
    assert max(rotation_error(got[n], q) for n, q in RAISED.items()) < 1e-3


def test_prompts_survive_save_and_reload(addon, tmp_path):
    import bpy

    arm, _ = fresh_character(addon)
    scene = bpy.context.scene
    scene.frame_set(12)
    pose(arm, RAISED)
    scene.orator_prompt_settings.parts = {"UPPER", "HANDS"}
    assert bpy.ops.orator.add_prompt() == {"FINISHED"}
    path = tmp_path / "prompted.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    bpy.ops.wm.read_homefile(use_empty=True)
    assert bpy.context.scene.orator.armature is None
    bpy.ops.wm.open_mainfile(filepath=str(path))
    arm = bpy.context.scene.orator.armature
    assert len(arm.orator_prompts) == 1
    prompt = arm.orator_prompts[0]
    assert prompt.frame_start == 12 and set(prompt.parts) == {"UPPER", "HANDS"} and prompt.enabled
    stored = {b.name: np.array(b.rotation) for b in prompt.bones}
    for name, q in RAISED.items():
        assert rotation_error(stored[name], q) < 1e-6
    assert [m.name for m in bpy.context.scene.timeline_markers] == ["prompt: upper+hands"]
    assert bpy.ops.orator.remove_prompt(index=0) == {"FINISHED"}
    assert len(arm.orator_prompts) == 0 and len(bpy.context.scene.timeline_markers) == 0


def test_keys_on_the_prompt_action_are_prompts(addon, clip):
    import bpy

    arm, _ = fresh_character(addon)
    scene = bpy.context.scene
    scene.render.fps = 30
    action = bpy.data.actions.new(f"{arm.name} prompts")
    arm.animation_data_create()
    arm.animation_data.action = action  # the artist keys the prompt action like any other
    pb = arm.pose.bones["lowerarm_r"]
    pb.rotation_mode = "QUATERNION"
    keyed = {10: unit((0.85, 0.0, 0.0, -0.52)), 40: unit((0.7, 0.1, 0.0, -0.7))}
    for frame, q in keyed.items():
        pb.rotation_quaternion = q
        pb.keyframe_insert("rotation_quaternion", frame=frame)
    assert generate(clip) == {"FINISHED"}
    assert arm.animation_data.action.name == f"{SHORT_CLIP} take 1"
    for frame, q in keyed.items():
        assert rotation_error(rotations_at(arm, frame, ["lowerarm_r"])["lowerarm_r"], q) < 1e-3
    # the prompt action was stashed (muted), not edited
    assert bpy.data.actions.get(f"{arm.name} prompts") is action


def test_prompt_past_the_audio_is_one_error_and_changes_nothing(addon, clip):
    import bpy

    arm, _ = fresh_character(addon)
    scene = bpy.context.scene
    scene.frame_set(500)  # the clip is 1.9 s long
    assert bpy.ops.orator.add_prompt() == {"FINISHED"}
    actions_before = set(bpy.data.actions)
    with pytest.raises(RuntimeError) as raised:
        generate(clip)
    message = str(raised.value)
    assert message.count("Orator:") == 1 and "is past the end of the audio" in message, message
    assert set(bpy.data.actions) == actions_before
    assert arm.animation_data is None or not arm.animation_data.nla_tracks


def test_prompt_with_a_bone_the_rig_lacks(addon, clip):
    import bpy

    arm, _ = fresh_character(addon)
    assert bpy.ops.orator.add_prompt() == {"FINISHED"}
    arm.orator_prompts[0].bones[0].name = "tail_01"
    with pytest.raises(RuntimeError, match="uses bone tail_01 which the rig does not have"):
        generate(clip)


def test_head_prompt_fixes_the_face_shape_keys(addon, clip):
    import bpy

    arm, mesh = fresh_character(addon)
    scene = bpy.context.scene
    scene.render.fps = 30
    keys = mesh.data.shape_keys.key_blocks
    assert "jawOpen" in keys and "eyeBlinkLeft" in keys
    scene.frame_set(15)
    keys["jawOpen"].value, keys["eyeBlinkLeft"].value = 0.7, 0.9
    scene.orator_prompt_settings.parts = {"HEAD"}
    scene.orator_prompt_settings.hold_frames = 5
    assert bpy.ops.orator.add_prompt() == {"FINISHED"}
    assert generate(clip) == {"FINISHED"}
    for frame in range(15, 20):
        scene.frame_set(frame)
        assert abs(keys["jawOpen"].value - 0.7) < 1e-3 and abs(keys["eyeBlinkLeft"].value - 0.9) < 1e-3
    scene.frame_set(40)
    assert abs(keys["eyeBlinkLeft"].value - 0.9) > 0.1  # not held outside the prompt
