"""The backend's state where people look: one status line in the sidebar, the report and the neural
engines' install in the preferences. Everything shown comes from addon/backend_status.py."""
from __future__ import annotations

from ..addon.backend_status import backend_status, install_state, probe_for_ui
from ..addon.neural_install import TORCH_VERSION, installed_site_packages
from ..addon.preferences import user_dir

INFO_ROWS = ("python", "numpy", "scipy", "soundfile", "pocketsphinx", "torch", "device")


def draw_status_line(layout, context) -> None:
    status = backend_status(context)
    col = layout.column(align=True)
    col.label(text=status.text, icon=status.icon)
    if status.fix:
        col.label(text=status.fix, icon="BLANK1")


def draw_backend_report(layout, context, prefs) -> None:
    """What `python -m backend info` found with the chosen Python, and a button to run it again."""
    python = prefs.backend()
    row = layout.row()
    row.label(text=f"Using {python.origin}: {python.executable}")
    row.operator("orator.test_backend", text="Test", icon="FILE_REFRESH")
    result = probe_for_ui(context)
    if result is None:
        layout.label(text="Testing this Python…", icon="SORTTIME")
        return
    if result.error:
        layout.label(text=result.error, icon="ERROR")
        return
    col = layout.column(align=True)
    for key in INFO_ROWS:
        col.label(text=f"{key}: {result.info.get(key, '?')}")
    for part in ("body", "face"):
        for name in ("builtin", "neural"):
            if result.ready(part, name):
                col.label(text=f"{part} engine {name}: ready", icon="CHECKMARK")
            else:
                col.label(text=f"{part} engine {name}: needs {', '.join(result.missing(part, name))}",
                          icon="ERROR" if name == "builtin" else "INFO")


def draw_neural_install(layout, context, prefs) -> None:
    """Install neural engines (torch into the user folder) with progress and cancel; Install Models."""
    layout.label(text=f"Neural engines (torch {TORCH_VERSION}, installed into Orator's user folder)")
    install = install_state()
    if install is not None and not install.finished:
        layout.progress(factor=install.fraction, type="BAR", text=f"{install.stage} {install.fraction * 100:.0f}%")
        layout.operator("orator.cancel_neural_install", icon="CANCEL")
        return
    if install is not None and install.error and install.error != "cancelled":
        layout.label(text=f"Last install failed: {install.error}", icon="ERROR")
    folder = user_dir()
    installed = bool(folder and installed_site_packages(folder))
    row = layout.row()
    row.prop(prefs, "torch_variant", expand=True)
    layout.prop(prefs, "wheels_dir")
    row = layout.row()
    row.operator("orator.install_neural_engines", text="Reinstall Neural Engines" if installed
                 else "Install Neural Engines", icon="IMPORT")
    row.operator("orator.install_models", icon="FILE_FOLDER")
    if installed:
        layout.label(text=f"Installed in {folder}", icon="CHECKMARK")
