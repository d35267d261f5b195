"""Characters Orator animates and the math that puts SMPL-X motion on them.

Modules at this level are bpy-free (data and math); `rigs.blender` holds the builders that
create Blender objects and is imported only inside Blender.
"""
