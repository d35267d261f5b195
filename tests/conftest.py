"""Shared fixtures: where the real data lives, and a private HOME for bpy."""
from __future__ import annotations

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


def ljspeech_transcripts() -> dict[str, str]:
    """LJSpeech clip id → normalised transcript."""
    out = {}
    for line in (SPEECH / "ljspeech" / "metadata.csv").read_text(encoding="utf-8").splitlines():
        parts = line.split("|")
        if len(parts) >= 3:
            out[parts[0]] = parts[2]
    return out


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
