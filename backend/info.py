"""`python -m backend info`: versions, compute device and engines, for bug reports and the add-on."""
from __future__ import annotations

import platform
import sys

from . import __version__


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def collect_info() -> dict:
    from .engines.registry import BODY_ENGINES, FACE_ENGINES

    info = {
        "orator": __version__,
        "python": f"{platform.python_implementation()} {sys.version.split()[0]} ({sys.executable})",
        "platform": platform.platform(),
        "numpy": _version("numpy"),
        "scipy": _version("scipy"),
        "soundfile": _version("soundfile"),
        "pocketsphinx": _version("pocketsphinx"),
        "torch": _version("torch"),
    }
    try:
        import soundfile
        info["libsndfile"] = soundfile.__libsndfile_version__
    except Exception:  # noqa: BLE001
        info["libsndfile"] = "not available"
    device = "cpu"
    try:
        import torch
        if torch.cuda.is_available():
            device = f"cuda ({torch.cuda.get_device_name(0)})"
        info["torch_threads"] = torch.get_num_threads()
    except Exception:  # noqa: BLE001
        pass
    info["device"] = device
    info["body_engines"] = ", ".join(BODY_ENGINES)
    info["face_engines"] = ", ".join(FACE_ENGINES)
    return info
