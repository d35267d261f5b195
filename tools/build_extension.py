#!/usr/bin/env python3.11
"""Build the installable extension zips: one per platform with the built-in engines' wheels inside, and
a separate models zip with the neural engines' checkpoints.

    .venv/bin/python tools/build_extension.py                      # every platform in the manifest
    .venv/bin/python tools/build_extension.py --platform linux-x64 # just one (what the tests build)

Writes build/dist/orator-<version>-<platform>.zip (install it in Blender: Get Extensions → Install from
Disk) and build/dist/orator-models-<version>.zip (install it from the Orator preferences).

Steps, all with the tools Blender extension authors use:
1. `pip download --only-binary=:all: --platform … --python-version 3.11` fetches the wheels pinned in
   tools/extension_wheels.txt for each platform into build/wheels/<platform>/ (kept between builds,
   refetched when the pins change; pip's own cache makes a refetch cheap).
2. The extension's files are staged in build/stage/ with a manifest that lists those wheels
   (`wheels = [...]`); the repository itself stays free of binaries.
3. Blender's own builder (`blender_ext.py build --split-platforms`, the `blender --command extension
   build` code, shipped inside the bpy module) writes one zip per platform holding only that platform's
   wheels.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import shutil
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUILD = REPO / "build"
MANIFEST = REPO / "blender_manifest.toml"
WHEEL_PINS = REPO / "tools" / "extension_wheels.txt"
CHECKPOINTS = REPO / "backend" / "checkpoints"
PYTHON_VERSION = "3.11"  # Blender 4.2 – 5.0 run Python 3.11
# pip platform tags per Blender platform, most preferred first. Linux: glibc 2.28 is Blender's own
# baseline (VFX platform); macOS: the oldest system each wheel supports is accepted (pip expands
# these to older tags, e.g. pocketsphinx's macosx_10_9_universal2; scipy 1.17 on arm64 needs macOS 12).
PIP_PLATFORMS = {
    "linux-x64": ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"),
    "windows-x64": ("win_amd64",),
    "macos-arm64": ("macosx_11_0_arm64", "macosx_12_0_arm64", "macosx_13_0_arm64", "macosx_14_0_arm64"),
    "macos-x64": ("macosx_10_13_x86_64", "macosx_10_15_x86_64", "macosx_11_0_x86_64", "macosx_12_0_x86_64",
                  "macosx_13_0_x86_64", "macosx_14_0_x86_64"),
}


class BuildError(RuntimeError):
    """A step of the build failed; the message says which and why."""


@dataclass(frozen=True)
class BuildResult:
    extension_zips: dict[str, Path]   # Blender platform → zip
    models_zip: Path


def manifest() -> dict:
    return tomllib.loads(MANIFEST.read_text(encoding="utf-8"))


def blender_ext_cli() -> Path:
    """Blender's extension command line (`blender --command extension`), from the installed bpy module."""
    spec = importlib.util.find_spec("bpy")
    if spec is None or spec.origin is None:
        raise BuildError("the bpy module is not installed in this Python: run with .venv/bin/python, "
                         "or pass --blender-ext <Blender>/<version>/scripts/addons_core/bl_pkg/cli/blender_ext.py")
    found = sorted(Path(spec.origin).parent.glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
    if not found:
        raise BuildError(f"Blender's extension builder not found in {Path(spec.origin).parent}")
    return found[-1]


def _pins_digest(platform: str) -> str:
    text = WHEEL_PINS.read_text(encoding="utf-8") + PYTHON_VERSION + " ".join(PIP_PLATFORMS[platform])
    return hashlib.sha256(text.encode()).hexdigest()


def fetch_wheels(platform: str, python: str = sys.executable) -> list[Path]:
    """The pinned wheels for one Blender platform, downloaded into build/wheels/<platform>/ once."""
    if platform not in PIP_PLATFORMS:
        raise BuildError(f"no wheel platform tags for '{platform}': known {', '.join(PIP_PLATFORMS)}")
    folder = BUILD / "wheels" / platform
    stamp = folder / ".pins.sha256"
    if stamp.is_file() and stamp.read_text() == _pins_digest(platform):
        return sorted(folder.glob("*.whl"))
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    command = [python, "-m", "pip", "download", "--disable-pip-version-check", "--quiet", "--no-deps",
               "--only-binary=:all:", "--python-version", PYTHON_VERSION, "--implementation", "cp",
               "--dest", str(folder), "--requirement", str(WHEEL_PINS)]
    for tag in PIP_PLATFORMS[platform]:
        command += ["--platform", tag]
    run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode != 0:
        raise BuildError(f"pip could not download the wheels for {platform}:\n{run.stderr.strip()[-2000:]}")
    wheels = sorted(folder.glob("*.whl"))
    pinned = [line.split("==")[0] for line in WHEEL_PINS.read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    if len(wheels) != len(pinned):
        raise BuildError(f"expected {len(pinned)} wheels for {platform}, pip gave {[w.name for w in wheels]}")
    stamp.write_text(_pins_digest(platform))
    return wheels


def _top_level_excludes(data: dict) -> set[str]:
    """Top-level folders the manifest keeps out of the zip (not worth copying into the stage)."""
    patterns = data.get("build", {}).get("paths_exclude_pattern", [])
    return {p.strip("/") for p in patterns if p.startswith("/") and p.endswith("/") and p.count("/") == 2}


def _manifest_with_wheels(platforms: list[str], wheel_names: list[str]) -> str:
    """The repository's manifest with `platforms` narrowed to those built and `wheels` listed.

    Inserted as top-level keys before the first table; the rest of the text is kept as written.
    """
    lines = MANIFEST.read_text(encoding="utf-8").splitlines()
    first_table = next(i for i, line in enumerate(lines) if line.startswith("["))
    kept = [line for line in lines[:first_table] if not line.startswith(("platforms", "wheels"))]
    generated = [f"platforms = [{', '.join(repr(p).replace(chr(39), chr(34)) for p in platforms)}]",
                 "# Written by tools/build_extension.py from tools/extension_wheels.txt",
                 "wheels = ["] + [f'  "./wheels/{name}",' for name in wheel_names] + ["]", ""]
    return "\n".join(kept + generated + lines[first_table:]) + "\n"


def stage(platforms: list[str], wheels: list[Path]) -> Path:
    """build/stage: the extension's files, its wheels in wheels/ and the manifest listing them."""
    data = manifest()
    skip_top = _top_level_excludes(data) | {".git"}
    target = BUILD / "stage"
    shutil.rmtree(target, ignore_errors=True)

    def ignore(folder: str, names: list[str]) -> set[str]:
        top = Path(folder).resolve() == REPO
        return {n for n in names if n in ("__pycache__", "node_modules") or (top and n in skip_top)}

    shutil.copytree(REPO, target, ignore=ignore, symlinks=False)
    (target / "wheels").mkdir()
    names = sorted({w.name for w in wheels})
    for wheel in wheels:
        shutil.copy2(wheel, target / "wheels" / wheel.name)
    (target / "blender_manifest.toml").write_text(_manifest_with_wheels(platforms, names), encoding="utf-8")
    return target


def build_models_zip(out_dir: Path) -> Path:
    """orator-models-<version>.zip: the neural engines' checkpoints (and their model cards) under checkpoints/."""
    path = out_dir / f"orator-models-{manifest()['version']}.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for item in sorted(CHECKPOINTS.iterdir()):
            if item.suffix in (".pt", ".md"):
                zf.write(item, f"checkpoints/{item.name}")
    return path


def build(platforms: list[str] | None = None, out_dir: Path | None = None,
          builder: Path | None = None) -> BuildResult:
    declared = manifest().get("platforms", [])
    platforms = list(platforms or declared)
    unknown = [p for p in platforms if p not in declared]
    if unknown:
        raise BuildError(f"platform(s) {', '.join(unknown)} not in the manifest's platforms {declared}")
    out_dir = out_dir or BUILD / "dist"
    out_dir.mkdir(parents=True, exist_ok=True)
    wheels = [w for p in platforms for w in fetch_wheels(p)]
    source = stage(platforms, wheels)
    version = manifest()["version"]
    output = out_dir / f"orator-{version}.zip"
    run = subprocess.run([sys.executable, str(builder or blender_ext_cli()), "build", "--split-platforms",
                          "--source-dir", str(source), "--output-filepath", str(output)],
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise BuildError(f"Blender's extension builder failed:\n{(run.stdout + run.stderr).strip()[-2000:]}")
    zips = {p: out_dir / f"orator-{version}-{p.replace('-', '_')}.zip" for p in platforms}
    missing = [str(z) for z in zips.values() if not z.is_file()]
    if missing:
        raise BuildError(f"the builder did not write {', '.join(missing)}:\n{run.stdout[-2000:]}")
    return BuildResult(zips, build_models_zip(out_dir))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--platform", action="append", dest="platforms",
                        help="a Blender platform (linux-x64, windows-x64, macos-arm64, macos-x64); "
                             "repeat for several (default: all the manifest declares)")
    parser.add_argument("--out", type=Path, help="output folder (default: build/dist)")
    parser.add_argument("--blender-ext", type=Path, help="Blender's blender_ext.py (default: the bpy module's)")
    args = parser.parse_args(argv)
    try:
        result = build(args.platforms, args.out, args.blender_ext)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in [*result.extension_zips.values(), result.models_zip]:
        print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
