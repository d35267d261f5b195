"""Run by a bpy 4.2 LTS interpreter (see test_blender42.py): the add-on's legacy-action path.

    python legacy_blender_check.py REPO AUDIO TRANSCRIPT

Enables the add-on from the checkout, generates two takes from real speech through the operator
(blocking in background mode; the backend worker runs with the project's .venv), and prints a JSON
report of what Blender holds afterwards.
"""
import json
import os
import sys
import tempfile

os.environ["HOME"] = tempfile.mkdtemp(prefix="orator_bpy42_home_")
import bpy  # noqa: E402

repo, audio, transcript = sys.argv[1:4]
sys.path.insert(0, os.path.join(repo, "tools"))
from checkout_addon import enable_addon_from_checkout  # noqa: E402

package = enable_addon_from_checkout()
bpy.ops.wm.read_homefile(use_empty=True)
scene = bpy.context.scene
scene.render.fps = 30
assert bpy.ops.orator.add_character(source="DEFAULT") == {"FINISHED"}
settings = scene.orator
settings.audio = audio
settings.transcript_file = transcript
settings.takes = 2
assert bpy.ops.orator.generate_from_audio() == {"FINISHED"}
arm, mesh = settings.armature, settings.face_mesh
body_action = arm.animation_data.action
face_action = mesh.data.shape_keys.animation_data.action
jaw = face_action.fcurves.find('key_blocks["jawOpen"].value')
rot = body_action.fcurves.find('pose.bones["upperarm_l"].rotation_quaternion', index=0)
frames = sorted({int(k.co[0]) for k in rot.keyframe_points})
report = {
    "version": list(bpy.app.version),
    "body_action": body_action.name,
    "face_action": face_action.name,
    "body_fcurves": len(body_action.fcurves),
    "face_fcurves": len(face_action.fcurves),
    "keyed_frames": [frames[0], frames[-1], len(frames)],
    "jaw_range": [min(k.co[1] for k in jaw.keyframe_points), max(k.co[1] for k in jaw.keyframe_points)],
    # the takes' tracks (the unmuted "Orator: pose before takes" track under them is not a take)
    "body_tracks": [t.name for t in arm.animation_data.nla_tracks if t.mute],
    "face_tracks": [t.name for t in mesh.data.shape_keys.animation_data.nla_tracks if t.mute],
    "frame_end": scene.frame_end,
}
# switching to take 2 through the panel's operator changes both actions
take2 = next(a for a in bpy.data.actions if a.name.endswith("take 2"))
assert bpy.ops.orator.use_take(action_name=take2.name) == {"FINISHED"}
report["after_switch"] = [arm.animation_data.action.name, mesh.data.shape_keys.animation_data.action.name]
print("REPORT " + json.dumps(report))
import addon_utils  # noqa: E402

addon_utils.disable(package)  # stops the backend worker
sys.stdout.flush()
# The bpy 4.2 *module* segfaults at interpreter exit once any PointerProperty with a `poll` callback has
# been registered, even after unregistering it (a 5-line script with one PropertyGroup reproduces it;
# bpy 5.0.1 does not). Leave without the interpreter's teardown so the exit code means something.
os._exit(0)
