"""Body engine choice in the sidebar: the built-in engine, or EMAGE from the user's downloaded folder.

The folder (Preferences → EMAGE model folder) is checked when the engine or the folder is chosen, with the
backend's own bpy-free check (configs parsed, every weight file present), so the sidebar names what is
missing before a job is sent; tensor shapes are checked by the backend when the job starts.
"""
from __future__ import annotations

import bpy

from ..backend.engines.emage.checkpoint import DOWNLOAD_HINT, check_folder  # bpy- and torch-free
from ..backend.errors import UserError
from .preferences import abspath_setting

BODY_ENGINE_ITEMS = (
    ("builtin", "Built-in", "Procedural body timed to the speech; needs no model files"),
    ("emage", "EMAGE", "The published EMAGE model (H-Liu1997/emage_audio) from your download; set its folder "
                       "in the Orator preferences"),
)


def emage_folder(context) -> str:
    return abspath_setting(context, "emage_dir")


def emage_folder_problem(folder: str) -> str:
    """'' when the folder holds a complete EMAGE download, else the one-line reason."""
    if not folder:
        return f"EMAGE: choose the model folder in the Orator preferences ({DOWNLOAD_HINT})"
    try:
        check_folder(folder)
    except UserError as exc:
        return str(exc)
    return ""


def refresh_emage_status(context) -> None:
    """Recheck the folder for every scene that uses EMAGE (engine or folder just changed)."""
    for scene in bpy.data.scenes:
        settings = getattr(scene, "orator", None)
        if settings is not None:
            settings.emage_status = emage_folder_problem(emage_folder(context)) \
                if settings.body_engine == "emage" else ""


def on_engine_or_folder_changed(_self, context) -> None:
    refresh_emage_status(context)


def engine_options(context, settings) -> dict:
    """GenerateOptions fields for the chosen body engine; UserError when EMAGE's folder is not usable."""
    if settings.body_engine != "emage":
        return {}
    folder = emage_folder(context)
    problem = emage_folder_problem(folder)
    if problem:
        raise UserError(problem)
    return {"engine": "emage", "checkpoint": folder}
