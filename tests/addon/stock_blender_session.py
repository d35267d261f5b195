"""One user session in an emulated stock Blender (a Python with only bpy + numpy), run by test_install.py.

    <stock python> stock_blender_session.py STEP ARGS_JSON REPORT_JSON

STEP "install": install the zip without wheels and see the sidebar say what is missing; uninstall it;
install the platform zip the way Blender's *Install from Disk* does, set no preference,
add the default character and generate a take from real speech; then check that an install of the
neural engines without a network says so in one line.
STEP "neural": (same HOME, the extension already installed) install the neural engines through the
preference's operator from a wheels folder, install the models zip, and generate with the neural face.
The report is JSON; the test asserts on it. bpy writes into $HOME, which the test points at a temp dir.
"""
from __future__ import annotations

import json
import os
import sys
import time

STEP, ARGS, REPORT = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
PACKAGE = "bl_ext.user_default.orator"


def generate(audio: str, face_engine: str = "builtin") -> dict:
    import bpy

    bpy.ops.wm.read_homefile(use_empty=True)
    assert bpy.ops.orator.add_character(source="DEFAULT") == {"FINISHED"}
    settings = bpy.context.scene.orator
    settings.audio = audio
    settings.face_engine = face_engine
    started = time.perf_counter()
    result = bpy.ops.orator.generate_from_audio()
    arm, mesh = settings.armature, settings.face_mesh
    action = arm.animation_data.action
    from bpy_extras.anim_utils import action_get_channelbag_for_slot

    face = action_get_channelbag_for_slot(action, mesh.data.shape_keys.animation_data.action_slot).fcurves
    jaw = next(fc for fc in face if fc.data_path == 'key_blocks["jawOpen"].value')
    body = action_get_channelbag_for_slot(action, arm.animation_data.action_slot).fcurves
    return {"result": sorted(result), "seconds": time.perf_counter() - started, "action": action.name,
            "face_curves": len(face), "body_curves": len(body), "frames": len(jaw.keyframe_points),
            "jaw_max": max(k.co[1] for k in jaw.keyframe_points),
            "jaw_values": [round(k.co[1], 5) for k in jaw.keyframe_points]}


def main() -> None:
    import bpy

    report: dict = {"sys_executable": sys.executable}
    if STEP == "install":
        # the zip without wheels (what `blender_ext.py build` makes of the bare repository): the sidebar
        # says what is missing and how to fix it, then the user installs the platform zip instead
        assert bpy.ops.extensions.package_install_files(filepath=ARGS["plain_zip"], repo="user_default",
                                                        enable_on_install=True) == {"FINISHED"}
        try:
            generate(ARGS["audio"])
            report["without_wheels"] = "generated"
        except RuntimeError as exc:
            report["without_wheels"] = str(exc)
        repo_index = next(i for i, r in enumerate(bpy.context.preferences.extensions.repos)
                          if r.module == "user_default")
        assert bpy.ops.extensions.package_uninstall(repo_index=repo_index, pkg_id="orator") == {"FINISHED"}
        started = time.perf_counter()
        result = bpy.ops.extensions.package_install_files(filepath=ARGS["zip"], repo="user_default",
                                                          enable_on_install=True)
        report["install"] = sorted(result)
        report["install_seconds"] = time.perf_counter() - started
    else:
        import addon_utils

        addon_utils.enable(PACKAGE, default_set=True)  # already installed by the first session
    import importlib

    backend_python = importlib.import_module(f"{PACKAGE}.addon.backend_python")
    status = importlib.import_module(f"{PACKAGE}.addon.backend_status")
    prefs = bpy.context.preferences.addons[PACKAGE].preferences
    report["prefs_python"] = prefs.python
    report["sys_path_wheels"] = [p for p in sys.path if os.sep + ".local" + os.sep in p]
    backend = prefs.backend()
    report["backend"] = {"executable": backend.executable, "paths": list(backend.paths), "origin": backend.origin}
    probe = backend_python.probe_now(backend)
    report["probe"] = {"error": probe.error, "available": (probe.info or {}).get("available"),
                       "python": (probe.info or {}).get("python")}
    report["status"] = status.backend_status(bpy.context).text
    report["face_items"] = [i[1] for i in status.engine_items(bpy.context, "face")]

    if STEP == "install":
        report["builtin"] = generate(ARGS["audio"])
        report["status_after"] = status.backend_status(bpy.context).text
        # the neural face is not installed yet: the sidebar choice fails with what is missing and the fix
        try:
            generate(ARGS["audio"], face_engine="neural")
            report["neural_before_install"] = "generated"
        except RuntimeError as exc:
            report["neural_before_install"] = str(exc)
        # no network: one line that says so (pip told to use an unreachable index and no local wheels)
        saved = {k: os.environ.get(k) for k in ("PIP_INDEX_URL", "PIP_CONFIG_FILE", "PIP_FIND_LINKS")}
        os.environ.update(PIP_INDEX_URL="https://pypi.invalid/simple", PIP_CONFIG_FILE=os.devnull,
                          PIP_FIND_LINKS="")
        try:
            bpy.ops.orator.install_neural_engines()
            report["offline"] = "installed"
        except RuntimeError as exc:
            report["offline"] = str(exc)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    else:
        prefs.wheels_dir = ARGS["wheels_dir"]
        started = time.perf_counter()
        report["neural_install"] = sorted(bpy.ops.orator.install_neural_engines())
        report["neural_install_seconds"] = time.perf_counter() - started
        report["models_install"] = sorted(bpy.ops.orator.install_models(filepath=ARGS["models_zip"]))
        after = backend_python.probe_now(prefs.backend())
        report["probe_after"] = {"error": after.error, "available": (after.info or {}).get("available")}
        report["backend_after"] = list(prefs.backend().paths)
        report["face_items_after"] = [i[1] for i in status.engine_items(bpy.context, "face")]
        report["neural"] = generate(ARGS["audio"], face_engine="neural")
    with open(REPORT, "w", encoding="utf-8") as fh:
        json.dump(report, fh)


if __name__ == "__main__":
    main()
