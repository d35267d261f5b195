"""Headless demo: the default character speaks the bundled sample through the add-on's own operator.

    .venv/bin/python tools/demo_blender.py [OUT_DIR]      (what `python3.11 tools/dev.py demo` runs)

Writes OUT_DIR/demo.blend, demo.glb, demo.fbx, demo_preview.png (a contact sheet of frames) and
demo_face.png: face close-ups, one row per mouth shape (p/b/m; f/v; rounded: OW/UW/UH/AO/W; open vowels
AA/AE/AH),
each tile a frame of one of the longest such phones of the transcript's forced alignment (the
closest-lipped frame of a p/b/m, the middle of an f/v, the widest of a vowel), its lip gap measured
on the evaluated mesh printed to the console.
The add-on is enabled from this checkout (the repo root is the extension package).
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "samples" / "LJ001-0001.wav"
TRANSCRIPT = REPO / "samples" / "LJ001-0001.txt"
PREVIEW_FRAMES = 8
FACE_ROWS = (("p/b/m", ("P", "B", "M")), ("f/v", ("F", "V")), ("o/u", ("OW", "UW", "UH", "AO", "W")),
             ("open vowels", ("AA", "AE", "AH")))
FACE_COLUMNS = 4


def face_sheet_frames(phones, fps: float, frame_start: int) -> list[tuple[str, str, list[int]]]:
    """(row, phone label, candidate scene frames) for the longest phones of each FACE_ROWS kind,
    FACE_COLUMNS per row, in time order."""
    picked = []
    for row, labels in FACE_ROWS:
        found = sorted((p for p in phones if p.label in labels), key=lambda p: p.start - p.end)[:FACE_COLUMNS]
        for p in sorted(found, key=lambda p: p.start):
            first, last = int(round(p.start * fps)), max(int(round(p.end * fps)) - 1, int(round(p.start * fps)))
            picked.append((row, p.label, [frame_start + f for f in range(first, last + 1)]))
    return picked


def render_face_sheet(path, arm, mesh, package: str, audio_path, transcript_path, frame_start: int) -> None:
    """Face close-ups at p/b/m (the frame where the lips are closest), f/v, o/u and open vowels."""
    from importlib import import_module

    analyze = import_module(f"{package}.backend.audio.analyze")
    audio_io = import_module(f"{package}.backend.audio.io")
    probe = import_module(f"{package}.rigs.blender.face_probe")
    render = import_module(f"{package}.rigs.blender.render")
    mouth = import_module(f"{package}.rigs.mouth")
    asset = import_module(f"{package}.rigs.character_asset").load_default_character()
    analysis = analyze.analyze_speech(audio_io.load_audio(str(audio_path)),
                                      Path(transcript_path).read_text(encoding="utf-8"), "en")
    upper, lower = mouth.lip_midline_ids(asset.source_vertex_ids)
    scene = mesh.users_scene[0]
    fps = scene.render.fps / scene.render.fps_base
    frames = []
    for row, label, candidates in face_sheet_frames(analysis.phones, fps, frame_start):
        gaps = 1000 * probe.lip_gaps_at_frames(scene, arm, mesh, candidates, upper, lower)
        # a bilabial shows its closure, a vowel its widest opening, f/v its middle
        k = int(gaps.argmin() if row == "p/b/m" else len(gaps) // 2 if row == "f/v" else gaps.argmax())
        frames.append(candidates[k])
        print(f"  face sheet {row:11s} {label:3s} frame {candidates[k]:4d}: lip gap {gaps[k]:5.1f} mm")
    render.render_contact_sheet(str(path), frames, arm, mesh, columns=FACE_COLUMNS,
                                tile_resolution=(256, 256), framing="face")


def main(argv: list[str]) -> int:
    out = Path(argv[0]).resolve() if argv else REPO / "out"
    out.mkdir(parents=True, exist_ok=True)
    # bpy writes preferences and caches under $HOME: keep the demo out of the user's Blender setup.
    os.environ.setdefault("ORATOR_DEMO_HOME", tempfile.mkdtemp(prefix="orator_demo_home_"))
    os.environ["HOME"] = os.environ["ORATOR_DEMO_HOME"]
    import bpy
    from importlib import import_module

    from checkout_addon import default_character_scene, enable_addon_from_checkout

    package = enable_addon_from_checkout()
    export = import_module(f"{package}.addon.export")
    render = import_module(f"{package}.rigs.blender.render")

    settings = default_character_scene()
    settings.audio = str(SAMPLE)
    settings.transcript_file = str(TRANSCRIPT)
    started = time.perf_counter()
    if bpy.ops.orator.generate_from_audio() != {"FINISHED"}:
        print("error: generation failed", file=sys.stderr)
        return 1
    print(f"generated and keyed in {time.perf_counter() - started:.2f} s")
    arm, mesh = settings.armature, settings.face_mesh
    take = arm.animation_data.action
    start, end = (int(round(f)) for f in take.frame_range)

    bpy.ops.wm.save_as_mainfile(filepath=str(out / "demo.blend"))
    target = export.ExportTarget(arm.name, mesh.name)
    export.export_glb(bpy.context, str(out / "demo.glb"), target)
    export.export_fbx(bpy.context, str(out / "demo.fbx"), target)
    frames = [start + round(i * (end - start) / (PREVIEW_FRAMES - 1)) for i in range(PREVIEW_FRAMES)]
    render.render_contact_sheet(str(out / "demo_preview.png"), frames, arm, mesh, columns=4)
    render_face_sheet(out / "demo_face.png", arm, mesh, package, SAMPLE, TRANSCRIPT, start)
    for name in ("demo.blend", "demo.glb", "demo.fbx", "demo_preview.png", "demo_face.png"):
        print(f"wrote {out / name} ({(out / name).stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
