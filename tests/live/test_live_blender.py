"""Live Preview and Record in real bpy: the installed extension drives the default character's face and head
from a recording played at real-time pace (the hidden test source standing in for the microphone), and Stop
turns the recording into a take keyed like generated ones, holding the performed curves."""
from __future__ import annotations

import importlib
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
EXTENSION = "bl_ext.user_default.orator"

pytestmark = pytest.mark.blender
CLIP = "LJ001-0002"   # 1.9 s


@pytest.fixture(scope="module")
def addon(tmp_path_factory):
    """The extension as users install it; reused when tests/addon's session fixture installed it already."""
    import bpy

    if EXTENSION in bpy.context.preferences.addons:
        yield importlib.import_module(EXTENSION)
        return
    cli = Path(bpy.utils.system_resource("SCRIPTS")) / "addons_core" / "bl_pkg" / "cli" / "blender_ext.py"
    out = tmp_path_factory.mktemp("ext") / "orator.zip"
    run = subprocess.run([sys.executable, str(cli), "build", "--source-dir", str(REPO), "--output-filepath",
                          str(out)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert bpy.ops.extensions.package_install_files(filepath=str(out), repo="user_default",
                                                    enable_on_install=True) == {"FINISHED"}
    yield importlib.import_module(EXTENSION)
    import addon_utils

    addon_utils.disable(EXTENSION)
    index = next(i for i, r in enumerate(bpy.context.preferences.extensions.repos) if r.module == "user_default")
    bpy.ops.extensions.package_uninstall(repo_index=index, pkg_id="orator")


def test_live_preview_drives_the_face_and_record_makes_a_take(addon, shared_dir):
    import bpy

    live_session = importlib.import_module(addon.__name__ + ".addon.live_session")
    bpy.ops.wm.read_homefile(use_empty=True)
    assert bpy.ops.orator.add_character(source="DEFAULT") == {"FINISHED"}
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 30, 1.0   # the take is compared frame by frame
    arm, mesh = scene.orator.armature, scene.orator.face_mesh
    user_action = bpy.data.actions.new("user face")
    clip = shared_dir / "data" / "speech" / "ljspeech" / f"{CLIP}.wav"
    assert bpy.ops.orator.live_start(record=True, test_input=str(clip)) == {"FINISHED"}
    assert live_session.running()
    jaw, head_turn = [], []
    head = live_session._head_bone(arm)
    assert head is not None
    deadline = time.monotonic() + 120
    while live_session.tick() is not None and time.monotonic() < deadline:
        jaw.append(mesh.data.shape_keys.key_blocks["jawOpen"].value)
        q = head.rotation_quaternion if head.rotation_mode == "QUATERNION" else head.rotation_euler.to_quaternion()
        head_turn.append(q.angle)
        time.sleep(1 / 60)
    s = live_session.current()
    assert s.frames_seen >= 50, s.errors
    assert max(jaw) > 0.15 and max(head_turn) > 0.005        # the preview moved the face and the head
    assert bpy.ops.orator.live_stop() == {"FINISHED"}
    assert not live_session.running()

    action = arm.animation_data.action
    assert action is not None and action.name == "live take 1"
    assert mesh.data.shape_keys.animation_data.action == action
    from bpy_extras.anim_utils import action_get_channelbag_for_slot

    slots = {sl.target_id_type: sl for sl in action.slots}
    face = {fc.data_path: fc for fc in action_get_channelbag_for_slot(action, slots["KEY"]).fcurves}
    body = list(action_get_channelbag_for_slot(action, slots["OBJECT"]).fcurves)
    assert len(face) == 52 and len(body) > 100
    fc = face['key_blocks["jawOpen"].value']
    co = np.empty(len(fc.keyframe_points) * 2, np.float32)
    fc.keyframe_points.foreach_get("co", co)
    keyed = co.reshape(-1, 2)[:, 1]
    performed = np.array(s.performed)[:, 17]  # jawOpen in Apple order
    m = min(len(keyed), len(performed))
    assert m >= 50
    np.testing.assert_allclose(keyed[:m], performed[:m], atol=2e-3)   # the take is what was performed
    assert [st.type for st in scene.sequence_editor.strips] == ["SOUND"]
    assert user_action.users == 0 and "user face" in bpy.data.actions   # nothing of the user's was touched


def test_live_stop_reports_a_failed_source_in_one_line(addon, tmp_path):
    import bpy

    live_session = importlib.import_module(addon.__name__ + ".addon.live_session")
    bpy.ops.wm.read_homefile(use_empty=True)
    assert bpy.ops.orator.add_character(source="DEFAULT") == {"FINISHED"}
    bad = tmp_path / "not_audio.wav"
    bad.write_bytes(b"RIFF garbage")
    assert bpy.ops.orator.live_start(test_input=str(bad)) == {"FINISHED"}
    deadline = time.monotonic() + 60
    while live_session.tick() is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    take, error = live_session.stop()
    assert take is None and error.startswith("error:") and "\n" not in error
    assert bpy.context.scene.orator.armature.animation_data is None or \
        bpy.context.scene.orator.armature.animation_data.action is None
