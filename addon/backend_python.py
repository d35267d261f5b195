"""Which Python runs the backend, what it finds on its path, and what it can run there.

The default is Blender's own Python (`sys.executable` inside Blender) with the packages Blender installed
from the extension zip's wheels. Blender unpacks those into `<user extensions>/.local/lib/pythonX.Y/
site-packages` and adds that folder to its own `sys.path` (addon_utils); a child process does not inherit
`sys.path`, so the same folder goes on the child's PYTHONPATH, followed by the neural engines' folder once
*Install neural engines* has filled it. A Python chosen in the preferences runs as it is.

Whether a Python works is never guessed from its path: `python -m backend info --json` runs there and
reports which engines are ready and what is missing (`probe`). bpy is only imported by the functions that
ask Blender for its folders, so the rest is usable (and tested) without Blender.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..backend.models import MODELS_DIR_ENV

ADDON_DIR = Path(__file__).resolve().parents[1]   # the extension folder (holds backend/)
BLENDER_PYTHON = "Blender's Python"  # the origin of the default backend Python
PROBE_TIMEOUT_S = 60.0   # a cold start of numpy + scipy on a busy 2-core machine takes ~3 s


@dataclass(frozen=True)
class BackendPython:
    """An interpreter for `python -m backend` plus the folders put in front of its PYTHONPATH."""

    executable: str
    paths: tuple[str, ...] = ()
    origin: str = ""               # for people: "Blender's Python", "chosen in the preferences", …
    models_dir: str | None = None  # where the models zip was unpacked ($ORATOR_MODELS_DIR)

    def environment(self, base: dict | None = None) -> dict:
        env = dict(os.environ if base is None else base)
        paths = [p for p in self.paths if p]
        if env.get("PYTHONPATH"):
            paths.append(env["PYTHONPATH"])
        if paths:
            env["PYTHONPATH"] = os.pathsep.join(paths)
        else:
            env.pop("PYTHONPATH", None)
        if self.models_dir:
            env[MODELS_DIR_ENV] = self.models_dir
        return env


def venv_python(addon_dir: Path = ADDON_DIR) -> Path:
    """The project's own environment inside the add-on folder (a development checkout)."""
    return addon_dir / ".venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def site_packages_of(prefix: str | os.PathLike) -> str:
    """`<prefix>/lib/pythonX.Y/site-packages`: the layout Blender uses for extension wheels."""
    return os.path.join(prefix, "lib", "python{:d}.{:d}".format(*sys.version_info[:2]), "site-packages")


def extension_wheels_dir() -> str:
    """Where Blender installs extension wheels (the folder addon_utils adds to Blender's sys.path)."""
    import bpy

    return site_packages_of(os.path.join(bpy.utils.user_resource("EXTENSIONS"), ".local"))


def resolve(chosen: str, user_dir: str | None, addon_dir: Path = ADDON_DIR) -> BackendPython:
    """The backend's Python: the one chosen in the preferences; else a development checkout's `.venv`;
    else Blender's own Python with the extension's wheels and, when installed, the neural engines.

    `user_dir` is the extension's user folder (None when enabled as a legacy add-on).
    """
    from .neural_install import installed_site_packages

    models = os.path.join(user_dir, "models") if user_dir else None
    if chosen:
        return BackendPython(chosen, (), "chosen in the preferences", models)
    dev = venv_python(addon_dir)
    if dev.is_file():
        return BackendPython(str(dev), (), "this checkout's .venv", models)
    paths = [extension_wheels_dir()]
    neural = installed_site_packages(user_dir) if user_dir else None
    if neural:
        paths.append(neural)
    return BackendPython(sys.executable, tuple(paths), BLENDER_PYTHON, models)


@dataclass
class ProbeResult:
    """What `python -m backend info --json` said (info) or why it could not say anything (error)."""

    python: BackendPython
    info: dict | None = None
    error: str | None = None

    def ready(self, part: str, engine: str) -> bool:
        return bool(self.info and self.info.get("available", {}).get(part, {}).get(engine, {}).get("ready"))

    def missing(self, part: str, engine: str) -> list[str]:
        if self.info is None:
            return []
        return list(self.info.get("available", {}).get(part, {}).get(engine, {}).get("missing", []))


def probe(python: BackendPython, cwd: Path = ADDON_DIR, timeout: float = PROBE_TIMEOUT_S) -> ProbeResult:
    """Run `python -m backend info --json` on `python` (blocking) and read its report."""
    try:
        run = subprocess.run([python.executable, "-m", "backend", "info", "--json"], cwd=str(cwd),
                             env=python.environment(), capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        return ProbeResult(python, error=f"{python.executable} does not exist")
    except PermissionError:
        return ProbeResult(python, error=f"{python.executable} is not a program that can be run")
    except OSError as exc:
        return ProbeResult(python, error=f"cannot run {python.executable}: {exc.strerror or exc}")
    except subprocess.TimeoutExpired:
        return ProbeResult(python, error=f"{python.executable} did not answer within {timeout:.0f} s")
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["no output"])[-1]
        return ProbeResult(python, error=f"this Python cannot run the backend ({last})")
    try:
        return ProbeResult(python, info=json.loads(run.stdout))
    except json.JSONDecodeError:
        return ProbeResult(python, error="this Python answered, but not with the backend's report")


@dataclass
class _Probes:
    results: dict[BackendPython, ProbeResult] = field(default_factory=dict)
    running: dict[BackendPython, threading.Thread] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


_PROBES = _Probes()


def probe_cached(python: BackendPython, refresh: bool = False) -> ProbeResult | None:
    """The last probe of `python`; starts one on a helper thread when there is none (returns None until
    it is done), so panels can ask on every redraw without waiting."""
    with _PROBES.lock:
        if refresh:
            _PROBES.results.pop(python, None)
        if python in _PROBES.results:
            return _PROBES.results[python]
        if python not in _PROBES.running:
            def work() -> None:
                result = probe(python)
                with _PROBES.lock:
                    _PROBES.results[python] = result
                    _PROBES.running.pop(python, None)

            thread = threading.Thread(target=work, daemon=True, name="orator-probe")
            _PROBES.running[python] = thread
            thread.start()
    return None


def probe_now(python: BackendPython) -> ProbeResult:
    """The probe of `python`, waited for (scripts, background mode, operators that need the answer)."""
    result = probe_cached(python)
    while result is None:
        with _PROBES.lock:
            thread = _PROBES.running.get(python)
        if thread is not None:
            thread.join()
        result = probe_cached(python)
    return result


def forget_probes() -> None:
    """Drop every cached probe (after an install changed what a Python can import)."""
    with _PROBES.lock:
        _PROBES.results.clear()


def probing() -> bool:
    with _PROBES.lock:
        return bool(_PROBES.running)
