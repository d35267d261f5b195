"""Benchmark: `generate` speed and peak memory on real speech of 60 s and 10 min.

    .venv/bin/python benchmarks/bench_generate.py [--lengths 60 600] [--language auto] [--recognizer words]

Inputs are LJSpeech clips from ../shared joined with short pauses. Each length runs in a fresh
process so peak memory (max RSS) is that run's own. Prints seconds of compute per second of audio.
Goals (issue 2): seconds, not minutes, for 60 s of audio on 2 CPU cores (≤ 3 s with --recognizer
phones); ≤ 1.5 GB peak for 1 h; time linear in length.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ORATOR_SHARED", REPO.parent / "shared"))

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from backend.options import GenerateOptions
from backend.pipeline import run_generate
t0 = time.perf_counter()
summary = run_generate(sys.argv[2], sys.argv[3], GenerateOptions(language=sys.argv[4], recognizer=sys.argv[5]))
wall = time.perf_counter() - t0
print(json.dumps({"wall_s": wall, "seconds": summary["seconds"], "phone_source": summary["phone_source"],
                  "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def speech_of_length(seconds: float, path: Path) -> Path:
    """Concatenate real LJSpeech clips (16 kHz) with 0.4 s pauses until `seconds` long."""
    clips = sorted((SHARED / "data" / "speech" / "ljspeech").glob("*.wav"))
    parts, total, i = [], 0, 0
    pause = np.zeros(int(0.4 * 16000), np.float32)
    while total < seconds * 16000:
        data, rate = sf.read(str(clips[i % len(clips)]), dtype="float32")
        parts += [resample_poly(data, 160, rate // 100).astype(np.float32), pause]
        total += len(parts[-2]) + len(pause)
        i += 1
    sf.write(str(path), np.concatenate(parts)[: int(seconds * 16000)], 16000, subtype="PCM_16")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=float, nargs="+", default=[60.0, 600.0])
    parser.add_argument("--language", default="auto")
    parser.add_argument("--recognizer", default="words", choices=("words", "phones"))
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, python: {sys.executable}")
    with tempfile.TemporaryDirectory() as tmp:
        for seconds in args.lengths:
            audio = speech_of_length(seconds, Path(tmp) / f"speech_{int(seconds)}.wav")
            proc = subprocess.run([sys.executable, "-c", CHILD, str(REPO), str(audio), str(Path(tmp) / "out"),
                                   args.language, args.recognizer], capture_output=True, text=True)
            if proc.returncode != 0:
                print(proc.stderr)
                raise SystemExit(proc.returncode)
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            print(f"{seconds:7.0f} s audio: {r['wall_s']:7.2f} s wall = {r['wall_s'] / r['seconds']:.3f} s per s "
                  f"of audio, peak RSS {r['max_rss_mb']:.0f} MB, phones from {r['phone_source']} ({args.recognizer})")


if __name__ == "__main__":
    main()
