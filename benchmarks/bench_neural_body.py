"""Benchmark: neural body inference speed, seconds of compute per second of audio.

    .venv/bin/python benchmarks/bench_neural_body.py [--seconds 60] [--threads 2] [--configs small emage]

Audio: LJSpeech clips from ../shared joined to the asked length (16 kHz). `small` uses the shipped
checkpoint (random weights if it is missing); `emage` is the EMAGE-size configuration with random
weights (speed does not depend on the weights). Times only the model (generate_motion), not the
speech analysis. Goal: 60 s of audio ≤ 20 s at EMAGE size on 2 CPU cores.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = Path(os.environ.get("ORATOR_SHARED", REPO.parent / "shared"))


def speech_of_length(seconds: float) -> np.ndarray:
    from backend.audio.io import load_audio

    clips = sorted((SHARED / "data" / "speech" / "ljspeech").glob("*.wav"))
    parts, total = [], 0
    while total < seconds * 16000:
        for clip in clips:
            x = load_audio(clip).samples
            parts += [x, np.zeros(4000, np.float32)]
            total += len(x) + 4000
            if total >= seconds * 16000:
                break
    return np.concatenate(parts)[: int(seconds * 16000)]


def main() -> int:
    import torch

    from backend.engines.neural_body.config import CONFIGS
    from backend.engines.neural_body.infer import DEFAULT_CHECKPOINT, generate_motion
    from backend.engines.neural_body.model import NeuralBodyModel, load_checkpoint

    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--configs", nargs="+", default=["small", "emage"])
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    audio = speech_of_length(args.seconds)
    n_frames = int(args.seconds * 30)
    for name in args.configs:
        if name == "small" and DEFAULT_CHECKPOINT.is_file():
            model, _ = load_checkpoint(DEFAULT_CHECKPOINT, args.device)
            weights = "shipped"
        else:
            torch.manual_seed(0)
            model = NeuralBodyModel(CONFIGS[name]()).to(args.device).eval()
            weights = "random"
        params = sum(p.numel() for p in model.parameters()) / 1e6
        generate_motion(model, audio[:16000 * 3], 90, seed=0)  # warm-up
        start = time.perf_counter()
        out = generate_motion(model, audio, n_frames, seed=0)
        elapsed = time.perf_counter() - start
        assert out.poses.shape == (n_frames, 55, 3)
        print(f"{name:6s} ({weights} weights, {params:.1f} M params, {args.threads} threads, {args.device}): "
              f"{args.seconds:.0f} s of audio in {elapsed:.2f} s = {elapsed / args.seconds:.3f} s per s of audio")
    return 0


if __name__ == "__main__":
    sys.exit(main())
