"""The add-on end to end in real bpy: install, register, Generate from Audio (blocking in background
mode) on a real LJSpeech clip, takes in the NLA, the user's animation kept, failures leave no trace."""
from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from .conftest import REPO, blender_ext_cli

pytestmark = pytest.mark.blender
SHORT_CLIP = "LJ001-0002"  # 1.9 s: keeps the bpy tests quick
BASE_TRACK = "Orator: pose before takes"


@pytest.fixture(scope="module")
def clip(shared_dir):
    return shared_dir / "data" / "speech" / "ljspeech" / f"{SHORT_CLIP}.wav"


def fresh_character(addon):
    import bpy

    bpy.ops.wm.read_homefile(use_empty=True)
    assert bpy.ops.orator.add_character(source="DEFAULT") == {"FINISHED"}
    return bpy.context.scene.orator.armature, bpy.context.scene.orator.face_mesh


def generate(clip, lj_transcripts=None, **settings):
    import bpy

    s = bpy.context.scene.orator
    s.audio = str(clip)
    if lj_transcripts is not None:
        s.transcript = lj_transcripts[clip.stem]
    for key, value in settings.items():
        setattr(s, key, value)
    return bpy.ops.orator.generate_from_audio()


def keys_of(fcurve) -> np.ndarray:
    co = np.empty(len(fcurve.keyframe_points) * 2, dtype=np.float32)
    fcurve.keyframe_points.foreach_get("co", co)
    return co.reshape(-1, 2)


def channelbag_fcurves(action, slot):
    from bpy_extras.anim_utils import action_get_channelbag_for_slot

    return list(action_get_channelbag_for_slot(action, slot).fcurves)


