"""Body engine: EMAGE in the add-on (real bpy, the installed extension, the worker child process): the
folder is checked on selection with a message naming what is missing, and Generate from Audio keys the
EMAGE takes on the default character. Weights: the golden random-weight fixture in the published layout.
Lives beside test_addon.py to share its session-wide installed extension."""
from __future__ import annotations


from pathlib import Path

import numpy as np
import pytest

from .test_addon import channelbag_fcurves, fresh_character, generate, keys_of

pytestmark = pytest.mark.blender



@pytest.fixture(scope="module")
def emage_weights(shared_dir):
    folder = shared_dir / "emage" / "golden" / "weights"
    if not folder.is_dir():
        pytest.fail(f"EMAGE golden weights not found at {folder}")
    return folder


@pytest.fixture
def prefs(addon):
    import bpy

    p = bpy.context.preferences.addons[addon.__name__].preferences
    before = p.emage_dir
    yield p
    p.emage_dir = before


def test_emage_folder_is_checked_on_selection(addon, prefs, emage_weights, tmp_path):
    import bpy

    fresh_character(addon)
    s = bpy.context.scene.orator
    prefs.emage_dir = str(tmp_path)
    s.body_engine = "emage"
    assert "config.json is missing" in s.emage_status and "huggingface-cli download" in s.emage_status
    prefs.emage_dir = str(emage_weights)          # choosing the folder rechecks it
    assert s.emage_status == ""
    s.body_engine = "builtin"
    assert s.emage_status == ""


@pytest.mark.slow  # EMAGE over a whole clip, keyed in Blender
def test_generate_with_emage_keys_the_default_character(addon, prefs, emage_weights, shared_dir):
    import json
    import shutil

    import bpy
    import soundfile

    clip = shared_dir / "data" / "speech" / "ljspeech" / "LJ001-0002.wav"
    prefs.emage_dir = str(emage_weights)
    keep = prefs.keep_job_files
    prefs.keep_job_files = True
    try:
        arm, mesh = fresh_character(addon)
        assert generate(clip, recognizer="phones", body_engine="emage", takes=2) == {"FINISHED"}
    finally:
        prefs.keep_job_files = keep
    take = arm.animation_data.action
    assert take.name == "LJ001-0002 take 1"
    takes = [t.name for t in arm.animation_data.nla_tracks if t.name != "Orator: pose before takes"]
    assert takes == ["LJ001-0002 take 1", "LJ001-0002 take 2"]
    slots = {sl.target_id_type: sl for sl in take.slots}
    body = {(fc.data_path, fc.array_index): keys_of(fc) for fc in channelbag_fcurves(take, slots["OBJECT"])}
    fps = bpy.context.scene.render.fps
    expected = int(np.floor((round(soundfile.info(str(clip)).duration * 30) - 1) * fps / 30 + 1e-6)) + 1
    assert all(abs(len(k) - expected) <= 1 for k in body.values())   # every frame of the clip is keyed
    arm_w = body[('pose.bones["upperarm_l"].rotation_quaternion', 0)]
    assert np.ptp(arm_w[:, 1]) > 1e-3                                # the arm moves

    generated = Path(bpy.utils.extension_path_user(addon.__package__, path="generated"))
    job = max((d for d in generated.iterdir() if d.name.startswith("LJ001-0002")), key=lambda d: d.stat().st_mtime)
    summary = json.loads((job / "summary.json").read_text())
    assert summary["engine"] == "emage" and summary["options"]["checkpoint"] == str(emage_weights)
    try:
        with np.load(job / "take_1" / "motion.npz", allow_pickle=False) as m:
            assert m["expressions"].std() > 1e-3                     # EMAGE's FLAME face, not zeros
    finally:
        shutil.rmtree(job, ignore_errors=True)
