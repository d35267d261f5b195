"""Live Preview and Record in Blender: a `python -m backend live` child process, its frames read from a timer.

A reader thread moves the child's stdout lines into a queue; the timer (every 1/60 s) takes the newest frame
without blocking and sets the face mesh's ARKit shape keys and the head bone's rotation, so the viewport shows
the performance while it plays. With Record the child keeps the audio and, when stopped (its stdin closed), writes a take
(`live --record DIR`: built-in body + the live face and head) that apply_takes keys like any generated take.
Nothing of the user's animation is edited: preview values are only set on the properties (the next frame
change or keyframe evaluation restores them), and a recorded take is a new action on its own NLA track.
"""
from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import bpy
from mathutils import Euler

from ..backend.vocabulary.face import ARKIT_NAMES
from ..backend.vocabulary.skeleton import HEAD
from .backend_status import tag_redraw

ADDON_DIR = Path(__file__).resolve().parents[1]
TIMER_S = 1.0 / 60.0


@dataclass
class LiveSession:
    armature_name: str
    mesh_name: str | None
    record_dir: str | None
    proc: subprocess.Popen
    lines: "queue.Queue[str]" = field(default_factory=queue.Queue)
    frames_seen: int = 0
    performed: list = field(default_factory=list)    # every frame's weights, in order (tests, status)
    last_error: str = ""
    errors: list[str] = field(default_factory=list)
    readers: list = field(default_factory=list)


_session: LiveSession | None = None


def running() -> bool:
    return _session is not None and _session.proc.poll() is None


def start(python: str, env: dict, armature_name: str, mesh_name: str | None, record: bool,
          test_input: str | None = None) -> LiveSession:
    """Start the child (the microphone, or `test_input` played at real-time pace) and the timer."""
    global _session
    stop(apply=False)
    cmd = [python, "-m", "backend", "live", "--until-stdin-closes"]
    if test_input:
        cmd += ["--input", test_input, "--realtime"]
    record_dir = tempfile.mkdtemp(prefix="orator-live-") if record else None
    if record_dir:
        cmd += ["--record", record_dir]
    proc = subprocess.Popen(cmd, cwd=ADDON_DIR, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, bufsize=1)
    s = LiveSession(armature_name, mesh_name, record_dir, proc)

    def pump(stream, errors: bool):
        for line in stream:
            if errors:
                s.errors.append(line.strip())
                del s.errors[:-20]
            else:
                s.lines.put(line)

    s.readers = [threading.Thread(target=pump, args=(stream, errors), daemon=True)
                 for stream, errors in ((proc.stdout, False), (proc.stderr, True))]
    for reader in s.readers:
        reader.start()
    _session = s
    if not bpy.app.timers.is_registered(_tick):
        bpy.app.timers.register(_tick, first_interval=TIMER_S)
    return s


def _latest_frame(s: LiveSession) -> dict | None:
    newest = None
    while True:
        try:
            line = s.lines.get_nowait()
        except queue.Empty:
            return newest
        if line.startswith("{"):
            try:
                newest = json.loads(line)
                s.frames_seen += 1
                s.performed.append(newest["weights"])
                del s.performed[:-36000]   # 20 min at 30 fps
            except ValueError:
                continue


def apply_frame(frame: dict, armature_name: str, mesh_name: str | None) -> None:
    """Set the ARKit shape keys and the head bone from one live frame (a preview, not keyed)."""
    mesh = bpy.data.objects.get(mesh_name) if mesh_name else None
    if mesh is not None and mesh.data.shape_keys is not None:
        blocks = mesh.data.shape_keys.key_blocks
        for name, value in zip(ARKIT_NAMES, frame["weights"]):
            kb = blocks.get(name)
            if kb is not None:
                kb.value = value
    arm = bpy.data.objects.get(armature_name)
    if arm is not None and arm.pose is not None:
        bone = _head_bone(arm)
        if bone is not None:
            pitch, yaw, roll = frame["head"]
            # a head bone points up its Y axis: nod about X (+ = down is −X in Blender), turn about Y, tilt Z
            rot = Euler((-pitch, yaw, roll), "XYZ")
            if bone.rotation_mode == "QUATERNION":
                bone.rotation_quaternion = rot.to_quaternion()
            elif bone.rotation_mode == "AXIS_ANGLE":
                q = rot.to_quaternion()
                axis, angle = q.to_axis_angle()
                bone.rotation_axis_angle = (angle, *axis)
            else:
                bone.rotation_euler = rot.to_matrix().to_euler(bone.rotation_mode)


def _head_bone(arm):
    from .apply_take import skeleton_map

    try:
        names = skeleton_map(arm).bones_for_joint(HEAD)
    except Exception:  # noqa: BLE001 - an unknown rig previews the face only
        return None
    return arm.pose.bones.get(names[-1]) if names else None


def tick() -> float | None:
    """One timer step (public so a background session without an event loop can drive it)."""
    return _tick()


def _tick():
    s = _session
    if s is None:
        return None
    frame = _latest_frame(s)
    if frame is not None:
        apply_frame(frame, s.armature_name, s.mesh_name)
        tag_redraw(("VIEW_3D",))
    if s.proc.poll() is not None and s.lines.empty():
        for reader in s.readers:
            reader.join(timeout=1.0)   # the child's last lines (its error) are read before it is judged
        s.last_error = _failure(s)
        if s.last_error:
            print(f"Orator live: {s.last_error}")
        tag_redraw(("VIEW_3D",))
        return None
    return TIMER_S


def _failure(s: LiveSession) -> str:
    """The child's last error line when it ended other than by being stopped (stdin closed, Ctrl-C), else ''."""
    ended = s.proc.returncode not in (None, 0, -signal.SIGINT, 130)
    return s.errors[-1] if ended and s.errors else ""


def stop(apply: bool = True) -> tuple[str | None, str]:
    """Stop the child (closing its stdin ends the stream, and --record writes its take); returns (take folder
    or None, error line)."""
    global _session
    s = _session
    if s is None:
        return None, ""
    try:
        s.proc.stdin.close()
    except OSError:
        pass
    try:
        s.proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        s.proc.kill()
        s.proc.wait()
    _session = None
    if bpy.app.timers.is_registered(_tick):
        bpy.app.timers.unregister(_tick)
    error = s.last_error or _failure(s)
    take = s.record_dir if apply and s.record_dir and os.path.isfile(os.path.join(s.record_dir, "motion.npz")) \
        else None
    return take, error


def current() -> LiveSession | None:
    return _session
