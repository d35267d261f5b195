"""The one place rigs reaches the backend's shared facts.

Inside Blender the repo root is the add-on package, so `backend` is a sibling subpackage; run
from the repo root (tests, scripts) both are top-level packages.
"""
try:
    from ..backend import safe_npz  # noqa: F401
    from ..backend.formats import face_formats, hand_pose  # noqa: F401
    from ..backend.motion import kinematics, rotations  # noqa: F401
    from ..backend.vocabulary import face as face_vocabulary, skeleton  # noqa: F401
except (ImportError, ValueError):
    from backend import safe_npz  # noqa: F401
    from backend.formats import face_formats, hand_pose  # noqa: F401
    from backend.motion import kinematics, rotations  # noqa: F401
    from backend.vocabulary import face as face_vocabulary, skeleton  # noqa: F401
