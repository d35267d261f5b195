"""`python -m backend batch`: parallel, resumable, one bad file never stops the batch."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from backend.formats.motion_npz import read_motion_npz

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # two batch runs of 2 workers over 4 files (25 s)
def test_batch_runs_in_parallel_skips_finished_and_survives_bad_files(tmp_path, shared_dir):
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    lj = shared_dir / "data" / "speech" / "ljspeech"
    shutil.copy(lj / "LJ001-0002.wav", src / "a.wav")
    shutil.copy(lj / "LJ001-0003.wav", src / "sub" / "b.wav")
    shutil.copy(shared_dir / "data" / "speech" / "librispeech" / "198-209-0000.ogg", src / "c.ogg")
    (src / "broken.wav").write_text("not audio")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "backend", "batch", str(src), "-o", str(out), "--workers", "2", "--json"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 3, proc.stderr
    report = json.loads(proc.stdout)
    assert (report["files"], report["done"], report["failed"], report["skipped"]) == (4, 3, 1, 0)
    assert report["failures"][0]["audio"].endswith("broken.wav")
    for name in ("a", "sub/b", "c"):
        assert read_motion_npz(out / name / "motion.npz").n_frames > 30
    again = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    report = json.loads(again.stdout)
    assert (report["done"], report["skipped"], report["failed"]) == (0, 3, 1)
