"""Where the neural engines' shipped checkpoints are.

A development checkout has them beside the code (backend/checkpoints/). The installed extension does
not: they travel in the separate models zip (tools/build_extension.py; 7.5 MB, 10 % of a platform zip),
which the add-on unpacks into its user folder and names to the backend in $ORATOR_MODELS_DIR.
"""
from __future__ import annotations

import os
from pathlib import Path

MODELS_DIR_ENV = "ORATOR_MODELS_DIR"
BUNDLED_DIR = Path(__file__).resolve().parent / "checkpoints"
BODY_MODEL = "body_small.pt"
FACE_MODEL = "face_generic.pt"


def model_dirs() -> list[Path]:
    """Folders searched for shipped models, in order: beside the code, then $ORATOR_MODELS_DIR."""
    dirs = [BUNDLED_DIR]
    if os.environ.get(MODELS_DIR_ENV):
        dirs.append(Path(os.environ[MODELS_DIR_ENV]))
    return dirs


def shipped_model(name: str) -> Path:
    """The first existing `name` in model_dirs(); when none has it, the path beside the code."""
    for folder in model_dirs():
        if (folder / name).is_file():
            return folder / name
    return BUNDLED_DIR / name


def missing_model_message(name: str, option: str) -> str:
    """One actionable line for a shipped model that is not installed."""
    return (f"the neural model {name} is not installed: install the Orator models zip from the Orator "
            f"preferences (or set {MODELS_DIR_ENV}), or pass {option} with your own checkpoint")
