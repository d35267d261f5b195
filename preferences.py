"""Add-on preferences: which Python runs the backend, the device, and where model files live."""
from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import bpy

from .operators.body_engine import refresh_emage_status

ADDON_PACKAGE = __package__
ADDON_DIR = Path(__file__).resolve().parent
# What the built-in engine needs in the backend's Python (torch only for neural engines).
BACKEND_MODULES = ("numpy", "scipy", "soundfile", "pocketsphinx")


def venv_python(addon_dir: Path = ADDON_DIR) -> Path:
    """The project's own environment inside the add-on folder (a development checkout)."""
    return addon_dir / ".venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def missing_backend_modules() -> list[str]:
    """Modules of BACKEND_MODULES that this (Blender's) Python cannot import."""
    return [m for m in BACKEND_MODULES if importlib.util.find_spec(m) is None]


def detect_backend_python(addon_dir: Path = ADDON_DIR) -> str | None:
    """The Python to run `python -m backend serve` with, or None when the user must choose one.

    The project's `.venv` first; else Blender's own Python when it has every backend dependency.
    """
    candidate = venv_python(addon_dir)
    if candidate.is_file():
        return str(candidate)
    if not missing_backend_modules():
        return sys.executable
    return None


def _emage_folder_changed(_prefs, context) -> None:
    refresh_emage_status(context)


class OratorPreferences(bpy.types.AddonPreferences):
    bl_idname = ADDON_PACKAGE

    python: bpy.props.StringProperty(
        name="Backend Python", subtype="FILE_PATH",
        description="Python executable that runs the Orator backend (empty: detect automatically)")
    device: bpy.props.EnumProperty(
        name="Device", default="auto",
        items=(("auto", "Auto", "GPU when one is available to the backend, else CPU"),
               ("cpu", "CPU", "Always run on the CPU"),
               ("cuda", "CUDA", "Run neural engines on an NVIDIA GPU")))
    checkpoints_dir: bpy.props.StringProperty(
        name="Model checkpoints", subtype="DIR_PATH",
        description="Folder with trained engine checkpoints")
    emage_dir: bpy.props.StringProperty(
        name="EMAGE model folder", subtype="DIR_PATH", update=_emage_folder_changed,
        description="Folder of the downloaded EMAGE model (huggingface-cli download H-Liu1997/emage_audio "
                    "--local-dir …), used when the body engine is EMAGE")
    smplx_dir: bpy.props.StringProperty(
        name="SMPL-X / FLAME files", subtype="DIR_PATH",
        description="Folder with your licensed SMPL-X (.npz) and FLAME model files")
    job_timeout_s: bpy.props.IntProperty(
        name="Job timeout (s)", default=900, min=10, max=24 * 3600,
        description="A generation that takes longer is stopped and the backend restarted")

    keep_job_files: bpy.props.BoolProperty(
        name="Keep generated files", default=False,
        description="Keep each generation's motion.npz, face_arkit.csv and summary.json in the extension's "
                    "user folder (off: deleted once the takes are in the scene)")

    def draw(self, context):
        layout = self.layout
        layout.prop(self, "python")
        resolved = self.backend_python()
        if resolved:
            layout.label(text=f"Using: {resolved}", icon="CHECKMARK")
        else:
            layout.label(text="No suitable Python found: choose one with "
                         + ", ".join(BACKEND_MODULES) + " installed", icon="ERROR")
        layout.prop(self, "device")
        layout.prop(self, "checkpoints_dir")
        layout.prop(self, "emage_dir")
        layout.prop(self, "smplx_dir")
        layout.prop(self, "job_timeout_s")
        layout.prop(self, "keep_job_files")

    def backend_python(self) -> str | None:
        chosen = bpy.path.abspath(self.python) if self.python else ""
        return chosen or detect_backend_python()


def get_preferences(context=None) -> OratorPreferences:
    context = context or bpy.context
    return context.preferences.addons[ADDON_PACKAGE].preferences


def register() -> None:
    bpy.utils.register_class(OratorPreferences)


def unregister() -> None:
    bpy.utils.unregister_class(OratorPreferences)
