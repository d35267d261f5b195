"""Orator backend: speech → SMPL-X body + ARKit face motion. Never imports bpy.

Run as `python -m backend …` from the repository root. Inside Blender the same package is
imported as a subpackage of the add-on, so every import in here is relative.
"""
__version__ = "0.1.0"
