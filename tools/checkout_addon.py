"""Enable the add-on from this checkout in a headless bpy, whatever the checkout folder is called.

Blender imports an add-on by its folder name, which must be a Python identifier; a clone named
`orator-main` is not. A symlink named `orator` in a temp folder gives the checkout a valid name.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = "orator"


def enable_addon_from_checkout() -> str:
    """Import path + `addon_utils.enable`; returns the package name to import submodules from."""
    import addon_utils  # importable once bpy is

    holder = Path(tempfile.mkdtemp(prefix="orator_addon_"))
    (holder / PACKAGE).symlink_to(REPO, target_is_directory=True)
    sys.path.insert(0, str(holder))
    addon_utils.enable(PACKAGE, default_set=True)
    if PACKAGE not in sys.modules:
        raise RuntimeError(f"the add-on did not enable from {REPO}")
    return PACKAGE


def default_character_scene(fps: int | None = None):
    """An empty scene at `fps` (default: the motion rate) with the add-on's default character added; returns
    the scene's Orator settings. Call after enable_addon_from_checkout()."""
    import importlib

    import bpy

    if fps is None:
        fps = importlib.import_module(f"{PACKAGE}.backend.vocabulary.rates").MOTION_FPS
    bpy.ops.wm.read_homefile(use_empty=True)
    bpy.context.scene.render.fps = fps
    bpy.ops.orator.add_character(source="DEFAULT")
    return bpy.context.scene.orator
