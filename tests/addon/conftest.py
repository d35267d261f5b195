"""The add-on as users get it: built with Blender's own extension builder and installed into a private
user repository of the real bpy 5.0.1 module; the backend runs as the worker child process."""
from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NODE_DIR = Path(__file__).resolve().parent / ".node"
VALIDATOR_VERSION = "2.0.0-dev.3.10"


def blender_ext_cli() -> Path:
    import bpy

    return Path(bpy.utils.system_resource("SCRIPTS")) / "addons_core" / "bl_pkg" / "cli" / "blender_ext.py"


@pytest.fixture(scope="session")
def extension_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ext") / "orator.zip"
    run = subprocess.run([sys.executable, str(blender_ext_cli()), "build", "--source-dir", str(REPO),
                          "--output-filepath", str(out)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    return out


@pytest.fixture(scope="session")
def addon(extension_zip):
    """The installed, enabled extension's package module (bl_ext.user_default.orator)."""
    import bpy

    result = bpy.ops.extensions.package_install_files(filepath=str(extension_zip), repo="user_default",
                                                      enable_on_install=True)
    assert result == {"FINISHED"}
    name = "bl_ext.user_default.orator"
    assert name in bpy.context.preferences.addons
    module = importlib.import_module(name)
    yield module
    import addon_utils

    addon_utils.disable(name)  # stops the worker (the package's unregister)
    bpy.ops.extensions.package_uninstall(repo_index=_repo_index("user_default"), pkg_id="orator")


def _repo_index(module: str) -> int:
    import bpy

    return next(i for i, r in enumerate(bpy.context.preferences.extensions.repos) if r.module == module)


@pytest.fixture(scope="session")
def gltf_validator() -> Path:
    """node_modules holding the Khronos glTF-Validator (installed with npm into tests/addon/.node)."""
    modules = NODE_DIR / "node_modules"
    if not (modules / "gltf-validator").is_dir():
        try:
            subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(NODE_DIR),
                            f"gltf-validator@{VALIDATOR_VERSION}"], check=True, capture_output=True, timeout=300)
        except (OSError, subprocess.SubprocessError) as exc:
            pytest.skip(f"glTF-Validator unavailable: npm install gltf-validator failed ({exc.__class__.__name__}); "
                        "install Node.js/npm to run this check")
    return modules

