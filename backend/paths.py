"""Where the shared data folder is (training and evaluation commands read real speech and face data)."""
from __future__ import annotations

import os
from pathlib import Path


def default_shared_dir() -> Path:
    """$ORATOR_SHARED, else ../shared beside the repository."""
    if os.environ.get("ORATOR_SHARED"):
        return Path(os.environ["ORATOR_SHARED"])
    return Path(__file__).resolve().parents[2] / "shared"
