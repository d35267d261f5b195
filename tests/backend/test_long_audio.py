"""One hour of audio through the whole `generate`: bounded memory, every frame written."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from backend.formats.motion_npz import read_motion_npz

from .audio_fixtures import speechlike

REPO = Path(__file__).resolve().parents[2]
PEAK_LIMIT_MB = 1536

CHILD = r"""
import json, resource, sys
from backend.app.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


@pytest.mark.slow
def test_one_hour_generates_within_memory_bound(tmp_path):
    audio = tmp_path / "hour.wav"
    with sf.SoundFile(str(audio), "w", 16000, 1, "PCM_16") as fh:
        for minute in range(60):  # written in pieces: the test itself must not hold an hour of floats
            fh.write(speechlike(60.0, seed=minute))
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-c", CHILD, "generate", str(audio), "-o", str(out), "--language",
                           "other", "-q"], cwd=REPO, capture_output=True, text=True, timeout=900)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["code"] == 0, proc.stderr
    assert result["max_rss_mb"] <= PEAK_LIMIT_MB, f"peak {result['max_rss_mb']:.0f} MB"
    motion = read_motion_npz(out / "motion.npz")
    assert motion.n_frames == 3600 * 30
    assert np.all(np.isfinite(motion.poses))
    drift = np.linalg.norm(motion.trans[-1, [0, 2]] - motion.trans[0, [0, 2]])
    assert drift <= 0.3 * 60, "root drift stays within 0.3 m per minute"
    summary = json.loads((out / "summary.json").read_text())
    print(f"1 h: {summary['elapsed_s']:.1f} s, peak {result['max_rss_mb']:.0f} MB")
