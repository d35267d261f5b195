"""Blender-side builders for Orator's characters (imports bpy; load only inside Blender or with the bpy module)."""
