"""The sidebar's inputs, stored on the scene (`scene.orator`), and the window-manager progress state."""
from __future__ import annotations

import bpy

from ..backend.vocabulary.choices import EMOTIONS, MAX_TAKES
from .body_engine import BODY_ENGINE_ITEMS, on_engine_or_folder_changed


def character_chosen(cls, context) -> bool:
    """Operator poll: a character is chosen in the sidebar; else the tooltip says to choose one."""
    if context.scene.orator.armature is None:
        cls.poll_message_set("Choose a character first")
        return False
    return True


def _face_engine_items(_self, context) -> list:
    from .backend_setup import engine_items  # labels say which engines the backend Python has installed
    return engine_items(context, "face")


def _is_armature(_self, obj) -> bool:
    return obj.type == "ARMATURE"


def _has_shape_keys(_self, obj) -> bool:
    return obj.type == "MESH" and obj.data.shape_keys is not None


class OratorSceneSettings(bpy.types.PropertyGroup):
    armature: bpy.props.PointerProperty(name="Character", type=bpy.types.Object, poll=_is_armature,
                                        description="Armature that receives the body motion")
    face_mesh: bpy.props.PointerProperty(name="Face", type=bpy.types.Object, poll=_has_shape_keys,
                                         description="Mesh whose ARKit shape keys receive the face motion")
    audio: bpy.props.StringProperty(name="Audio", subtype="FILE_PATH",
                                    description="Speech recording (wav, flac, ogg, mp3, …)")
    transcript: bpy.props.StringProperty(name="Transcript",
                                         description="Optional: the exact words spoken (better lip timing)")
    transcript_file: bpy.props.StringProperty(name="Transcript file", subtype="FILE_PATH",
                                              description="Optional: a text file with the words spoken")
    recognizer: bpy.props.EnumProperty(
        name="Lip timing", default="words",
        items=(("words", "Recognise words", "Without a transcript: recognise the words, then align their "
                "sounds (lips close on the real p/b/m; about 0.08 s of CPU per second of audio)"),
               ("phones", "Fast", "Without a transcript: recognise sounds directly (several times faster, "
                "lips often close in the wrong places)")),
        description="How phone timing is found when no transcript is given")
    language: bpy.props.EnumProperty(
        name="Language", default="auto",
        items=(("auto", "Auto", "English words and transcripts when the speech sounds English; otherwise "
                "(Mandarin, French, …) the mouth follows the sound, with a warning"),
               ("en", "English", "Always use English words (recognised, or the transcript)"),
               ("other", "Other language", "Any language: the mouth follows the sound, no English words")),
        description="Language of the speech: English lip timing needs English speech")
    emotion: bpy.props.EnumProperty(name="Emotion", items=[(e, e.capitalize(), "") for e in EMOTIONS],
                                    default="neutral")
    intensity: bpy.props.FloatProperty(name="Intensity", default=0.5, min=0.0, max=1.0, subtype="FACTOR")
    seed: bpy.props.IntProperty(name="Seed", default=0, min=0)
    takes: bpy.props.IntProperty(name="Takes", default=1, min=1, max=MAX_TAKES,
                                 description="Different performances of the same audio")
    add_sound: bpy.props.BoolProperty(name="Add audio to the timeline", default=True)
    body_engine: bpy.props.EnumProperty(name="Body engine", items=BODY_ENGINE_ITEMS, default="builtin",
                                        update=on_engine_or_folder_changed,
                                        description="What makes the body motion")
    emage_status: bpy.props.StringProperty(name="EMAGE folder problem", default="",
                                           description="Why the EMAGE folder cannot be used ('' when it can)")
    smplx_model: bpy.props.StringProperty(name="SMPL-X model", subtype="FILE_PATH",
                                          description="Your SMPL-X model .npz (folder from the preferences)")
    face_engine: bpy.props.EnumProperty(name="Face engine", items=_face_engine_items,
                                        description="How the face moves: built-in rules, or the learned model "
                                                    "(installed from the preferences)")


class OratorProgress(bpy.types.PropertyGroup):
    running: bpy.props.BoolProperty(default=False)
    fraction: bpy.props.FloatProperty(default=0.0, min=0.0, max=1.0, subtype="FACTOR")
    stage: bpy.props.StringProperty(default="")


CLASSES = (OratorSceneSettings, OratorProgress)


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.Scene.orator = bpy.props.PointerProperty(type=OratorSceneSettings)
    bpy.types.WindowManager.orator_progress = bpy.props.PointerProperty(type=OratorProgress)


def unregister() -> None:
    del bpy.types.WindowManager.orator_progress
    del bpy.types.Scene.orator
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
