"""Headless preview renders of a character: one still, or a contact sheet of several frames.

The camera and light are temporary: they are added for the render and removed afterwards, and the
scene's camera, engine, frame and output settings are restored.
"""
from __future__ import annotations

import math
import os
import tempfile
from contextlib import contextmanager

import bpy
import numpy as np
from mathutils import Vector

from .face_probe import evaluated_coords

CAMERA_AZIMUTH_DEG = 25.0  # front three-quarter view from the character's left-front
CAMERA_ELEVATION_DEG = 6.0
LENS_MM = 50.0
FRAME_MARGIN = 1.08
BACKGROUND = (0.32, 0.33, 0.35)
HEAD_BOX_PAD = 0.1  # metres around the head bone for close-ups
HEAD_BOX_BELOW = 0.1  # the chin hangs below the head bone's base
HEAD_BOX_ABOVE = 0.03


def evaluated_bounds(mesh_obj):
    """World-space (min (3,), max (3,)) of the evaluated (posed, shape-keyed) mesh."""
    world = evaluated_coords(mesh_obj)
    return world.min(axis=0), world.max(axis=0)


def framing_camera_pose(lo, hi, aspect: float, lens_mm: float = LENS_MM,
                        sensor_mm: float = 36.0):
    """Camera location (3,) and look-at target (3,) that fit the box lo..hi (3,) in view.

    aspect: width / height of the image. The view comes from −Y rotated by CAMERA_AZIMUTH_DEG
    towards +X (the character faces −Y), slightly above the box centre.
    """
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    centre = (lo + hi) / 2
    size = hi - lo
    # Sensor fits the larger image side; half field of view along each image axis.
    half_long = math.atan(sensor_mm / 2 / lens_mm)
    half_v = half_long if aspect <= 1 else math.atan(math.tan(half_long) / aspect)
    half_h = half_long if aspect >= 1 else math.atan(math.tan(half_long) * aspect)
    radius_h = 0.5 * math.hypot(size[0], size[1])
    dist = FRAME_MARGIN * max(size[2] / 2 / math.tan(half_v), radius_h / math.tan(half_h))
    dist += radius_h  # from the box's front, not its centre
    az, el = math.radians(CAMERA_AZIMUTH_DEG), math.radians(CAMERA_ELEVATION_DEG)
    direction = np.array([math.sin(az) * math.cos(el), -math.cos(az) * math.cos(el), math.sin(el)])
    return centre + dist * direction, centre


@contextmanager
def _preview_setup(scene, resolution, engine):
    """Temporary camera + sun light and render settings; everything restored on exit."""
    render = scene.render
    saved = dict(camera=scene.camera, engine=render.engine, res=(render.resolution_x,
                 render.resolution_y, render.resolution_percentage), path=render.filepath,
                 fmt=render.image_settings.file_format, frame=scene.frame_current,
                 world=scene.world)
    cam_data = bpy.data.cameras.new("OratorPreviewCamera")
    cam_data.lens = LENS_MM
    cam_data.clip_start, cam_data.clip_end = 0.05, 100.0
    cam = bpy.data.objects.new("OratorPreviewCamera", cam_data)
    sun_data = bpy.data.lights.new("OratorPreviewSun", type="SUN")
    sun_data.energy = 3.0
    sun = bpy.data.objects.new("OratorPreviewSun", sun_data)
    sun.rotation_euler = (math.radians(50), 0.0, math.radians(30))
    scene.collection.objects.link(cam)
    scene.collection.objects.link(sun)
    world = bpy.data.worlds.new("OratorPreviewWorld")
    world.color = BACKGROUND
    if world.node_tree is None:
        world.use_nodes = True
    bg = next((n for n in world.node_tree.nodes if n.type == "BACKGROUND"), None)
    if bg is not None:
        bg.inputs["Color"].default_value = (*BACKGROUND, 1.0)
        bg.inputs["Strength"].default_value = 1.0
    try:
        scene.world = world
        scene.camera = cam
        render.engine = engine
        render.resolution_x, render.resolution_y = int(resolution[0]), int(resolution[1])
        render.resolution_percentage = 100
        render.image_settings.file_format = "PNG"
        if engine == "BLENDER_WORKBENCH":
            shading = scene.display.shading
            shading.light = "STUDIO"
            shading.color_type = "MATERIAL"
            shading.show_specular_highlight = True
        yield cam
    finally:
        scene.camera = saved["camera"]
        render.engine = saved["engine"]
        render.resolution_x, render.resolution_y, render.resolution_percentage = saved["res"]
        render.filepath = saved["path"]
        render.image_settings.file_format = saved["fmt"]
        scene.world = saved["world"]
        scene.frame_set(saved["frame"])
        bpy.data.objects.remove(cam)
        bpy.data.objects.remove(sun)
        bpy.data.cameras.remove(cam_data)
        bpy.data.lights.remove(sun_data)
        bpy.data.worlds.remove(world)


