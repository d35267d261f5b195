"""One hour of audio: bounded memory and linear time (analysed in a subprocess to measure peak RSS)."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import REPO

SCRIPT = textwrap.dedent("""
    import json, resource, sys, time
    import numpy as np, soundfile as sf
    from backend.audio.io import load_audio
    from backend.audio.analyze import analyze_speech

    path = sys.argv[1]
    rate, seconds = 16000, 3600
    rng = np.random.default_rng(7)
    with sf.SoundFile(path, "w", rate, 1, subtype="PCM_16") as f:
        for minute in range(seconds // 60):
            t = np.arange(rate * 60) / rate
            # speech-like: 4 Hz syllable envelope on a gliding harmonic tone, 2 s pause every 8 s
            f0 = 140 + 30 * np.sin(2 * np.pi * 0.3 * t + minute)
            phase = 2 * np.pi * np.cumsum(f0) / rate
            voice = sum(np.sin(k * phase) / k for k in range(1, 6))
            env = np.clip(np.sin(2 * np.pi * 4 * t), 0, 1) * ((t % 8) < 6)
            x = 0.2 * voice * env + 0.001 * rng.standard_normal(len(t))
            f.write(x.astype(np.float32))
    t0 = time.perf_counter()
    audio = load_audio(path)
    t1 = time.perf_counter()
    a = analyze_speech(audio, None, "other")
    t2 = time.perf_counter()
    print(json.dumps(dict(load_s=t1 - t0, analyze_s=t2 - t1, n_frames=a.n_frames,
                          segments=len(a.segments), stresses=len(a.stresses),
                          peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
""")


@pytest.mark.slow
def test_one_hour_file_memory_and_time(tmp_path):
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "hour.wav")], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    print(r)
    assert r["n_frames"] == 3600 * 30
    assert r["peak_mb"] <= 1536, r
    assert 400 <= r["segments"] <= 500           # one phrase per 8 s
