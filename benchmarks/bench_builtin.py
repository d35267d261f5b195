"""Built-in face and body engines alone: CPU seconds per minute of audio, and linearity up to an hour.

    .venv/bin/python benchmarks/bench_builtin.py [--json out.json]

The goals that used to be wall-clock asserts in the tests live here: the face ≤ 0.2 s and the body
≤ 0.3 s per audio minute, and an hour costing no more per minute than one minute (linear in length).
Inputs are the tests' synthetic analyses (phones, phrases, stresses), so no speech analysis is timed.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from backend.engines.builtin.body import generate_body  # noqa: E402
from backend.engines.builtin.face import generate_face  # noqa: E402


def _test_module(relative: str):
    """The synthetic-analysis helpers of a test module (loaded by path: tests/ is not a package)."""
    spec = importlib.util.spec_from_file_location(Path(relative).stem, REPO / relative)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cpu_seconds(fn) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args()
    face_tests = _test_module("tests/engines/test_builtin_face.py")
    body_tests = _test_module("tests/engines/test_builtin_body.py")

    minute_face = face_tests.random_speech(600, seed=32)
    hour_face = face_tests.random_speech(38000, seed=31)
    generate_face(minute_face, "neutral", 0.5, np.random.default_rng(0))  # warm caches
    face_minute = cpu_seconds(lambda: generate_face(minute_face, "happy", 0.7, np.random.default_rng(0)))
    face_hour = cpu_seconds(lambda: generate_face(hour_face, "happy", 0.7, np.random.default_rng(0)))

    minute_body = body_tests.synthetic_analysis(60.0, seed=2)
    hour_body = body_tests.synthetic_analysis(3600.0, seed=3)
    generate_body(minute_body, "neutral", 0.5, np.random.default_rng(0))  # warm-up
    body_minute = cpu_seconds(lambda: generate_body(minute_body, "neutral", 0.5, np.random.default_rng(0)))
    body_hour = cpu_seconds(lambda: generate_body(hour_body, "neutral", 0.5, np.random.default_rng(0)))

    result = {
        "face_cpu_s_per_audio_minute": round(face_minute / (minute_face.duration / 60.0), 4),
        "face_cpu_s_per_audio_minute_over_an_hour": round(face_hour / (hour_face.duration / 60.0), 4),
        "body_cpu_s_per_audio_minute": round(body_minute, 4),
        "body_cpu_s_per_audio_minute_over_an_hour": round(body_hour / 60.0, 4),
        "goals": {"face_per_minute": 0.2, "body_per_minute": 0.3, "hour_vs_minute": "≤ 2× per minute"},
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
