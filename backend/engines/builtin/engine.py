"""The built-in engines behind the one engine interface (interface.py). They need no weights."""
from __future__ import annotations

from ..interface import BodyMotion, EngineRequest, FaceMotion


class BuiltinBodyEngine:
    """Procedural SMPL-X body: idle layer plus gestures timed to stressed syllables (body.py)."""

    name = "builtin"

    def generate_body(self, request: EngineRequest) -> BodyMotion:
        from .body import generate_body
        poses, trans = generate_body(request.analysis, request.emotion, request.intensity, request.rng,
                                     request.control)
        return BodyMotion(poses, trans)


class BuiltinFaceEngine:
    """Rule-based ARKit face: coarticulated visemes, blinks, gaze, brows, emotion (face.py)."""

    name = "builtin"

    def generate_face(self, request: EngineRequest) -> FaceMotion:
        from .face import generate_face
        return FaceMotion(generate_face(request.analysis, request.emotion, request.intensity, request.rng,
                                        request.control))
