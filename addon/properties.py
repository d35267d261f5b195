"""Everything Orator stores: the sidebar's inputs on the scene (`scene.orator`), the window-manager progress
state, the prompts on the armature (`object.orator_prompts`) and what Add Prompt records, and the
add-on preferences' properties (registered by `panels.preferences`, which draws them).
"""
from __future__ import annotations

import bpy

from ..backend.vocabulary.choices import EMOTIONS, MAX_TAKES
from .backend_python import BackendPython
from .backend_status import engine_items
from .body_engine import BODY_ENGINE_ITEMS, on_engine_or_folder_changed, refresh_emage_status
from .neural_install import TORCH_VERSION
from .preferences import backend_of
from .prompt_capture import PART_ITEMS, PART_OF_ITEM, sync_prompt_markers


def _face_engine_items(_self, context) -> list:
    return engine_items(context, "face")  # labels say which engines the backend Python has installed


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


# --- prompts (`addon.prompt_capture` records and converts them) ---------------------------------


class OratorPromptBone(bpy.types.PropertyGroup):
    """One bone's pose when the prompt was recorded (name = bone name)."""

    rotation: bpy.props.FloatVectorProperty(size=4, default=(1.0, 0.0, 0.0, 0.0))
    location: bpy.props.FloatVectorProperty(size=3)
    prompted: bpy.props.BoolProperty(default=False, description="Fixed by this prompt (bone mode)")


class OratorPromptShape(bpy.types.PropertyGroup):
    """One face shape key's value when the prompt was recorded (name = shape key name)."""

    value: bpy.props.FloatProperty()


def _sync_markers_update(self, context):
    sync_prompt_markers(context.scene)


class OratorPrompt(bpy.types.PropertyGroup):
    enabled: bpy.props.BoolProperty(name="Enabled", default=True, update=_sync_markers_update)
    frame_start: bpy.props.IntProperty(name="Start")
    frame_end: bpy.props.IntProperty(name="End")
    parts: bpy.props.EnumProperty(name="Parts", items=PART_ITEMS, options={"ENUM_FLAG"})
    use_bones: bpy.props.BoolProperty(name="Selected bones", default=False)
    bones: bpy.props.CollectionProperty(type=OratorPromptBone)
    shapes: bpy.props.CollectionProperty(type=OratorPromptShape)

    @property
    def label(self) -> str:
        if self.use_bones:
            names = [b.name for b in self.bones if b.prompted]
            return "bones " + ", ".join(names[:3]) + (" …" if len(names) > 3 else "")
        return "+".join(PART_OF_ITEM[p] for p, *_ in PART_ITEMS if p in self.parts)


class OratorPromptSettings(bpy.types.PropertyGroup):
    """What Add Prompt records (the sidebar's prompt section)."""

    parts: bpy.props.EnumProperty(name="Parts", items=PART_ITEMS, options={"ENUM_FLAG"}, default={"UPPER"})
    use_bones: bpy.props.BoolProperty(name="Selected Bones Only", default=False,
                                      description="Fix only the selected pose bones instead of whole parts")
    hold_frames: bpy.props.IntProperty(name="Hold", default=1, min=1,
                                       description="How many frames the pose holds, from the current frame")


# --- preferences ---------------------------------------------------------------------------------

def _emage_folder_changed(_prefs, context) -> None:
    refresh_emage_status(context)


class PreferenceProperties:
    """The add-on preferences' properties; read them with `addon.preferences.preferences(context)`."""

    python: bpy.props.StringProperty(
        name="Backend Python", subtype="FILE_PATH",
        description="Your own Python for the backend, with numpy, scipy, soundfile, pocketsphinx (and torch "
                    "for the neural engines). Empty: Blender's own Python with the packages that came with "
                    "the extension")
    device: bpy.props.EnumProperty(
        name="Device", default="auto",
        items=(("auto", "Auto", "GPU when one is available to the backend, else CPU"),
               ("cpu", "CPU", "Always run on the CPU"),
               ("cuda", "CUDA", "Run neural engines on an NVIDIA GPU")))
    torch_variant: bpy.props.EnumProperty(
        name="Neural engines", default="cpu",
        items=(("cpu", "CPU", f"torch {TORCH_VERSION} CPU build (about 200 MB to download)"),
               ("cuda", "CUDA", f"torch {TORCH_VERSION} for NVIDIA GPUs (CUDA 12.8, about 900 MB with its "
                                "CUDA libraries)")))
    wheels_dir: bpy.props.StringProperty(
        name="Wheels folder", subtype="DIR_PATH",
        description="Optional: install torch from this folder of wheels (offline, or a local mirror) "
                    "instead of PyTorch's package index")
    emage_dir: bpy.props.StringProperty(
        name="EMAGE model folder", subtype="DIR_PATH", update=_emage_folder_changed,
        description="Folder of the downloaded EMAGE model (huggingface-cli download H-Liu1997/emage_audio "
                    "--local-dir …), used when the body engine is EMAGE")
    smplx_dir: bpy.props.StringProperty(
        name="SMPL-X / FLAME files", subtype="DIR_PATH",
        description="Folder with your licensed SMPL-X (.npz) and FLAME model files")
    job_timeout_s: bpy.props.IntProperty(
        name="Job timeout (s)", default=900, min=10, max=24 * 3600,
        description="A generation that takes longer is stopped and the backend restarted")
    keep_job_files: bpy.props.BoolProperty(
        name="Keep generated files", default=False,
        description="Keep each generation's motion.npz, face_arkit.csv and summary.json in the extension's "
                    "user folder (off: deleted once the takes are in the scene)")

    def backend(self) -> BackendPython:
        """The Python that runs the backend, with the folders it needs on its path (backend_python.resolve)."""
        return backend_of(self)

    def backend_python(self) -> str:
        return self.backend().executable


CLASSES = (OratorSceneSettings, OratorProgress, OratorPromptBone, OratorPromptShape, OratorPrompt,
           OratorPromptSettings)


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.Scene.orator = bpy.props.PointerProperty(type=OratorSceneSettings)
    bpy.types.WindowManager.orator_progress = bpy.props.PointerProperty(type=OratorProgress)
    bpy.types.Object.orator_prompts = bpy.props.CollectionProperty(type=OratorPrompt)
    bpy.types.Object.orator_prompt_index = bpy.props.IntProperty(default=0)
    bpy.types.Scene.orator_prompt_settings = bpy.props.PointerProperty(type=OratorPromptSettings)


def unregister() -> None:
    del bpy.types.Scene.orator_prompt_settings
    del bpy.types.Object.orator_prompt_index
    del bpy.types.Object.orator_prompts
    del bpy.types.WindowManager.orator_progress
    del bpy.types.Scene.orator
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
