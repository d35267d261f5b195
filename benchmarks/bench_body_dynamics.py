"""Benchmark: the built-in body's joint speeds against real mocap, over many seeds and emotions.

    .venv/bin/python benchmarks/bench_body_dynamics.py [--seconds 60] [--seeds 16] [--intensity 0.5 1.0]

Joins LJSpeech clips from ../shared with 1–2 s pauses, analyses once (fast phones, no transcript), then
generates only the body. Prints, per upper-body joint, the worst ratio to BEAT2 speaker 2's real speeds
(docs/metrics.md) over all takes: the lowest median ratio (goal ≥ 0.5: not stiff) and the highest p99 and
max ratios (goal ≤ 1.5: no snaps), the largest per-frame twist jump (goal ≤ 30°), and CPU seconds per take.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = Path(os.environ.get("ORATOR_SHARED", REPO.parent / "shared"))
REAL = {"spine1": (3, 0.17, 0.85, 1.8), "spine2": (6, 0.16, 0.57, 1.0), "spine3": (9, 0.09, 0.40, 1.5),
        "neck": (12, 0.27, 0.95, 1.8), "l_collar": (13, 0.31, 1.81, 3.1), "r_collar": (14, 0.31, 1.75, 2.6),
        "head": (15, 0.26, 0.97, 1.7), "l_shoulder": (16, 0.61, 2.44, 3.7), "r_shoulder": (17, 0.51, 1.87, 2.4),
        "l_elbow": (18, 1.05, 5.83, 7.6), "r_elbow": (19, 1.07, 6.21, 9.4), "l_wrist": (20, 0.76, 6.46, 10.4),
        "r_wrist": (21, 0.85, 5.45, 10.2)}


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    from backend.audio import analyze_speech, load_audio
    from backend.engines.builtin.body import generate_body
    from backend.motion.dynamics import twist_jumps
    from backend.motion.kinematics import local_angular_speed
    from backend.vocabulary.choices import EMOTIONS

    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--seeds", type=int, default=16)
    ap.add_argument("--intensity", type=float, nargs="+", default=[0.5, 1.0])
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    parts, total, rate = [], 0.0, 22050
    clips = sorted((SHARED / "data" / "speech" / "ljspeech").glob("*.wav"))
    while total < args.seconds:
        for clip in clips:
            x, rate = sf.read(clip, dtype="float32")
            pause = np.zeros(int(rate * rng.uniform(1.0, 2.0)), np.float32)
            parts += [x, pause]
            total += (len(x) + len(pause)) / rate
            if total >= args.seconds:
                break
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        sf.write(wav, np.concatenate(parts), rate)
        analysis = analyze_speech(load_audio(wav), recognizer="phones")
    worst = {name: [np.inf, 0.0, 0.0] for name in REAL}
    max_twist, seconds, takes = 0.0, 0.0, 0
    for emotion in EMOTIONS:
        for intensity in args.intensity:
            for seed in range(args.seeds):
                t0 = cpu()
                poses, _ = generate_body(analysis, emotion, intensity, np.random.default_rng(seed))
                seconds += cpu() - t0
                takes += 1
                s = local_angular_speed(np.asarray(poses, np.float64), 30.0)
                for name, (j, med, p99, mx) in REAL.items():
                    w = worst[name]
                    w[0] = min(w[0], np.median(s[:, j]) / med)
                    w[1] = max(w[1], np.percentile(s[:, j], 99) / p99)
                    w[2] = max(w[2], s[:, j].max() / mx)
                max_twist = max(max_twist, float(np.degrees(twist_jumps(poses).max())))
    print(f"{takes} takes of {analysis.duration:.1f} s; body CPU {seconds / takes:.3f} s per take")
    print(f"{'joint':<11} {'min median':>10} {'max p99':>8} {'max max':>8}   (× real; goals ≥ 0.5, ≤ 1.5, ≤ 1.5)")
    for name, (med, p99, mx) in worst.items():
        flag = "" if med >= 0.5 and p99 <= 1.5 and mx <= 1.5 else "  <-- outside"
        print(f"{name:<11} {med:>10.2f} {p99:>8.2f} {mx:>8.2f}{flag}")
    print(f"largest twist jump in one frame: {max_twist:.1f}° (goal ≤ 30°)")


if __name__ == "__main__":
    main()
