"""The add-on's Blender-side logic (bpy): what the operators in `operators/` call and the panels in `panels/` show."""