def test_manifest_validates_and_package_leaves_out_dev_files(extension_zip):
    run = subprocess.run([sys.executable, str(blender_ext_cli()), "validate", str(REPO)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    names = zipfile.ZipFile(extension_zip).namelist()
    assert "blender_manifest.toml" in names and "addon/keyframe_writer.py" in names
    assert "backend/app/worker.py" in names and "rigs/default_character/default_character.npz" in names
    assert "LICENSE" in names  # the GPL's full text travels with the code the manifest licenses under it
    assert b"GNU GENERAL PUBLIC LICENSE" in zipfile.ZipFile(extension_zip).read("LICENSE")
    for excluded in ("tests/", "tools/", "benchmarks/", "samples/", ".venv/", ".ci/", ".git/"):
        assert not any(n.startswith(excluded) for n in names), excluded
    assert not any("__pycache__" in n for n in names)


OPERATORS = ("add_character", "generate_from_audio", "use_take", "export", "add_prompt", "remove_prompt",
             "test_backend", "install_neural_engines", "cancel_neural_install", "install_models")


def registered_operator(name: str) -> str:
    """The RNA identifier of bpy.ops.orator.<name>; KeyError when no such operator is registered."""
    import bpy

    return getattr(bpy.ops.orator, name).get_rna_type().identifier


def test_addon_registers_panels_operators_and_preferences(addon):
    import bpy

    for op in OPERATORS:
        assert registered_operator(op) == f"ORATOR_OT_{op}"
    with pytest.raises(KeyError):  # bpy.ops.orator.<anything> exists; only a registered one has an RNA type
        registered_operator("no_such_operator")
    for panel in ("ORATOR_PT_main", "ORATOR_PT_takes", "ORATOR_PT_prompts", "ORATOR_PT_export"):
        assert getattr(bpy.types, panel).bl_category == "Orator"
    assert hasattr(bpy.types, "ORATOR_UL_prompts")
    prefs = bpy.context.preferences.addons[addon.__name__].preferences
    assert importlib.import_module(f"{addon.__name__}.addon.preferences").preferences() == prefs  # the one way in
    assert "checkpoints_dir" not in type(prefs).bl_rna.properties  # nothing read it
    # installed copy has no .venv: this interpreter has every backend module, so it is chosen
    assert prefs.backend_python() == sys.executable
    bpy.ops.wm.read_homefile(use_empty=True)
    assert not bpy.ops.orator.generate_from_audio.poll()  # no character yet


@pytest.fixture(scope="module")
def generated(addon, clip, lj_transcripts):
    """One character, one generation at 24 fps with the transcript."""
    import bpy

    arm, mesh = fresh_character(addon)
    bpy.context.scene.render.fps = 24
    bpy.context.scene.frame_end = 10
    assert generate(clip, lj_transcripts) == {"FINISHED"}
    return arm, mesh


def test_generate_keys_every_frame_of_bones_and_shape_keys(generated, clip):
    import bpy
    import soundfile

    arm, mesh = generated
    action = arm.animation_data.action
    assert action.name == f"{SHORT_CLIP} take 1"
    assert mesh.data.shape_keys.animation_data.action == action  # one action, two slots
    slots = {s.target_id_type: s for s in action.slots}
    assert set(slots) == {"OBJECT", "KEY"}
    assert arm.animation_data.action_slot == slots["OBJECT"]
    seconds = soundfile.info(str(clip)).duration
    expected_frames = int(np.floor((round(seconds * 30) - 1) * 24 / 30 + 1e-6)) + 1
    body = channelbag_fcurves(action, slots["OBJECT"])
    face = channelbag_fcurves(action, slots["KEY"])
    assert len(face) == 52
    rot = [fc for fc in body if fc.data_path.endswith("rotation_quaternion")]
    assert len(rot) >= 4 * 50 and any(fc.data_path.endswith("location") for fc in body)
    for fc in body + face:
        k = keys_of(fc)
        assert abs(len(k) - expected_frames) <= 1
        np.testing.assert_array_equal(np.diff(k[:, 0]), 1.0)  # every frame, 24 fps timeline
        assert k[0, 0] == 1
    jaw = next(fc for fc in face if fc.data_path == 'key_blocks["jawOpen"].value')
    assert keys_of(jaw)[:, 1].max() > 0.1  # the mouth opens
    arm_l = [fc for fc in body if "upperarm_l" in fc.data_path]
    assert np.ptp(np.stack([keys_of(fc)[:, 1] for fc in arm_l]), axis=1).max() > 0.01  # the arm moves
    scene = bpy.context.scene
    assert scene.frame_end == len(keys_of(jaw))  # extended from 10 to cover the take
    strips = scene.sequence_editor.strips
    assert [s.type for s in strips] == ["SOUND"] and int(strips[0].frame_start) == 1
    assert all(pb.rotation_mode == "QUATERNION" for pb in arm.pose.bones if "upperarm" in pb.name)


def test_keyed_pose_plays_back(generated):
    """The evaluated pose at a frame equals the keyed quaternion (the action really drives the rig)."""
    import bpy

    arm, mesh = generated
    scene = bpy.context.scene
    scene.frame_set(20)
    action = arm.animation_data.action
    slot = arm.animation_data.action_slot
    fcs = {(fc.data_path, fc.array_index): fc for fc in channelbag_fcurves(action, slot)}
    path = 'pose.bones["lowerarm_r"].rotation_quaternion'
    keyed = [keys_of(fcs[(path, i)])[19, 1] for i in range(4)]
    np.testing.assert_allclose(tuple(arm.pose.bones["lowerarm_r"].rotation_quaternion), keyed, atol=1e-6)
    jaw_keyed = keys_of(next(fc for fc in channelbag_fcurves(action, mesh.data.shape_keys.animation_data.action_slot)
                             if "jawOpen" in fc.data_path))[19, 1]
    assert mesh.data.shape_keys.key_blocks["jawOpen"].value == pytest.approx(jaw_keyed, abs=1e-6)


def test_takes_stack_as_muted_nla_tracks_and_switch(generated, clip):
    import bpy

    arm, mesh = generated
    assert generate(clip, takes=2, seed=5) == {"FINISHED"}
    tracks = [t for t in arm.animation_data.nla_tracks if t.name != BASE_TRACK]
    names = [t.name for t in tracks]
    assert names == [f"{SHORT_CLIP} take {k}" for k in (1, 2, 3)]
    assert all(t.mute for t in tracks)
    assert [t.name for t in mesh.data.shape_keys.animation_data.nla_tracks if t.name != BASE_TRACK] == names
    # under the takes, one unmuted track holds the pose from before the first take (for the user's actions)
    base = [t for t in arm.animation_data.nla_tracks if t.name == BASE_TRACK]
    assert len(base) == 1 and not base[0].mute
    assert arm.animation_data.action.name == f"{SHORT_CLIP} take 2"  # the new generation's first take plays
    take2, take3 = bpy.data.actions[names[1]], bpy.data.actions[names[2]]
    path = 'pose.bones["upperarm_r"].rotation_quaternion'
    slot2 = next(s for s in take2.slots if s.target_id_type == "OBJECT")
    slot3 = next(s for s in take3.slots if s.target_id_type == "OBJECT")
    c2 = keys_of(next(fc for fc in channelbag_fcurves(take2, slot2) if fc.data_path == path and fc.array_index == 1))
    c3 = keys_of(next(fc for fc in channelbag_fcurves(take3, slot3) if fc.data_path == path and fc.array_index == 1))
    assert np.abs(c2[:, 1] - c3[:, 1]).max() > 1e-3  # takes differ
    assert bpy.ops.orator.use_take(action_name=take3.name) == {"FINISHED"}
    assert arm.animation_data.action == take3 and mesh.data.shape_keys.animation_data.action == take3
    assert mesh.data.shape_keys.animation_data.action_slot.target_id_type == "KEY"
    assert len(bpy.context.scene.sequence_editor.strips) == 1  # same audio, same start: one strip


def test_user_animation_is_kept_untouched(addon, clip):
    import bpy

    arm, mesh = fresh_character(addon)
    user = bpy.data.actions.new("MyWave")
    arm.animation_data_create()
    arm.animation_data.action = user
    pb = arm.pose.bones["upperarm_l"]
    pb.rotation_mode = "QUATERNION"
    for frame, w in ((1, 1.0), (10, 0.7)):
        pb.rotation_quaternion = (w, 0.3, 0.0, 0.0)
        pb.keyframe_insert("rotation_quaternion", frame=frame)
    user_slot = arm.animation_data.action_slot
    before = [keys_of(fc).copy() for fc in channelbag_fcurves(user, user_slot)]
    assert generate(clip) == {"FINISHED"}
    after = [keys_of(fc) for fc in channelbag_fcurves(user, user_slot)]
    assert len(before) == len(after) == 4
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)
    stashed = [t for t in arm.animation_data.nla_tracks if t.strips and t.strips[0].action == user]
    assert len(stashed) == 1 and stashed[0].mute
    assert arm.animation_data.action.name == f"{SHORT_CLIP} take 1"


def test_failed_job_reports_once_and_leaves_scene_unchanged(addon, tmp_path, clip):
    import bpy

    from bl_ext.user_default.orator.addon.worker_session import session

    arm, mesh = fresh_character(addon)
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("this is not a sound file\n")
    actions_before = set(bpy.data.actions)
    with pytest.raises(RuntimeError, match="Orator: cannot read notes.wav as audio") as raised:
        generate(not_audio)  # bpy.ops turns the operator's single ERROR report into this exception
    assert str(raised.value).count("Orator:") == 1
    assert set(bpy.data.actions) == actions_before
    assert arm.animation_data is None or not arm.animation_data.nla_tracks
    editor = bpy.context.scene.sequence_editor
    assert editor is None or len(editor.strips) == 0
    # a worker that died between jobs is restarted by the next job
    session().client.proc.kill()
    session().client.proc.wait()
    assert generate(clip) == {"FINISHED"}
    assert arm.animation_data.action is not None


def test_apply_failure_rolls_back_everything(addon, tmp_path, clip):
    """A motion file that cannot be applied (corrupt) raises inside apply: nothing half-written stays."""
    import bpy

    from bl_ext.user_default.orator.addon.apply_take import ApplyRequest, apply_takes
    from bl_ext.user_default.orator.backend.errors import UserError

    arm, mesh = fresh_character(addon)
    good = tmp_path / "good.npz"
    rng = np.random.default_rng(0)
    np.savez(good, poses=(rng.normal(size=(40, 165)) * 0.1).astype(np.float32),
             trans=np.zeros((40, 3), np.float32), mocap_frame_rate=np.array(30))
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    before = (set(bpy.data.actions), bpy.context.scene.frame_end)
    with pytest.raises(UserError):
        apply_takes(bpy.context, ApplyRequest(arm.name, mesh.name, str(clip), (str(good), str(bad)), 1))
    assert (set(bpy.data.actions), bpy.context.scene.frame_end) == before
    assert arm.animation_data is None or not arm.animation_data.nla_tracks
    actions = apply_takes(bpy.context, ApplyRequest(arm.name, mesh.name, str(clip), (str(good),), 1))
    assert len(actions) == 1 and arm.animation_data.action == actions[0]


def _job_folders(addon) -> list:
    import bpy

    base = Path(bpy.utils.extension_path_user(addon.__name__, path="generated", create=True))
    return sorted(p for p in base.iterdir() if p.is_dir())


def test_job_files_are_dropped_unless_kept(addon, clip):
    import bpy

    fresh_character(addon)
    assert generate(clip, takes=1) == {"FINISHED"}
    assert _job_folders(addon) == []  # keyed into the scene: its files are gone
    prefs = bpy.context.preferences.addons[addon.__name__].preferences
    prefs.keep_job_files = True
    try:
        assert generate(clip, takes=1, recognizer="phones", language="en") == {"FINISHED"}
    finally:
        prefs.keep_job_files = False
    kept = _job_folders(addon)
    assert len(kept) == 1 and {"motion.npz", "face_arkit.csv", "summary.json"} <= {p.name for p in kept[0].iterdir()}
    summary = json.loads((kept[0] / "summary.json").read_text())
    assert summary["options"]["recognizer"] == "phones"  # the sidebar's lip-timing choice reached the backend
    assert summary["options"]["language"] == "en"        # and its language choice
    shutil.rmtree(kept[0])
