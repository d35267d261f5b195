"""The rigs users bring, and their work kept: a rig made by Rigify's own generator performs (its FK controls
are keyed, its deform bones move), a metarig and an unsupported rig are refused at once, a user's Euler-keyed
action plays exactly as before after several generations, and one recording plays at a time."""
from __future__ import annotations

import time

import numpy as np
import pytest

from .test_addon import channelbag_fcurves, fresh_character, generate

pytestmark = pytest.mark.blender
CLIPS = ("LJ001-0002", "LJ001-0008", "LJ001-0013")  # 1.9 s, 1.8 s, 2.6 s


def lj(shared_dir, clip: str):
    return shared_dir / "data" / "speech" / "ljspeech" / f"{clip}.wav"


def world_heads(arm, bone: str, frames) -> np.ndarray:
    """(F, 3) world position of `bone`'s head at each frame, as Blender evaluates it."""
    import bpy

    mw = np.array(arm.matrix_world)
    out = []
    for f in frames:
        bpy.context.scene.frame_set(f)
        out.append((mw @ np.append(np.array(arm.pose.bones[bone].head), 1.0))[:3])
    return np.array(out)


# --- the user's own Euler animation and the sound strips, over three generations ------------------------

@pytest.fixture(scope="module")
def three_generations(addon, shared_dir):
    """Default character with a user action keyed in Euler XYZ, then three generations on three clips."""
    import bpy

    arm, mesh = fresh_character(addon)
    user = bpy.data.actions.new("MyWave")
    arm.animation_data_create()
    arm.animation_data.action = user
    for bone, axis in (("upperarm_l", 0), ("lowerarm_l", 2)):
        pb = arm.pose.bones[bone]
        pb.rotation_mode = "XYZ"
        for frame, angle in ((1, 0.0), (10, -1.2), (20, 0.0)):
            pb.rotation_euler = [angle if i == axis else 0.0 for i in range(3)]
            pb.keyframe_insert("rotation_euler", frame=frame)
    slot = arm.animation_data.action_slot
    frames = range(1, 21)
    before = world_heads(arm, "hand_l", frames)
    for clip in CLIPS:
        assert generate(lj(shared_dir, clip)) == {"FINISHED"}
    return dict(arm=arm, mesh=mesh, user=user, slot=slot, frames=frames, before=before)


def test_users_euler_action_plays_identically_after_generations(three_generations):
    g = three_generations
    arm = g["arm"]
    assert arm.animation_data.action.name == f"{CLIPS[-1]} take 1"
    assert arm.pose.bones["upperarm_l"].rotation_mode == "XYZ"  # never switched to quaternions
    take = arm.animation_data.action
    paths = {fc.data_path for fc in channelbag_fcurves(take, arm.animation_data.action_slot)}
    assert 'pose.bones["upperarm_l"].rotation_euler' in paths  # the take is keyed in the bone's own mode
    assert 'pose.bones["upperarm_r"].rotation_quaternion' in paths
    moved = world_heads(arm, "hand_l", g["frames"])
    assert np.abs(moved - g["before"]).max() > 0.05  # the take plays, not the wave
    # the user picks their action again (as in the Action editor): it plays exactly as it was keyed
    arm.animation_data.action = g["user"]
    arm.animation_data.action_slot = g["slot"]
    again = world_heads(arm, "hand_l", g["frames"])
    np.testing.assert_allclose(again, g["before"], atol=1e-6)
    assert np.linalg.norm(g["before"] - g["before"][0], axis=1).max() > 0.1  # and the wave really moves the hand


def test_one_sound_strip_per_take_switched_with_the_take(three_generations, shared_dir):
    import bpy

    arm, mesh = three_generations["arm"], three_generations["mesh"]
    arm.animation_data.action = bpy.data.actions[f"{CLIPS[-1]} take 1"]  # as the last generation left it
    strips = list(bpy.context.scene.sequence_editor.strips)
    assert sorted(s.name for s in strips) == sorted(CLIPS)
    audible = [s.name for s in strips if not s.mute]
    assert audible == [CLIPS[-1]]
    assert bpy.ops.orator.use_take(action_name=f"{CLIPS[0]} take 1") == {"FINISHED"}
    assert [s.name for s in strips if not s.mute] == [CLIPS[0]]
    # re-generating the same audio reuses its strip
    assert generate(lj(shared_dir, CLIPS[0]), takes=1, seed=3) == {"FINISHED"}
    assert len(bpy.context.scene.sequence_editor.strips) == 3
    assert [s.name for s in bpy.context.scene.sequence_editor.strips if not s.mute] == [CLIPS[0]]
    assert arm.animation_data.action.name == f"{CLIPS[0]} take 2"


# --- rigs refused before any work -----------------------------------------------------------------------

def _armature(name: str, bones):
    import bpy

    arm = bpy.data.armatures.new(name)
    obj = bpy.data.objects.new(name, arm)
    bpy.context.collection.objects.link(obj)
    bpy.context.view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode="EDIT")
    for i, bone in enumerate(bones):
        eb = arm.edit_bones.new(bone)
        eb.head, eb.tail = (0.0, 0.0, 0.1 * i), (0.0, 0.0, 0.1 * i + 0.1)
    bpy.ops.object.mode_set(mode="OBJECT")
    return obj


