"""Blender 4.2/4.3 keep the legacy action layout (no slots): checked with the real bpy 4.2 LTS module.

bpy 4.2 needs its own interpreter, so `tools/dev.py test` prepares `.venv-blender42` (bpy 4.2.23 and
numpy only) and this test runs the add-on there; the backend worker still uses the project's .venv.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHECK = Path(__file__).resolve().parent / "legacy_blender_check.py"


def bpy42_python() -> Path | None:
    path = Path(os.environ.get("ORATOR_BPY42_PYTHON", REPO / ".venv-blender42" / "bin" / "python"))
    return path if path.exists() else None


@pytest.mark.slow  # its own bpy 4.2 interpreter (tools/dev.py test prepares it; the fast tier does not)
def test_legacy_actions_on_blender_4_2(lj_clip, tmp_path, lj_transcripts):
    python = bpy42_python()
    if python is None:
        pytest.skip("no bpy 4.2 interpreter: run `python3.11 tools/dev.py test` (it prepares .venv-blender42) "
                    "or set ORATOR_BPY42_PYTHON")
    transcript = tmp_path / "t.txt"
    transcript.write_text(lj_transcripts[lj_clip.stem])
    proc = subprocess.run([str(python), str(CHECK), str(REPO), str(lj_clip), str(transcript)],
                          capture_output=True, text=True, timeout=600)
    lines = [l for l in proc.stdout.splitlines() if l.startswith("REPORT ")]
    assert proc.returncode == 0 and lines, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(lines[-1][len("REPORT "):])
    assert report["version"][:2] == [4, 2]
    stem = lj_clip.stem
    # legacy layout: bones in one action, shape keys in a second one, both with plain fcurves
    assert report["body_action"] == f"{stem} take 1" and report["face_action"] == f"{stem} take 1 face"
    assert report["face_fcurves"] == 52 and report["body_fcurves"] > 200
    first, last, count = report["keyed_frames"]
    assert first == 1 and count == last == report["frame_end"]
    low, high = report["jaw_range"]
    assert high - low > 0.2, "the mouth moves"
    assert report["body_tracks"] == [f"{stem} take 1", f"{stem} take 2"] == report["face_tracks"]
    assert report["after_switch"] == [f"{stem} take 2", f"{stem} take 2 face"]
