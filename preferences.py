"""Add-on preferences: which Python runs the backend, the device, and where model files live."""
from __future__ import annotations

from pathlib import Path

import bpy

from .backend_python import BackendPython, resolve
from .neural_install import TORCH_VERSION
from .operators.body_engine import refresh_emage_status

ADDON_PACKAGE = __package__
ADDON_DIR = Path(__file__).resolve().parent


def user_dir() -> str | None:
    """The extension's user folder (neural engines, models, generated files); None for a legacy add-on."""
    try:
        return bpy.utils.extension_path_user(ADDON_PACKAGE, create=True)
    except (ValueError, RuntimeError, AttributeError):
        return None


def _emage_folder_changed(_prefs, context) -> None:
    refresh_emage_status(context)


class OratorPreferences(bpy.types.AddonPreferences):
    bl_idname = ADDON_PACKAGE

    python: bpy.props.StringProperty(
        name="Backend Python", subtype="FILE_PATH",
        description="Your own Python for the backend, with numpy, scipy, soundfile, pocketsphinx (and torch "
                    "for the neural engines). Empty: Blender's own Python with the packages that came with "
                    "the extension")
    device: bpy.props.EnumProperty(
        name="Device", default="auto",
        items=(("auto", "Auto", "GPU when one is available to the backend, else CPU"),
               ("cpu", "CPU", "Always run on the CPU"),
               ("cuda", "CUDA", "Run neural engines on an NVIDIA GPU")))
    checkpoints_dir: bpy.props.StringProperty(
        name="Model checkpoints", subtype="DIR_PATH",
        description="Folder with trained engine checkpoints")
    torch_variant: bpy.props.EnumProperty(
        name="Neural engines", default="cpu",
        items=(("cpu", "CPU", f"torch {TORCH_VERSION} CPU build (about 200 MB to download)"),
               ("cuda", "CUDA", f"torch {TORCH_VERSION} for NVIDIA GPUs (CUDA 12.8, about 900 MB with its "
                                "CUDA libraries)")))
    wheels_dir: bpy.props.StringProperty(
        name="Wheels folder", subtype="DIR_PATH",
        description="Optional: install torch from this folder of wheels (offline, or a local mirror) "
                    "instead of PyTorch's package index")
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
        from .panels.backend_status import draw_backend_report, draw_neural_install

        layout = self.layout
        box = layout.box()
        box.prop(self, "python")
        draw_backend_report(box, context, self)
        draw_neural_install(layout.box(), context, self)
        layout.prop(self, "device")
        layout.prop(self, "checkpoints_dir")
        layout.prop(self, "emage_dir")
        layout.prop(self, "smplx_dir")
        layout.prop(self, "job_timeout_s")
        layout.prop(self, "keep_job_files")

    def backend(self) -> BackendPython:
        """The Python that runs the backend, with the folders it needs on its path (backend_python.resolve)."""
        chosen = bpy.path.abspath(self.python) if self.python else ""
        return resolve(chosen, user_dir(), ADDON_DIR)

    def backend_python(self) -> str:
        return self.backend().executable


def get_preferences(context=None) -> OratorPreferences:
    context = context or bpy.context
    return context.preferences.addons[ADDON_PACKAGE].preferences


def register() -> None:
    bpy.utils.register_class(OratorPreferences)


def unregister() -> None:
    bpy.utils.unregister_class(OratorPreferences)