def test_unsupported_rig_fails_at_once(addon, shared_dir):
    import bpy

    bpy.ops.wm.read_homefile(use_empty=True)
    s = bpy.context.scene.orator
    s.armature = _armature("Crane", ["base", "boom", "hook"])
    s.audio = str(lj(shared_dir, "LJ001-0001"))  # 9.7 s: its analysis alone would take seconds
    start = time.perf_counter()
    with pytest.raises(RuntimeError, match="'Crane' does not look like a humanoid rig"):
        bpy.ops.orator.generate_from_audio()
    assert time.perf_counter() - start < 1.0
    assert not bpy.data.actions


# --- Rigify, generated by Rigify in the test ---------------------------------------------------------------

@pytest.fixture(scope="module")
def rigify_rig(addon):
    """Rigify's human metarig, and the rig Rigify's own generator makes from it (706 bones)."""
    import bpy

    bpy.ops.wm.read_homefile(use_empty=True)
    bpy.ops.preferences.addon_enable(module="rigify")
    bpy.ops.object.armature_human_metarig_add()
    metarig = bpy.context.object
    assert bpy.ops.pose.rigify_generate() == {"FINISHED"}
    rig = bpy.context.object
    assert rig != metarig and "DEF-spine" in rig.data.bones and "upper_arm_fk.L" in rig.data.bones
    return metarig, rig


def test_rigify_metarig_says_generate_first(rigify_rig, shared_dir):
    import bpy

    metarig, _ = rigify_rig
    s = bpy.context.scene.orator
    s.armature, s.audio = metarig, str(lj(shared_dir, CLIPS[0]))
    with pytest.raises(RuntimeError, match="Rigify metarig: generate the rig first"):
        bpy.ops.orator.generate_from_audio()


@pytest.fixture(scope="module")
def speech_12s(shared_dir, tmp_path_factory):
    """12 s of speech: two LJSpeech sentences with a pause between them."""
    import soundfile

    a, rate = soundfile.read(str(lj(shared_dir, "LJ001-0004")))
    b, _ = soundfile.read(str(lj(shared_dir, "LJ001-0006")))
    audio = np.concatenate([a, np.zeros(int(1.2 * rate)), b])
    path = tmp_path_factory.mktemp("speech") / "two_sentences.wav"
    soundfile.write(str(path), audio, rate)
    return path, len(audio) / rate


def test_rigify_rig_performs(rigify_rig, speech_12s):
    """The take keys Rigify's FK controls with the limbs in FK, and the deform bones move like a speaker."""
    import bpy

    _, rig = rigify_rig
    path, seconds = speech_12s
    assert seconds >= 12.0
    scene = bpy.context.scene
    scene.render.fps = 30
    s = scene.orator
    s.armature, s.audio, s.takes = rig, str(path), 1
    assert generate(path) == {"FINISHED"}
    take = rig.animation_data.action
    start, end = (int(round(x)) for x in take.frame_range)
    assert end - start + 1 >= 12 * 30
    keyed = {fc.data_path for fc in channelbag_fcurves(take, rig.animation_data.action_slot)}
    for control in ("torso", "chest", "neck", "head", "upper_arm_fk.L", "forearm_fk.R", "hand_fk.L",
                    "thigh_fk.R", "shin_fk.L", "foot_fk.R", "f_index.01.L", "thumb.02.R"):
        assert any(p.startswith(f'pose.bones["{control}"].rotation') for p in keyed), control
    assert 'pose.bones["shoulder.L"].rotation_euler' in keyed  # Rigify's shoulders are YXZ Euler bones
    assert not any(p.startswith('pose.bones["DEF-') for p in keyed)
    frames = range(start, end + 1)
    mw = np.array(rig.matrix_world)
    track = {n: [] for n in ("DEF-hand.L", "DEF-hand.R", "DEF-foot.L", "DEF-foot.R", "DEF-spine")}
    for f in frames:
        scene.frame_set(f)
        for n in track:
            track[n].append((mw @ np.append(np.array(rig.pose.bones[n].head), 1.0))[:3])
    track = {n: np.array(v) for n, v in track.items()}
    assert rig.pose.bones["upper_arm_parent.L"]["IK_FK"] == pytest.approx(1.0)  # limbs in FK for the take
    travel = {n: float(np.linalg.norm(np.diff(track[n], axis=0), axis=1).sum()) for n in ("DEF-hand.L", "DEF-hand.R")}
    # planted: the ankles stay where the take puts them on its first frame
    feet = max(float(np.linalg.norm(track[n] - track[n][0], axis=1).max()) for n in ("DEF-foot.L", "DEF-foot.R"))
    print(f"Rigify: hand travel L {travel['DEF-hand.L']:.2f} m, R {travel['DEF-hand.R']:.2f} m over "
          f"{seconds:.1f} s; feet move at most {feet * 100:.1f} cm")
    assert min(travel.values()) > 1.0
    assert feet < 0.05
    hips = track["DEF-spine"][:, 2]
    assert (track["DEF-hand.L"][:, 2] > hips).all() and (track["DEF-hand.R"][:, 2] > hips).all()
