"""Headless demo: the default character speaks the bundled sample through the add-on's own operator.

    .venv/bin/python tools/demo_blender.py [OUT_DIR]      (what `python3.11 tools/dev.py demo` runs)

Writes OUT_DIR/demo.blend, demo.glb, demo.fbx and demo_preview.png (a contact sheet of frames).
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


def main(argv: list[str]) -> int:
    out = Path(argv[0]).resolve() if argv else REPO / "out"
    out.mkdir(parents=True, exist_ok=True)
    # bpy writes preferences and caches under $HOME: keep the demo out of the user's Blender setup.
    os.environ.setdefault("ORATOR_DEMO_HOME", tempfile.mkdtemp(prefix="orator_demo_home_"))
    os.environ["HOME"] = os.environ["ORATOR_DEMO_HOME"]
    import bpy
    from importlib import import_module

    from checkout_addon import enable_addon_from_checkout

    package = enable_addon_from_checkout()
    export = import_module(f"{package}.operators.export")
    render = import_module(f"{package}.rigs.blender.render")

    bpy.ops.wm.read_homefile(use_empty=True)
    scene = bpy.context.scene
    scene.render.fps = 30
    bpy.ops.orator.add_character(source="DEFAULT")
    settings = scene.orator
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
    for name in ("demo.blend", "demo.glb", "demo.fbx", "demo_preview.png"):
        print(f"wrote {out / name} ({(out / name).stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
