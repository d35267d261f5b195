"""Generate from Audio's work: read the request from the sidebar and preferences once, and apply a finished
job's takes (`apply_take`), with its files dropped afterwards unless the preferences keep them.

The operator (`operators.generate`) sends the request to the worker and reports what these return.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import bpy

from ..backend.errors import UserError
from ..backend.options import GenerateOptions
from .worker_session import JobState
from .apply_take import ApplyRequest, apply_takes, skeleton_map
from .backend_status import check_engines_ready
from .body_engine import engine_options
from .preferences import ROOT_PACKAGE, backend_of, preferences
from .prompt_capture import write_scene_prompts


@dataclass(frozen=True)
class GenerateRequest:
    """Everything one Generate from Audio needs, read from the scene and preferences once."""

    python: str
    env: dict  # the backend's environment: PYTHONPATH to Blender's extension wheels (backend_python.py)
    audio: str
    output_dir: str
    options: dict
    armature_name: str
    mesh_name: str | None
    frame_start: int
    add_sound: bool
    timeout_s: float


def read_request(context) -> GenerateRequest:
    """The request from the sidebar settings; UserError with one actionable line when incomplete."""
    settings = context.scene.orator
    prefs = preferences(context)
    if settings.armature is None:
        raise UserError("choose a character first (Add Character, or pick an armature)")
    # the rig is checked before any audio analysis or worker start: an unsupported rig fails at once
    skeleton_map(settings.armature)
    audio = bpy.path.abspath(settings.audio) if settings.audio else ""
    if not audio or not os.path.isfile(audio):
        raise UserError(f"audio file not found: {audio or '(none chosen)'}")
    backend = backend_of(prefs)
    transcript = settings.transcript.strip() or None
    if settings.transcript_file:
        path = bpy.path.abspath(settings.transcript_file)
        try:
            transcript = Path(path).read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise UserError(f"cannot read the transcript file {path}: {exc.strerror}") from None
    engine = engine_options(context, settings)  # a missing EMAGE folder fails before anything is written
    # what the backend Python lacks is said now, with the fix, not as a worker crash
    check_engines_ready(backend, {"body": engine.get("engine", GenerateOptions.engine),
                                  "face": settings.face_engine})
    output_dir = job_output_dir(audio)
    # the character's prompts travel with the job as a file in its folder (every regeneration re-reads them)
    prompts = write_scene_prompts(context, settings.armature, int(context.scene.frame_start), output_dir)
    options = GenerateOptions(seed=int(settings.seed), takes=int(settings.takes), emotion=settings.emotion,
                              intensity=float(settings.intensity), transcript=transcript,
                              recognizer=settings.recognizer, language=settings.language,
                              device=prefs.device if prefs is not None else "auto", prompts=prompts,
                              face_engine=settings.face_engine, **engine,
                              # motion.npz fingers relative to the user's own SMPL-X mean hand (issue 12)
                              smplx_model=bpy.path.abspath(settings.smplx_model) if settings.smplx_model else None)
    return GenerateRequest(python=backend.executable, env=backend.environment(), audio=audio,
                           output_dir=output_dir, options=asdict(options),
                           armature_name=settings.armature.name,
                           mesh_name=settings.face_mesh.name if settings.face_mesh is not None else None,
                           frame_start=int(context.scene.frame_start), add_sound=bool(settings.add_sound),
                           timeout_s=float(prefs.job_timeout_s if prefs is not None else 900))


def job_output_dir(audio: str) -> str:
    """A fresh folder for one job's files, under the extension's user folder when installed as one."""
    try:
        base = bpy.utils.extension_path_user(ROOT_PACKAGE, path="generated", create=True)
    except (ValueError, RuntimeError, AttributeError):  # enabled as a legacy add-on, not an extension
        base = os.path.join(tempfile.gettempdir(), "orator", "generated")
    return os.path.join(base, f"{Path(audio).stem}-{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 10**6:06d}")


def finish_job(context, request: GenerateRequest, job: JobState) -> tuple[set, list]:
    """Apply a finished job, then drop its files unless the preferences keep them; returns (operator
    result, [(report type, message)]) — errors once."""
    try:
        return _apply_job(context, request, job)
    finally:
        prefs = preferences(context)
        if not (prefs is not None and prefs.keep_job_files):
            shutil.rmtree(request.output_dir, ignore_errors=True)  # keyed into actions: nothing reads them again


def _apply_job(context, request: GenerateRequest, job: JobState) -> tuple[set, list]:
    reports = [({"WARNING"}, "; ".join(job.warnings))] if job.warnings else []
    if job.error is not None:
        if job.error_kind == "cancelled":
            return {"CANCELLED"}, reports + [({"INFO"}, "Generation cancelled")]
        return {"CANCELLED"}, reports + [({"ERROR"}, f"Orator: {job.error}")]
    takes = job.result.takes
    try:
        actions = apply_takes(context, ApplyRequest(
            armature_name=request.armature_name, mesh_name=request.mesh_name, audio_path=request.audio,
            take_motion_paths=tuple(t.motion for t in takes), frame_start=request.frame_start,
            add_sound=request.add_sound))
    except UserError as exc:
        return {"CANCELLED"}, reports + [({"ERROR"}, f"Orator: {exc}")]
    except Exception as exc:  # noqa: BLE001 - the scene is already rolled back; say what failed, once
        return {"CANCELLED"}, reports + [({"ERROR"}, f"Orator: could not apply the takes: "
                                                     f"{exc.__class__.__name__}: {exc}")]
    names = ", ".join(a.name for a in actions)
    return {"FINISHED"}, reports + [({"INFO"}, f"Orator: {names} ({job.result.seconds:.1f} s of audio)")]


def set_progress(context, job: JobState | None) -> None:
    progress = context.window_manager.orator_progress
    progress.running = job is not None and not job.finished
    progress.fraction = job.fraction if job is not None else 0.0
    progress.stage = job.stage if job is not None else ""
    workspace = getattr(context, "workspace", None)
    if workspace is not None:
        workspace.status_text_set(f"Orator: {job.stage} {job.fraction * 100:.0f}%  (Esc to cancel)"
                                  if progress.running else None)
    for area in context.screen.areas if getattr(context, "screen", None) else ():
        if area.type == "VIEW_3D":
            area.tag_redraw()
