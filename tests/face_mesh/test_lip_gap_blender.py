"""The default character's mouth measured where the user sees it: on the mesh Blender deforms.

Every transcribed LJSpeech clip in the shared data (8 clips, 50.3 s) is generated clip by clip with
the real pipeline (builtin body; builtin face with and without its transcript, and the neural face
with it; long transcripts are aligned clip by clip on purpose), and the takes are
concatenated and keyed on the default character by the add-on's own `apply_takes`. The lip gap is
read from the depsgraph-evaluated mesh (shape keys + armature) at the frames of every p/b/m and
open vowel of the transcript's forced alignment, and at pauses.
"""
from __future__ import annotations

import importlib
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from backend.formats.motion_npz import write_motion_npz  # noqa: E402
from backend.options import GenerateOptions  # noqa: E402
from backend.generation.pipeline import generate  # noqa: E402
from backend.vocabulary.rates import MOTION_FPS as FPS  # noqa: E402
from rigs.blender.build_character import build_default_character  # noqa: E402
from rigs.blender.face_probe import lip_gaps_at_frames  # noqa: E402
from rigs.character_asset import load_default_character  # noqa: E402
from rigs.mouth import lip_midline_ids  # noqa: E402

pytestmark = pytest.mark.blender

REPO = Path(__file__).resolve().parents[2]
CLIPS = tuple(f"LJ001-{i:04d}" for i in range(1, 9))
BILABIALS = ("P", "B", "M")
OPEN_VOWELS = ("AA", "AE", "AH", "AO")
PACKAGE = "orator_face_mesh_checkout"


def _addon_module(name: str):
    """A submodule of this checkout imported as the add-on package (its modules use relative imports)."""
    if PACKAGE not in sys.modules:
        holder = Path(tempfile.mkdtemp(prefix="orator_face_mesh_"))
        (holder / PACKAGE).symlink_to(REPO, target_is_directory=True)
        sys.path.insert(0, str(holder))
    return importlib.import_module(f"{PACKAGE}.{name}")


def _phone_frames(phone, offset: int) -> np.ndarray:
    """Scene frames (frame_start 1) inside one phone; its nearest frame when it spans none."""
    first, last = int(np.ceil(phone.start * FPS)), int(np.floor(phone.end * FPS))
    frames = np.arange(first, last + 1) if last >= first else np.array([int(round(0.5 * (phone.start + phone.end) * FPS))])
    return 1 + offset + frames


@pytest.fixture(scope="module")
def keyed(shared_dir, lj_transcripts, tmp_path_factory):
    """The default character with two takes of the 8 clips: with and without transcripts."""
    wav_dir = shared_dir / "data" / "speech" / "ljspeech"
    parts = {"transcript": [], "recognised": [], "neural": []}
    truth_bilabial, truth_vowel, pauses = [], [], []
    offset = 0
    for clip in CLIPS:
        wav = wav_dir / f"{clip}.wav"
        with_text = generate(wav, GenerateOptions(transcript=lj_transcripts[clip]))
        without = generate(wav, GenerateOptions())
        neural = generate(wav, GenerateOptions(transcript=lj_transcripts[clip], face_engine="neural"))
        analysis = with_text.analysis
        for ph in analysis.phones:
            if ph.label in BILABIALS:
                truth_bilabial.append(_phone_frames(ph, offset))
            elif ph.label in OPEN_VOWELS:
                truth_vowel.append(_phone_frames(ph, offset))
        # pause frames at least 2 frames away from voice activity (read speech has few: ~18 in 50 s)
        silent = ~np.asarray(analysis.speech, bool)
        far = np.convolve(silent.astype(float), np.ones(5), mode="same") >= 5
        pauses.extend((1 + offset + np.flatnonzero(far)).tolist())
        for key, gen in (("transcript", with_text), ("recognised", without), ("neural", neural)):
            take = gen.takes[0]
            parts[key].append((take.poses, take.trans, take.arkit))
        offset += analysis.n_frames
    tmp = tmp_path_factory.mktemp("lip_gap")
    paths = []
    for key, chunks in parts.items():
        poses, trans, arkit = (np.concatenate([c[i] for c in chunks]) for i in range(3))
        assert len(poses) == offset
        paths.append(str(write_motion_npz(tmp / f"{key}.npz", poses, trans, arkit)))

    apply_take = _addon_module("addon.apply_take")
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = FPS, 1.0
    arm, mesh = build_default_character(bpy.context)
    actions = apply_take.apply_takes(bpy.context, apply_take.ApplyRequest(
        arm.name, mesh.name, str(wav_dir / f"{CLIPS[0]}.wav"), tuple(paths), 1, add_sound=False))
    upper, lower = lip_midline_ids(load_default_character().source_vertex_ids)
    rng = np.random.default_rng(0)
    pause_frames = np.sort(rng.choice(pauses, size=min(40, len(pauses)), replace=False))
    gaps = {}
    for key, action in zip(parts, actions):
        apply_take.use_take(arm, mesh, action)
        frames = np.unique(np.concatenate(truth_bilabial + truth_vowel + [pause_frames]))
        mm = dict(zip(frames.tolist(), 1000 * lip_gaps_at_frames(scene, arm, mesh, frames, upper, lower)))
        gaps[key] = {
            "bilabial": np.array([min(mm[f] for f in fr) for fr in truth_bilabial]),
            "vowel": np.array([np.median([mm[f] for f in fr]) for fr in truth_vowel]),
            "pause": np.array([mm[f] for f in pause_frames]),
        }
    return {"arm": arm, "mesh": mesh, "actions": actions, "gaps": gaps, "seconds": offset / FPS,
            "apply_take": apply_take}


