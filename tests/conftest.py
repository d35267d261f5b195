"""Shared fixtures: where the real data lives, and a private HOME for bpy."""
from __future__ import annotations

import copy
import os
import tempfile
from pathlib import Path

import pytest

# bpy fixes its user folders ($HOME/.config/blender: installed extensions, prefs) when first imported, and
# test modules import it while they are collected, before any fixture runs: point HOME away now, or
# every checkout on the machine installs its extension into the same ~/.config/blender.
os.environ["HOME"] = tempfile.mkdtemp(prefix="orator-tests-home-")
os.environ.setdefault("XDG_CACHE_HOME", os.path.join(os.environ["HOME"], ".cache"))

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ORATOR_SHARED", REPO.parent / "shared"))
SPEECH = SHARED / "data" / "speech"


def ljspeech_transcripts(written: bool = False) -> dict[str, str]:
    """LJSpeech clip id → normalised transcript (written: the text as written, digits and punctuation kept)."""
    from backend.formats.ljspeech import read_ljspeech_transcripts

    return read_ljspeech_transcripts(SPEECH / "ljspeech" / "metadata.csv", written)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"shared data not found at {SHARED}; set ORATOR_SHARED")
    return SHARED


@pytest.fixture(scope="session")
def lj_clip(shared_dir) -> Path:
    return shared_dir / "data" / "speech" / "ljspeech" / "LJ001-0001.wav"


@pytest.fixture(scope="session")
def lj_transcripts(shared_dir) -> dict[str, str]:
    return ljspeech_transcripts()


@pytest.fixture(scope="session")
def analysed():
    """analysed(path, transcript=None, language="auto", recognizer="words") → (LoadedAudio, SpeechAnalysis).

    One analysis per clip and settings for the whole session: the same LJSpeech clips are analysed in
    several test files (test_builtin_face forced-aligns all 32, test_analyze 4 of them again, with and
    without transcripts). The analysis is deterministic (test_analyze.py::test_deterministic checks a
    fresh run against this cache), so sharing it changes no result. Each call hands out deep copies: a test
    that edits its analysis cannot change another test's.
    """
    from backend.audio.analyze import analyze_speech
    from backend.audio.io import load_audio

    memo: dict[tuple, tuple] = {}

    def analyse(path, transcript: str | None = None, language: str = "auto", recognizer: str = "words"):
        key = (str(Path(path).resolve()), transcript, language, recognizer)
        if key not in memo:
            audio = load_audio(path)
            memo[key] = (audio, analyze_speech(audio, transcript, language, recognizer=recognizer))
        return copy.deepcopy(memo[key])

    return analyse


# The fast tier (`tools/dev.py test --fast`, pytest -m "not slow") leaves out the slow tests: those marked
# `slow` where they are written, and every test that uses one of these expensive fixtures (path prefix,
# fixture name → what it costs; wall seconds measured per file on the loaded 2-core machine, 4-5× idle).
SLOW_FIXTURES = {
    ("tests/neural_body/", "trained"): "trains a tiny body model (36 s)",
    ("tests/neural_face/", "lj_clips"): "analyses 4 clips for face training targets",
    ("tests/neural_face/", "tiny_model"): "trains a tiny face model (344 s)",
    ("tests/face_mesh/test_lip_gap_blender.py", "keyed"): "24 generations of 8 clips keyed in Blender (69 s)",
    ("tests/prompts/test_prompts.py", "long_analysis"): "29 s of speech analysed (7 s)",
    ("tests/engines/test_builtin_face.py", "lj_faces"): "forced alignment of all 32 LJSpeech clips (58 s)",
    ("tests/engines/test_body_dynamics.py", "minute"): "a minute analysed, then every emotion and seed (46 s)",
    ("tests/addon/test_user_rigs.py", "three_generations"): "three takes generated and keyed in Blender (15 s)",
    ("tests/backend/test_batch_ray.py", "ray_address"): "a local Ray cluster and batches on it (50 s)",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = Path(str(item.fspath)).resolve()
        rel = path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else path.as_posix()
        if any(rel.startswith(prefix) and name in item.fixturenames for prefix, name in SLOW_FIXTURES):
            item.add_marker(pytest.mark.slow)


def pytest_configure(config):
    """bpy fixes its user folders when it is first imported, which can happen while tests are collected
    (tests/rigs/test_default_character_blender.py imports it at the top): without a private HOME by then,
    every run installed the extension into the real ~/.config/blender, shared by concurrent runs (seen: a
    worker started from a copy another run was replacing, `No module named 'backend.protocol'`)."""
    import tempfile

    config._orator_home = os.environ.get("HOME")
    config._orator_private_home = tempfile.mkdtemp(prefix="orator_test_home_")
    os.environ["HOME"] = config._orator_private_home


def pytest_unconfigure(config):
    import shutil

    old = getattr(config, "_orator_home", None)
    if old is not None:
        os.environ["HOME"] = old
    shutil.rmtree(getattr(config, "_orator_private_home", ""), ignore_errors=True)


@pytest.fixture(autouse=True, scope="session")
def _private_home(tmp_path_factory):
    """bpy writes into $HOME; keep it out of the user's."""
    home = tmp_path_factory.mktemp("home")
    old = os.environ.get("HOME")
    os.environ["HOME"] = str(home)
    os.environ.setdefault("XDG_CACHE_HOME", str(home / ".cache"))
    yield
    if old is not None:
        os.environ["HOME"] = old
