"""The rigs users bring, and their work kept: a rig made by Rigify's own generator performs (its FK controls
are keyed, its deform bones move), a metarig and an unsupported rig are refused at once, a user's Euler-keyed
action plays exactly as before after several generations, and one recording plays at a time."""
from __future__ import annotations

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

    arm = three_generations["arm"]
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
    s.audio = str(lj(shared_dir, "LJ001-0001"))
    with pytest.raises(RuntimeError, match="'Crane' does not look like a humanoid rig"):
        bpy.ops.orator.generate_from_audio()
    assert not bpy.data.actions
    # "at once": the rig is refused before the audio is even looked at (no clock needed to show it)
    s.audio = str(shared_dir / "no such recording.wav")
    with pytest.raises(RuntimeError, match="'Crane' does not look like a humanoid rig"):
        bpy.ops.orator.generate_from_audio()


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


@pytest.mark.slow  # Rigify's generator
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


@pytest.mark.slow  # Rigify's generator, then a 12 s take
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
    # without the take (the user's own action, or none), the rig's switches are what they were: IK arms
    rig.animation_data.action = None
    scene.frame_set(start + 10)
    assert rig.pose.bones["upper_arm_parent.L"]["IK_FK"] == pytest.approx(0.0)
    assert rig.pose.bones["torso"]["neck_follow"] == pytest.approx(0.5)


# --- skeletons and heads in the wild: VRM humanoid + VRM-expression head, Mixamo + Oculus-viseme head ------

OCULUS_OPENING_MM = {"viseme_sil": 0, "viseme_PP": -2, "viseme_FF": 3, "viseme_TH": 6, "viseme_DD": 6,
                     "viseme_kk": 8, "viseme_CH": 6, "viseme_SS": 3, "viseme_nn": 5, "viseme_RR": 6,
                     "viseme_aa": 20, "viseme_E": 12, "viseme_I": 8, "viseme_O": 14, "viseme_U": 6}
VRM_OPENING_MM = {"aa": 20, "ih": 8, "ou": 6, "ee": 12, "oh": 14, "blink": 0, "blinkLeft": 0, "blinkRight": 0,
                  "happy": 1, "angry": 0, "sad": 0, "relaxed": 0, "surprised": 4}


def lip_head(name: str, armature, opening_mm: dict):
    """A head reduced to its lips: an upper and a lower lip vertex, touching at rest; each shape key
    moves the lower lip down by its opening (negative: the lips press together)."""
    import bpy

    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata([(0.0, -0.1, 1.6), (0.0, -0.1, 1.6)], [], [])
    obj = bpy.data.objects.new(name, mesh)
    bpy.context.collection.objects.link(obj)
    obj.parent = armature
    obj.shape_key_add(name="Basis")
    for key, mm in opening_mm.items():
        block = obj.shape_key_add(name=key, from_mix=False)
        block.data[1].co.z -= mm / 1000.0
    return obj


def lip_gap_mm(head) -> float:
    import bpy

    evaluated = head.evaluated_get(bpy.context.evaluated_depsgraph_get()).data
    return (evaluated.vertices[0].co.z - evaluated.vertices[1].co.z) * 1000.0


@pytest.fixture(scope="module")
def real_take(addon, shared_dir, lj_transcripts, tmp_path_factory):
    """A performance of LJ001-0001 (9.7 s) with its transcript, made by the backend in this process, and
    its phone timing."""
    from bl_ext.user_default.orator.backend.formats.motion_npz import write_motion_npz
    from bl_ext.user_default.orator.backend.options import GenerateOptions
    from bl_ext.user_default.orator.backend.generation.pipeline import generate as generate_performance

    clip = lj(shared_dir, "LJ001-0001")
    gen = generate_performance(clip, GenerateOptions(transcript=lj_transcripts["LJ001-0001"], seed=2))
    perf = gen.takes[0]
    path = write_motion_npz(tmp_path_factory.mktemp("take") / "motion.npz", perf.poses, perf.trans, perf.arkit,
                            fps=perf.fps)
    return clip, path, gen.analysis.phones


@pytest.mark.parametrize("skeleton, head_keys", [("vrm_humanoid", VRM_OPENING_MM), ("mixamo", OCULUS_OPENING_MM)])
def test_heads_in_the_wild_close_on_pbm(addon, real_take, skeleton, head_keys):
    import bpy

    from bl_ext.user_default.orator.addon.apply_take import ApplyRequest, apply_takes, skeleton_map
    from bl_ext.user_default.orator.backend.vocabulary.phonemes import BILABIALS

    from ..rigs.test_retarget import mixamo_like_rig
    from ..rigs.test_retarget_blender import build_armature
    from ..rigs.test_rigs_in_the_wild import vrm_humanoid_rig

    clip, motion, phones = real_take
    bpy.ops.wm.read_homefile(use_empty=True)
    bpy.context.scene.render.fps = 30
    rig = vrm_humanoid_rig(np.random.default_rng(1)) if skeleton == "vrm_humanoid" else mixamo_like_rig(
        np.random.default_rng(1))
    arm = build_armature(rig)
    assert skeleton_map(arm).family == skeleton
    head = lip_head(f"{skeleton} head", arm, head_keys)
    (take,) = apply_takes(bpy.context, ApplyRequest(arm.name, head.name, str(clip), (str(motion),), 1,
                                                    add_sound=False))
    assert head.data.shape_keys.animation_data.action == take
    wrist = "leftHand" if skeleton == "vrm_humanoid" else "mixamorig:LeftHand"
    positions = world_heads(arm, wrist, range(1, 200, 5))
    assert np.linalg.norm(positions - positions[0], axis=1).max() > 0.05 * (100 if skeleton == "mixamo" else 1)

    def gaps(phone):
        first, last = int(np.floor(phone.start * 30 + 0.5)), int(np.floor(phone.end * 30 + 0.5))
        out = []
        for k in range(first, max(last, first) + 1):
            bpy.context.scene.frame_set(k + 1)
            out.append(lip_gap_mm(head))
        return out

    closed = [min(gaps(p)) <= 0.5 for p in phones if p.label.upper() in BILABIALS]
    opened = [np.mean(gaps(p)) for p in phones if p.label.upper() in ("AA", "AE", "AH", "AO")]
    print(f"{skeleton} head: lips meet on {np.mean(closed):.0%} of {len(closed)} p/b/m; "
          f"open vowels {np.mean(opened):.1f} mm")
    assert len(closed) >= 5 and np.mean(closed) >= 0.9
    assert np.mean(opened) > 5.0