def _aim(cam, location, target):
    cam.location = Vector(location.tolist())
    forward = Vector((target - location).tolist())
    cam.rotation_euler = forward.to_track_quat("-Z", "Y").to_euler()


def _render_to(scene, filepath):
    scene.render.filepath = os.fspath(filepath)
    bpy.ops.render.render(write_still=True, scene=scene.name)


def head_bounds(armature_obj, head_bone="head"):
    """World-space (min (3,), max (3,)) of a box around the posed head bone (face close-ups)."""
    pose_bone = armature_obj.pose.bones[head_bone]
    mw = armature_obj.matrix_world
    base = np.array(mw @ pose_bone.head)
    top = np.array(mw @ pose_bone.tail)
    lo = np.minimum(base, top) - HEAD_BOX_PAD
    hi = np.maximum(base, top) + HEAD_BOX_PAD
    lo[2] = min(base[2], top[2]) - HEAD_BOX_BELOW
    hi[2] = max(base[2], top[2]) + HEAD_BOX_ABOVE
    return lo, hi


FACE_BOX_HALF = 0.065  # metres around the jaw pivot: eyes to chin, for mouth close-ups


def face_bounds(armature_obj, jaw_bone="jaw", head_bone="head"):
    """World-space (min (3,), max (3,)) of a box around the posed jaw pivot (the face from the
    brows to the chin); the head bone's base when the rig has no jaw bone."""
    name = jaw_bone if jaw_bone in armature_obj.pose.bones else head_bone
    centre = np.array(armature_obj.matrix_world @ armature_obj.pose.bones[name].head)
    return centre - FACE_BOX_HALF, centre + FACE_BOX_HALF


def bone_tree_bounds(armature_obj, bone_name, pad=0.04):
    """World-space (min (3,), max (3,)) around a posed bone and all its descendants (hand close-ups)."""
    mw = armature_obj.matrix_world
    root = armature_obj.pose.bones[bone_name]
    points = [np.array(mw @ pb.head) for pb in [root, *root.children_recursive]]
    points += [np.array(mw @ pb.tail) for pb in [root, *root.children_recursive]]
    return np.min(points, axis=0) - pad, np.max(points, axis=0) + pad


def render_still(filepath, armature_obj, mesh_obj, frame=None, resolution=(512, 768),
                 engine="BLENDER_WORKBENCH", framing="body", bone=None):
    """Render the character from a front three-quarter view into a PNG.

    frame: scene frame to show (None: the current one). framing: "body" (head to feet),
    "head" (a face close-up around the armature's `head` bone) or "bone" (a close-up of `bone` and
    its descendants, e.g. a hand). Returns the written path.
    """
    scene = mesh_obj.users_scene[0] if mesh_obj.users_scene else bpy.context.scene
    with _preview_setup(scene, resolution, engine) as cam:
        if frame is not None:
            scene.frame_set(int(frame))
        if framing == "head":
            lo, hi = head_bounds(armature_obj)
        elif framing == "body":
            lo, hi = evaluated_bounds(mesh_obj)
        elif framing == "bone" and bone is not None:
            lo, hi = bone_tree_bounds(armature_obj, bone)
        else:
            raise ValueError(f"framing must be 'body', 'head' or 'bone' (with a bone name), not {framing!r}")
        location, target = framing_camera_pose(lo, hi, resolution[0] / resolution[1])
        _aim(cam, location, target)
        _render_to(scene, filepath)
    return os.fspath(filepath)