def test_the_clips_are_long_and_have_many_bilabials(keyed):
    assert keyed["seconds"] > 50
    assert len(keyed["gaps"]["transcript"]["bilabial"]) >= 40
    assert len(keyed["gaps"]["transcript"]["vowel"]) >= 60


def test_the_jaw_bone_is_not_keyed_on_top_of_the_jaw_open_key(keyed):
    arm = keyed["arm"]
    for action in keyed["actions"]:
        paths = {fc.data_path for fc in _body_fcurves(keyed["apply_take"], arm, action)}
        assert 'pose.bones["head"].rotation_quaternion' in paths
        assert not any('"jaw"' in p for p in paths)
    assert tuple(arm.pose.bones["jaw"].rotation_quaternion) == pytest.approx((1, 0, 0, 0))


def _body_fcurves(apply_take, arm, action):
    writer = sys.modules[f"{PACKAGE}.addon.keyframe_writer"]
    if not writer.SLOTTED_ACTIONS:
        return list(action.fcurves)
    from bpy_extras.anim_utils import action_get_channelbag_for_slot
    slot = next(s for s in action.slots if s.identifier == action[apply_take.BODY_SLOT_KEY])
    return list(action_get_channelbag_for_slot(action, slot).fcurves)


@pytest.mark.parametrize("condition, share", [("transcript", 0.95), ("recognised", 0.85), ("neural", 0.95)])
def test_lips_seal_on_the_mesh_at_bilabials(keyed, condition, share):
    gap = keyed["gaps"][condition]["bilabial"]
    sealed = np.mean(gap < 1.5)
    assert sealed >= share, f"{condition}: {sealed:.0%} of p/b/m under 1.5 mm (median {np.median(gap):.2f} mm)"


@pytest.mark.parametrize("condition", ["transcript", "recognised", "neural"])
def test_open_vowels_talk_instead_of_yelling(keyed, condition):
    gap = keyed["gaps"][condition]["vowel"]
    assert 10.0 <= np.median(gap) <= 20.0, f"{condition}: median open-vowel gap {np.median(gap):.1f} mm"
    assert np.percentile(gap, 95) < 30.0  # 30 mm and more reads as yelling


def test_neutral_mouth_is_closed(keyed):
    for condition in ("transcript", "recognised", "neural"):
        assert np.median(keyed["gaps"][condition]["pause"]) < 0.3
    # the bare character: no keys, rest pose
    bpy.ops.wm.read_factory_settings(use_empty=True)
    arm, mesh = build_default_character(bpy.context)
    upper, lower = lip_midline_ids(load_default_character().source_vertex_ids)
    scene = bpy.context.scene
    assert 1000 * lip_gaps_at_frames(scene, arm, mesh, [scene.frame_current], upper, lower)[0] < 0.3


def _short_take(tmp_path) -> str:
    """One second of motion whose jawOpen curve (and so its SMPL-X jaw joint) opens and closes."""
    from backend.vocabulary.face import ARKIT_INDEX
    from backend.generation.pipeline import assemble_performance

    arkit = np.zeros((30, 52), np.float32)
    arkit[:, ARKIT_INDEX["jawOpen"]] = 0.4 * np.sin(np.linspace(0, np.pi, 30))
    take = assemble_performance(np.zeros((30, 55, 3)), np.zeros((30, 3)), arkit, {})
    return str(write_motion_npz(tmp_path / "short.npz", take.poses, take.trans, take.arkit))


@pytest.mark.parametrize("keys, jaw_keyed", [
    ("ready_player_me", False),   # exact ARKit names, a jawOpen of its own: the key opens the mouth
    ("namespaced", False),        # Maya/Faceit-style 'blendShape1.jawOpen' aliases: the same
    ("no_jaw_open", True),        # ARKit keys but no jawOpen: the jaw bone opens the mouth
])
def test_one_mouth_mechanism_per_rig(tmp_path, keys, jaw_keyed):
    apply_take = _addon_module("addon.apply_take")
    bpy.ops.wm.read_factory_settings(use_empty=True)
    arm, mesh = build_default_character(bpy.context)
    blocks = mesh.data.shape_keys.key_blocks
    if keys == "namespaced":
        for block in list(blocks)[1:]:
            block.name = "blendShape1." + block.name
    elif keys == "no_jaw_open":
        mesh.shape_key_remove(blocks["jawOpen"])
    actions = apply_take.apply_takes(bpy.context, apply_take.ApplyRequest(
        arm.name, mesh.name, str(tmp_path / "a.wav"), (_short_take(tmp_path),), 1, add_sound=False))
    paths = {fc.data_path for fc in _body_fcurves(apply_take, arm, actions[0])}
    assert ('pose.bones["jaw"].rotation_quaternion' in paths) == jaw_keyed
    bpy.context.scene.frame_set(15)
    opened = arm.pose.bones["jaw"].rotation_quaternion.angle
    assert (opened > 0.05) == jaw_keyed
