"""The backend-Python pieces of the installed add-on on their own: the environment the worker child gets,
the probe of a wrong Python, the models zip, and a neural install cancelled half-way (real pip, real
torch wheel) leaving nothing behind."""
from __future__ import annotations

import importlib
import os
import sys
import time
import zipfile
from pathlib import Path

import pytest

from .test_install import TORCH_WHEEL_GLOB, local_torch_wheels

pytestmark = pytest.mark.blender


@pytest.fixture(scope="module")
def mods(addon):
    name = addon.__name__
    return (importlib.import_module(f"{name}.addon.backend_python"),
            importlib.import_module(f"{name}.addon.neural_install"),
            importlib.import_module(f"{name}.backend.errors"))


def test_default_backend_is_blenders_python_with_the_extension_wheels_on_its_path(addon, mods, tmp_path):
    import bpy

    backend_python, _, _ = mods
    prefs = bpy.context.preferences.addons[addon.__name__].preferences
    backend = prefs.backend()
    wheels = os.path.join(bpy.utils.user_resource("EXTENSIONS"), ".local", "lib", "python3.11", "site-packages")
    assert (backend.executable, backend.paths, backend.origin) == (sys.executable, (wheels,), "Blender's Python")
    env = backend.environment({"PYTHONPATH": "/elsewhere", "PATH": "/bin"})
    assert env["PYTHONPATH"] == os.pathsep.join([wheels, "/elsewhere"]) and env["PATH"] == "/bin"
    assert env["ORATOR_MODELS_DIR"].endswith(os.path.join("orator", "models"))
    chosen = backend_python.resolve(str(tmp_path / "python"), None)
    assert chosen.paths == () and chosen.origin == "chosen in the preferences"


def test_probe_of_a_wrong_python_says_why(mods, tmp_path):
    backend_python, _, _ = mods
    missing = backend_python.probe(backend_python.BackendPython(str(tmp_path / "nope")))
    assert missing.error == f"{tmp_path / 'nope'} does not exist" and missing.info is None
    not_python = tmp_path / "notes.txt"
    not_python.write_text("hello")
    assert "is not a program" in backend_python.probe(backend_python.BackendPython(str(not_python))).error
    # a real Python without the add-on's packages on its path: the backend cannot start there
    isolated = backend_python.probe(backend_python.BackendPython(sys.executable), cwd=tmp_path)
    assert isolated.error.startswith("this Python cannot run the backend (") and "backend" in isolated.error


def test_models_zip_installs_checkpoints_only(mods, tmp_path):
    _, neural_install, errors = mods
    good = tmp_path / "orator-models.zip"
    with zipfile.ZipFile(good, "w") as zf:
        zf.writestr("checkpoints/face_generic.pt", b"weights")
        zf.writestr("checkpoints/../../escape.pt", b"x")
        zf.writestr("checkpoints/run.py", b"print('no')")
    assert neural_install.install_models_zip(good, tmp_path / "user") == ["escape.pt", "face_generic.pt"]
    assert sorted(p.name for p in (tmp_path / "user" / "models").iterdir()) == ["escape.pt", "face_generic.pt"]
    assert not (tmp_path / "escape.pt").exists()  # written by its base name, inside the folder
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("readme.txt", "hi")
    with pytest.raises(errors.UserError, match="is not an Orator models zip"):
        neural_install.install_models_zip(other, tmp_path / "user")
    with pytest.raises(errors.UserError, match="cannot read"):
        neural_install.install_models_zip(tmp_path / "absent.zip", tmp_path / "user")


def test_pip_command_sources_and_failure_lines(mods):
    _, neural_install, _ = mods
    cpu = neural_install.pip_command("py", Path("/t"), "cpu", platform="linux")
    assert cpu[:4] == ["py", "-m", "pip", "install"] and "torch==2.13.0" in cpu
    assert cpu[-2:] == ["--extra-index-url", "https://download.pytorch.org/whl/cpu"]
    assert "--extra-index-url" not in neural_install.pip_command("py", Path("/t"), "cpu", platform="darwin")
    assert neural_install.pip_command("py", Path("/t"), "cuda")[-1].endswith("/cu128")
    assert neural_install.pip_command("py", Path("/t"), "cpu", "/w")[-2:] == ["--find-links", "/w"]
    assert "offline" in neural_install.explain_pip_failure("... NewConnectionError(...) ...")
    assert "no pip" in neural_install.explain_pip_failure("/usr/bin/python: No module named pip")
    assert neural_install.explain_pip_failure("x\nERROR: disk full\n") == "ERROR: disk full"


def test_cancelled_install_leaves_nothing_behind(mods, tmp_path):
    _, neural_install, _ = mods
    wheels = local_torch_wheels()
    if wheels is None:
        pytest.skip(f"no local {TORCH_WHEEL_GLOB}")
    previous = tmp_path / "neural" / "site-packages" / "torch"
    previous.mkdir(parents=True)  # an earlier install stays usable when a reinstall is cancelled
    install = neural_install.NeuralInstall(sys.executable, tmp_path, "cpu", wheels).start()
    deadline = time.monotonic() + 120
    while install.fraction < 0.15 and not install.finished and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not install.finished, install.error
    install.cancel()
    install.wait(60)
    assert install.error == "cancelled" and not install.done
    assert not (tmp_path / "neural.partial").exists()
    assert previous.is_dir() and neural_install.installed_site_packages(tmp_path)
