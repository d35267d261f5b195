"""The extension as a new user gets it: the platform zip built by tools/build_extension.py with Blender's
own builder, installed with Blender's own *Install from Disk* code into a Python that has only what
stock Blender ships (bpy 5.0.1 + numpy), no preference set, the default character speaking real speech.
Then the neural engines installed through the preference (torch from the local wheel) and the models
zip, and the neural face generated on the same Python.

The stock Python is a venv under build/ (made once, ~25 s from pip's cache; reused while its pins
hold); wheels are fetched once into build/wheels/. Each session runs in its own process, as Blender
would, with HOME pointed at a temp dir (bpy writes its user folders there).
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO

pytestmark = [pytest.mark.blender, pytest.mark.slow]  # builds the zips, installs into a stock Blender
STOCK_VENV = REPO / "build" / "stock-blender"
STOCK_PACKAGES = ["bpy==5.0.1", "numpy<2"]  # what Blender 5.0's own Python has that Orator uses
SESSION = Path(__file__).with_name("stock_blender_session.py")
CLIP = "LJ001-0002"  # 1.9 s of LJSpeech: real speech, keeps the two sessions quick
TORCH_WHEEL_GLOB = "torch-2.13.0*.whl"
_BUILTIN_TAKE: dict = {}  # the stock install's built-in take, to tell the neural face from it


def this_platform() -> str:
    system = {"Linux": "linux", "Windows": "windows", "Darwin": "macos"}.get(platform.system(), "?")
    machine = {"x86_64": "x64", "AMD64": "x64", "arm64": "arm64", "aarch64": "arm64"}.get(platform.machine(), "?")
    return f"{system}-{machine}"


def stock_python() -> Path:
    """A Python with bpy 5.0.1 and numpy<2 only: what a stock Blender 5.0 gives the add-on."""
    python = STOCK_VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    stamp = STOCK_VENV / ".orator-stock"
    if python.exists() and stamp.exists() and stamp.read_text() == " ".join(STOCK_PACKAGES):
        return python
    venv.EnvBuilder(with_pip=True, clear=True).create(STOCK_VENV)
    subprocess.run([str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", *STOCK_PACKAGES],
                   check=True, capture_output=True, timeout=900)
    stamp.write_text(" ".join(STOCK_PACKAGES))
    return python


def local_torch_wheels() -> str | None:
    """A folder holding the torch 2.13.0 wheel (pip's find-links), for an install without PyTorch's index."""
    for folder in os.environ.get("PIP_FIND_LINKS", "").split() + ["/opt/wheels"]:
        if folder and any(Path(folder).glob(TORCH_WHEEL_GLOB)):
            return folder
    return None


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    sys.path.insert(0, str(REPO / "tools"))
    try:
        from build_extension import PIP_PLATFORMS, build
    finally:
        sys.path.remove(str(REPO / "tools"))
    target = this_platform()
    if target not in PIP_PLATFORMS:
        pytest.skip(f"no extension build for this machine's platform ({target})")
    return build([target], tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def stock_home(tmp_path_factory):
    return tmp_path_factory.mktemp("stock_home")


def run_session(step: str, args: dict, home: Path, tmp_path: Path) -> dict:
    report = tmp_path / f"{step}.json"
    env = dict(os.environ, HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"))
    env.pop("PYTHONPATH", None)  # nothing of the development venv leaks in
    run = subprocess.run([str(stock_python()), str(SESSION), step, json.dumps(args), str(report)],
                         cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0 and report.is_file(), run.stdout[-3000:] + run.stderr[-3000:]
    return json.loads(report.read_text())


def test_platform_zip_bundles_wheels_and_leaves_models_out(built):
    (target, path), = built.extension_zips.items()
    names = zipfile.ZipFile(path).namelist()
    manifest = tomllib.loads(zipfile.ZipFile(path).read("blender_manifest.toml").decode())
    assert manifest["platforms"] == [target]
    wheels = {Path(w).name.split("-")[0].lower() for w in manifest["wheels"]}
    assert wheels == {"scipy", "soundfile", "cffi", "pycparser", "pocketsphinx", "typing_extensions", "sounddevice"}
    assert all(w.removeprefix("./") in names for w in manifest["wheels"])
    assert not any(n.endswith(".pt") for n in names)  # the neural checkpoints are in the models zip
    assert not any(n.startswith(("tests/", "tools/", "build/")) for n in names)
    models = zipfile.ZipFile(built.models_zip).namelist()
    assert {"checkpoints/body_small.pt", "checkpoints/face_generic.pt"} <= set(models)


def test_stock_blender_install_generates_with_no_preference_set(built, extension_zip, stock_home, tmp_path,
                                                                shared_dir):
    (target, path), = built.extension_zips.items()
    audio = shared_dir / "data" / "speech" / "ljspeech" / f"{CLIP}.wav"
    r = run_session("install", {"zip": str(path), "plain_zip": str(extension_zip), "audio": str(audio)},
                    stock_home, tmp_path)
    # the report, now with the fix in the message
    assert ("the built-in body engine needs scipy, soundfile, pocketsphinx: Install the Orator zip built for "
            "this platform") in r["without_wheels"]
    assert r["install"] == ["FINISHED"] and r["prefs_python"] == ""
    # Blender put the wheels into its extensions' site-packages and the backend child gets that folder
    site = str(stock_home / ".config" / "blender" / "5.0" / "extensions" / ".local" / "lib" / "python3.11" /
               "site-packages")
    assert r["sys_path_wheels"] == [site]
    assert r["backend"] == {"executable": r["sys_executable"], "paths": [site], "origin": "Blender's Python"}
    assert (Path(site) / "scipy").is_dir() and (Path(site) / "pocketsphinx").is_dir()
    # the preference's test ran `python -m backend info` there: built-in ready, neural says what it lacks
    available = r["probe"]["available"]
    assert r["probe"]["error"] is None and r["sys_executable"] in r["probe"]["python"]
    assert available["body"]["builtin"]["ready"] and available["face"]["builtin"]["ready"]
    assert available["face"]["neural"]["missing"] == ["torch", "face_generic.pt"]
    assert r["status"] == "Backend: ready (Blender's Python; built-in engines, neural not installed)"
    assert r["face_items"] == ["Built-in", "Neural (not installed)"]
    take = r["builtin"]
    _BUILTIN_TAKE.update(take)
    assert take["result"] == ["FINISHED"] and take["action"] == f"{CLIP} take 1"
    assert take["face_curves"] == 52 and take["body_curves"] > 200
    assert take["frames"] >= 40 and take["jaw_max"] > 0.1  # 1.9 s keyed every frame; the mouth opens
    assert r["status_after"].startswith("Backend: running")
    assert "neural face engine needs torch, face_generic.pt" in r["neural_before_install"]
    assert "Install neural engines" in r["neural_before_install"]
    assert "cannot reach the package index (offline?)" in r["offline"]
    assert r["offline"].count("\n") <= 1  # one line
    assert not (stock_home / ".config" / "blender" / "5.0" / "extensions" / ".user" / "user_default" / "orator" /
                "neural").exists()  # the failed install left nothing behind


@pytest.mark.install_neural
def test_neural_engines_install_through_the_preference(built, stock_home, tmp_path, shared_dir):
    """70-110 s wall (≈35 s of it pip unpacking the 192 MB torch wheel into ≈750 MB); still in the default suite."""
    wheels = local_torch_wheels()
    if wheels is None:
        pytest.skip(f"no local {TORCH_WHEEL_GLOB} (PIP_FIND_LINKS or /opt/wheels): the install would download it")
    if not (stock_home / ".config").is_dir():
        pytest.skip("needs the extension installed by test_stock_blender_install_generates_with_no_preference_set")
    audio = shared_dir / "data" / "speech" / "ljspeech" / f"{CLIP}.wav"
    r = run_session("neural", {"models_zip": str(built.models_zip), "wheels_dir": wheels, "audio": str(audio)},
                    stock_home, tmp_path)
    assert r["neural_install"] == ["FINISHED"] and r["models_install"] == ["FINISHED"]
    assert r["prefs_python"] == "" and r["backend"]["executable"] == r["sys_executable"]
    neural_site = r["backend_after"][1]
    assert neural_site.endswith(os.path.join("orator", "neural", "site-packages"))
    assert (Path(neural_site) / "torch").is_dir()
    assert r["probe_after"]["error"] is None
    assert r["probe_after"]["available"]["face"]["neural"] == {"ready": True, "missing": []}
    assert r["face_items_after"] == ["Built-in", "Neural"]
    take = r["neural"]
    assert take["result"] == ["FINISHED"] and take["face_curves"] == 52 and take["jaw_max"] > 0.1
    if _BUILTIN_TAKE:  # the learned mouth, not the built-in rules, moved the face
        assert len(take["jaw_values"]) == len(_BUILTIN_TAKE["jaw_values"])
        assert max(abs(a - b) for a, b in zip(take["jaw_values"], _BUILTIN_TAKE["jaw_values"])) > 0.05
