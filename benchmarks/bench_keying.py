"""Add-on timings in real bpy, on the default character:

1. keying 60 s of motion (every driven bone + root + 52 shape keys, 30 fps) with the one keyframe writer
   (target ≤ 0.3 s);
2. click-to-animated for 60 s of real speech with a warm worker: Generate from Audio, blocking, from
   the operator call until the take is keyed on the character (target ≤ 5 s).

    .venv/bin/python benchmarks/bench_keying.py
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from importlib import import_module
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
LJSPEECH = Path(os.environ.get("ORATOR_SHARED", REPO.parent / "shared")) / "data" / "speech" / "ljspeech"
SECONDS = 60.0


def concatenated_speech(path: Path, seconds: float) -> Path:
    """Real LJSpeech clips joined (with 0.3 s pauses) until `seconds` long, as one wav."""
    import soundfile as sf

    pieces, total, rate = [], 0.0, None
    clips = sorted(LJSPEECH.glob("*.wav"))
    while total < seconds:
        for clip in clips:
            audio, rate = sf.read(str(clip), dtype="float32")
            pieces += [audio, np.zeros(int(0.3 * rate), np.float32)]
            total += len(audio) / rate + 0.3
            if total >= seconds:
                break
    sf.write(str(path), np.concatenate(pieces)[: int(seconds * rate)], rate)
    return path


def main() -> int:
    os.environ["HOME"] = tempfile.mkdtemp(prefix="orator_bench_home_")
    import bpy

    sys.path.insert(0, str(REPO / "tools"))
    from checkout_addon import enable_addon_from_checkout

    pkg = enable_addon_from_checkout()
    writer = import_module(f"{pkg}.addon.keyframe_writer")
    session = import_module(f"{pkg}.addon.worker_session").session

    bpy.ops.wm.read_homefile(use_empty=True)
    bpy.context.scene.render.fps = 30
    bpy.ops.orator.add_character(source="DEFAULT")
    settings = bpy.context.scene.orator
    arm, mesh = settings.armature, settings.face_mesh

    # 1. keying alone
    t = int(SECONDS * 30)
    bones = tuple(b.name for b in arm.data.bones if b.use_deform)
    rng = np.random.default_rng(0)
    q = rng.normal(size=(t, len(bones), 4))
    q /= np.linalg.norm(q, axis=-1, keepdims=True)
    keys = tuple(k.name for k in mesh.data.shape_keys.key_blocks[1:])
    curves = writer.TakeCurves(bones, q, "pelvis", rng.normal(size=(t, 3)) * 0.01, keys,
                               rng.uniform(size=(t, len(keys))), 1)
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        written = writer.write_take("bench", arm, mesh.data.shape_keys, curves)
        timings.append(time.perf_counter() - start)
        bpy.data.actions.remove(written.body_action)
    n_keys = t * (4 * len(bones) + 3 + len(keys))
    print(f"keying {SECONDS:.0f} s: {len(bones)} bones + root + {len(keys)} shape keys = {n_keys:,} keys "
          f"in {min(timings):.3f} s (best of 3; target ≤ 0.3 s)")

    # 2. click-to-animated with a warm worker
    with tempfile.TemporaryDirectory() as tmp:
        audio = concatenated_speech(Path(tmp) / "speech_60s.wav", SECONDS)
        settings.audio = str(audio)
        warm_start = time.perf_counter()
        assert bpy.ops.orator.generate_from_audio() == {"FINISHED"}  # first call starts the worker
        cold = time.perf_counter() - warm_start
        start = time.perf_counter()
        assert bpy.ops.orator.generate_from_audio() == {"FINISHED"}
        warm = time.perf_counter() - start
    print(f"click-to-animated, {SECONDS:.0f} s of speech: {warm:.2f} s with a warm worker "
          f"(target ≤ 5 s); {cold:.2f} s including the worker start")
    session().stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
