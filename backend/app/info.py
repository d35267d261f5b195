"""`python -m backend info`: versions, compute device and engines, for bug reports and the add-on.

`available` is the machine-readable part the add-on reads to test a Python before using it: which
engines can run there and, for each that cannot, what is missing. It never fails on a Python that
lacks packages (that is what it is there to report).
"""
from __future__ import annotations

import importlib.util
import platform
import sys

from .. import __version__


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


# What each engine imports beyond the standard library (module names), and the shipped model it reads.
BUILTIN_MODULES = ("numpy", "scipy", "soundfile", "pocketsphinx")
NEURAL_MODULES = BUILTIN_MODULES + ("torch",)


def _missing_modules(modules: tuple[str, ...]) -> list[str]:
    missing = []
    for name in modules:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


def availability() -> dict:
    """{"body": {engine: {"ready": bool, "missing": [...]}}, "face": {...}}; missing names modules and models."""
    from ..models import BODY_MODEL, FACE_MODEL, shipped_model

    def engine(modules: tuple[str, ...], model: str | None = None) -> dict:
        missing = _missing_modules(modules)
        if model is not None and not shipped_model(model).is_file():
            missing.append(model)
        return {"ready": not missing, "missing": missing}

    return {"body": {"builtin": engine(BUILTIN_MODULES), "neural": engine(NEURAL_MODULES, BODY_MODEL)},
            "face": {"builtin": engine(BUILTIN_MODULES), "neural": engine(NEURAL_MODULES, FACE_MODEL)}}


def collect_info() -> dict:
    available = availability()
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
    try:
        from ..engines.registry import BODY_ENGINES, FACE_ENGINES
        info["body_engines"] = ", ".join(BODY_ENGINES)
        info["face_engines"] = ", ".join(FACE_ENGINES)
    except ImportError:  # no numpy: still report what is missing
        info["body_engines"] = ", ".join(available["body"])
        info["face_engines"] = ", ".join(available["face"])
    info["ready"] = ", ".join(f"{part} {name}" for part, engines in available.items()
                              for name, state in engines.items() if state["ready"]) or "nothing"
    info["available"] = available
    return info
