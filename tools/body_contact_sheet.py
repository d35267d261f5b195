"""Look at the built-in body on a minute of speech, the way a user sees it.

    .venv/bin/python tools/body_contact_sheet.py OUT_DIR [EMOTION] [SEED]

Joins LJSpeech clips from ../shared/data/speech/ljspeech with 1–2 s pauses into ≈ 60 s of speech,
generates on the default character through the add-on's own operator (fast lip timing, no transcript),
then writes OUT_DIR/body_sheet.png (16 frames spread over the take), OUT_DIR/elbow_closeup.png (8 frames
of the fastest 2 s of either elbow, framed on the forearm) and OUT_DIR/elbow_speed.txt (that window).
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SPEECH = REPO.parent / "shared" / "data" / "speech" / "ljspeech"
SHEET_FRAMES = 16


def conversation_wav(path: Path, seconds: float = 60.0) -> Path:
    """LJSpeech clips with 1–2 s silences until `seconds`, written as one wav."""
    import soundfile as sf

    rng = np.random.default_rng(0)
    parts, total, rate = [], 0.0, 22050
    for clip in sorted(SPEECH.glob("*.wav")):
        x, rate = sf.read(clip, dtype="float32")
        pause = np.zeros(int(rate * rng.uniform(1.0, 2.0)), np.float32)
        parts += [x, pause]
        total += (len(x) + len(pause)) / rate
        if total >= seconds:
            break
    sf.write(path, np.concatenate(parts)[:int(seconds * rate)], rate)
    return path


def main(argv: list[str]) -> int:
    out = Path(argv[0]).resolve() if argv else REPO / "out"
    emotion = argv[1] if len(argv) > 1 else "neutral"
    seed = int(argv[2]) if len(argv) > 2 else 0
    out.mkdir(parents=True, exist_ok=True)
    os.environ["HOME"] = tempfile.mkdtemp(prefix="orator_sheet_home_")  # bpy writes into $HOME
    import bpy
    from importlib import import_module

    sys.path.insert(0, str(REPO / "tools"))
    from checkout_addon import default_character_scene, enable_addon_from_checkout

    package = enable_addon_from_checkout()
    render = import_module(f"{package}.rigs.blender.render")
    settings = default_character_scene()
    scene = bpy.context.scene
    settings.audio = str(conversation_wav(out / "conversation.wav"))
    settings.recognizer = "phones"
    settings.emotion, settings.seed, settings.intensity = emotion, seed, 0.7
    if bpy.ops.orator.generate_from_audio() != {"FINISHED"}:
        print("error: generation failed", file=sys.stderr)
        return 1
    arm, mesh = settings.armature, settings.face_mesh
    start, end = (int(round(f)) for f in arm.animation_data.action.frame_range)
    frames = [start + round(i * (end - start) / (SHEET_FRAMES - 1)) for i in range(SHEET_FRAMES)]
    render.render_contact_sheet(str(out / "body_sheet.png"), frames, arm, mesh, columns=8)

    # The fastest 2 s of the elbows, measured on the keyed rig (what the user plays back).
    speeds = {}
    for side in ("left", "right"):
        bone = next(b for b in arm.pose.bones if b.name.lower() in (f"{side}_elbow", f"lowerarm_{side[0]}"))
        quats = []
        for f in range(start, end + 1):
            scene.frame_set(f)
            quats.append(np.array(bone.matrix_basis.to_quaternion()))
        q = np.array(quats)
        dots = np.abs(np.sum(q[1:] * q[:-1], axis=1)).clip(0.0, 1.0)
        speeds[bone.name] = 2.0 * np.arccos(dots) * (scene.render.fps / scene.render.fps_base)
    name, speed = max(speeds.items(), key=lambda kv: np.convolve(kv[1], np.ones(60), "valid").max())
    window = int(np.argmax(np.convolve(speed, np.ones(60), "valid")))
    close = [start + window + round(i * 59 / 7) for i in range(8)]
    scene.frame_set(close[0])
    tiles = []
    with tempfile.TemporaryDirectory() as tmp:
        for f in close:
            path = os.path.join(tmp, f"elbow_{f}.png")
            render.render_still(path, arm, mesh, frame=f, resolution=(256, 256), framing="bone",
                                bone=bone_parent(arm, name))
            tiles.append(render.read_png(path))
    render.write_png(render.tile_images(tiles, 4), str(out / "elbow_closeup.png"))
    (out / "elbow_speed.txt").write_text(
        f"{name}: fastest 2 s starts at frame {start + window}; peak {speed.max():.2f} rad/s, "
        f"p99 {np.percentile(speed, 99):.2f} rad/s over the take; close-up frames {close}\n")
    print((out / "elbow_speed.txt").read_text(), end="")
    return 0


def bone_parent(arm, name: str) -> str:
    """Frame the close-up on the upper arm and everything below it (elbow crease + forearm + hand)."""
    parent = arm.pose.bones[name].parent
    return parent.name if parent is not None else name


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
