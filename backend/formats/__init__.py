"""Standard facts and file formats shared by every layer: SMPL-X joints, ARKit names, motion files."""
