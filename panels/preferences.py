"""Orator's entry in Preferences → Add-ons: the backend Python and its report, the neural engines' install,
the device, model folders, job timeout. The properties are `addon.properties.PreferenceProperties`."""
from __future__ import annotations

import bpy

from ..addon.preferences import ROOT_PACKAGE
from ..addon.properties import PreferenceProperties
from .backend_status import draw_backend_report, draw_neural_install


class OratorPreferences(PreferenceProperties, bpy.types.AddonPreferences):
    bl_idname = ROOT_PACKAGE

    def draw(self, context):
        layout = self.layout
        box = layout.box()
        box.prop(self, "python")
        draw_backend_report(box, context, self)
        draw_neural_install(layout.box(), context, self)
        layout.prop(self, "device")
        layout.prop(self, "emage_dir")
        layout.prop(self, "smplx_dir")
        layout.prop(self, "job_timeout_s")
        layout.prop(self, "keep_job_files")