def read_png(path):
    """(H, W, 4) float32 pixels of a PNG, top row first."""
    image = bpy.data.images.load(os.fspath(path))
    try:
        w, h = image.size
        px = np.empty(w * h * 4, dtype=np.float32)
        image.pixels.foreach_get(px)
    finally:
        bpy.data.images.remove(image)
    return px.reshape(h, w, 4)[::-1]


def tile_images(images, columns: int, background=1.0):
    """Tile equally sized (H, W, C) arrays row-major into one (rows·H, columns·W, C) array."""
    h, w, c = images[0].shape
    rows = -(-len(images) // columns)
    sheet = np.full((rows * h, columns * w, c), background, dtype=np.float32)
    for i, img in enumerate(images):
        r, col = divmod(i, columns)
        sheet[r * h:(r + 1) * h, col * w:(col + 1) * w] = img
    return sheet


def write_png(pixels, filepath):
    """Save (H, W, 4) float pixels (top row first, display values) as a PNG."""
    h, w = pixels.shape[:2]
    image = bpy.data.images.new("OratorContactSheet", w, h, alpha=True)
    try:
        image.pixels.foreach_set(np.ascontiguousarray(pixels[::-1]).ravel())
        image.filepath_raw = os.fspath(filepath)
        image.file_format = "PNG"
        image.save()
    finally:
        bpy.data.images.remove(image)


def render_contact_sheet(filepath, frames, armature_obj, mesh_obj, columns=None,
                         tile_resolution=(256, 384), engine="BLENDER_WORKBENCH", framing="body"):
    """Render each of `frames` (a camera fitted to the whole set) and tile them into one PNG.

    columns: tiles per row (None: all frames in one row up to 6). framing: "body" (the whole
    evaluated mesh), "head" (around the `head` bone) or "face" (brows to chin, around the jaw
    pivot; the camera follows the face tile by tile). Returns the written path.
    """
    frames = [int(f) for f in frames]
    if not frames:
        raise ValueError("render_contact_sheet needs at least one frame")
    scene = mesh_obj.users_scene[0] if mesh_obj.users_scene else bpy.context.scene
    columns = columns or min(len(frames), 6)
    tiles = []
    with tempfile.TemporaryDirectory(prefix="orator_sheet_") as tmp, \
            _preview_setup(scene, tile_resolution, engine) as cam:
        bounds = []
        for f in frames:
            scene.frame_set(f)
            bounds.append(head_bounds(armature_obj) if framing == "head"
                          else face_bounds(armature_obj) if framing == "face" else evaluated_bounds(mesh_obj))
        lo = np.min([b[0] for b in bounds], axis=0)
        hi = np.max([b[1] for b in bounds], axis=0)
        location, target = framing_camera_pose(lo, hi, tile_resolution[0] / tile_resolution[1])
        _aim(cam, location, target)
        for f in frames:
            scene.frame_set(f)
            if framing == "face":  # a close-up follows the head from tile to tile
                _aim(cam, *framing_camera_pose(*face_bounds(armature_obj), tile_resolution[0] / tile_resolution[1]))
            path = os.path.join(tmp, f"frame_{f:06d}.png")
            _render_to(scene, path)
            tiles.append(read_png(path))
    write_png(tile_images(tiles, columns), filepath)
    return os.fspath(filepath)
