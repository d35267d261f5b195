"""Sidebar panels: character, audio and performance settings, Generate from Audio with progress, takes,
prompts, export."""
from __future__ import annotations

import bpy

from ..addon.takes import active_take, take_actions
from .backend_status import draw_status_line


class OratorPanel:
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Orator"


class CharacterPanel(OratorPanel):
    """A sub-panel shown once a character is chosen."""

    @classmethod
    def poll(cls, context):
        return context.scene.orator.armature is not None


class ORATOR_PT_main(OratorPanel, bpy.types.Panel):
    bl_idname = "ORATOR_PT_main"
    bl_label = "Orator"

    def draw(self, context):
        layout = self.layout
        settings = context.scene.orator
        progress = context.window_manager.orator_progress

        box = layout.box()
        box.label(text="Character", icon="ARMATURE_DATA")
        row = box.row(align=True)
        row.operator("orator.add_character", text="Default").source = "DEFAULT"
        row.operator("orator.add_character", text="SMPL-X").source = "SMPLX"
        row.operator("orator.add_character", text="Selected").source = "SELECTED"
        box.prop(settings, "armature")
        box.prop(settings, "face_mesh")
        box.prop(settings, "smplx_model")

        col = layout.column()
        col.prop(settings, "audio")
        col.prop(settings, "transcript")
        col.prop(settings, "transcript_file")
        sub = col.row()
        sub.active = not (settings.transcript.strip() or settings.transcript_file)  # a transcript is exact
        sub.prop(settings, "recognizer")
        col.prop(settings, "language")
        col.prop(settings, "emotion")
        col.prop(settings, "intensity")
        row = col.row(align=True)
        row.prop(settings, "seed")
        row.prop(settings, "takes")
        col.prop(settings, "add_sound")
        col.prop(settings, "body_engine")
        if settings.body_engine == "emage" and settings.emage_status:
            col.label(text=settings.emage_status, icon="ERROR")
        col.prop(settings, "face_engine")

        draw_status_line(layout, context)
        if progress.running:
            layout.progress(factor=progress.fraction, type="BAR",
                            text=f"{progress.stage} {progress.fraction * 100:.0f}% (Esc cancels)")
        else:
            layout.operator("orator.generate_from_audio", icon="SPEAKER")
        row = layout.row(align=True)  # live (issue 17): microphone → face and head
        if _live_running():
            error = _live_error()
            if error:
                layout.label(text=error, icon="ERROR")
            row.operator("orator.live_stop", icon="PAUSE")
        else:
            row.operator("orator.live_start", icon="OUTLINER_OB_SPEAKER").record = False
            row.operator("orator.live_start", text="Record", icon="REC").record = True


class ORATOR_PT_takes(CharacterPanel, bpy.types.Panel):
    bl_idname = "ORATOR_PT_takes"
    bl_label = "Takes"
    bl_parent_id = "ORATOR_PT_main"

    def draw(self, context):
        layout = self.layout
        armature_obj = context.scene.orator.armature
        takes = take_actions(armature_obj)
        if not takes:
            layout.label(text="No takes yet")
        playing = active_take(armature_obj)
        for action in takes:
            icon = "PLAY" if action == playing else "ACTION"
            layout.operator("orator.use_take", text=action.name, icon=icon,
                            depress=action == playing).action_name = action.name


class ORATOR_PT_prompts(CharacterPanel, bpy.types.Panel):
    """Prompt mode: pose the character, Add Prompt; every take then holds that pose there."""

    bl_idname = "ORATOR_PT_prompts"
    bl_label = "Prompts"
    bl_parent_id = "ORATOR_PT_main"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        layout = self.layout
        armature_obj = context.scene.orator.armature
        settings = context.scene.orator_prompt_settings
        col = layout.column(align=True)
        col.prop(settings, "use_bones")
        if not settings.use_bones:
            col.row(align=True).prop(settings, "parts")
        col.prop(settings, "hold_frames")
        layout.operator("orator.add_prompt", icon="POSE_HLT")
        layout.template_list("ORATOR_UL_prompts", "", armature_obj, "orator_prompts", armature_obj,
                             "orator_prompt_index", rows=3)
        layout.label(text=f"Keys on the action '{armature_obj.name} prompts' are prompts too", icon="INFO")


class ORATOR_UL_prompts(bpy.types.UIList):
    """Prompt list rows: enable, frame range, parts, delete."""

    def draw_item(self, context, layout, data, item, icon, active_data, active_propname, index):
        row = layout.row(align=True)
        row.prop(item, "enabled", text="")
        span = f"{item.frame_start}" if item.frame_end == item.frame_start else f"{item.frame_start}–{item.frame_end}"
        row.label(text=f"{span}  {item.label}")
        row.operator("orator.remove_prompt", text="", icon="X", emboss=False).index = index


class ORATOR_PT_export(OratorPanel, bpy.types.Panel):
    bl_idname = "ORATOR_PT_export"
    bl_label = "Export"
    bl_parent_id = "ORATOR_PT_main"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        row = self.layout.row(align=True)
        row.operator("orator.export", text="glTF (.glb)").format = "GLB"
        row.operator("orator.export", text="FBX").format = "FBX"


CLASSES = (ORATOR_UL_prompts, ORATOR_PT_main, ORATOR_PT_takes, ORATOR_PT_prompts, ORATOR_PT_export)


def _live_running() -> bool:
    from ..addon import live_session
    return live_session.current() is not None


def _live_error() -> str:
    from ..addon import live_session
    s = live_session.current()
    return s.last_error if s is not None else ""
