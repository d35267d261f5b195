"""The one engine interface: every registered engine takes an EngineRequest and returns typed motion of the
analysis' length; the registry validates names and keeps each loaded engine once; the import structure
keeps engines below the pipeline, the prompts' blending and the metrics."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from backend.analysis import Phone
from backend.audio.analyze import analyze_speech
from backend.audio.io import load_audio
from backend.engines.interface import BodyMotion, EngineRequest, FaceMotion
from backend.engines.registry import BODY_ENGINES, FACE_ENGINES, EngineCache, check_engine_names
from backend.errors import UserError
from backend.options import GenerateOptions
from backend.prompts import Prompts

REPO = Path(__file__).resolve().parents[2]
GOLDEN_WEIGHTS = REPO.parent / "shared" / "emage" / "golden" / "weights"


@pytest.fixture(scope="module")
def analysis(lj_clip, lj_transcripts):
    audio = load_audio(lj_clip)
    a = analyze_speech(audio, lj_transcripts["LJ001-0001"], "en")
    a.samples = audio.samples
    return a


def options_for(engine: str, face_engine: str = "builtin") -> GenerateOptions:
    checkpoint = str(GOLDEN_WEIGHTS) if engine == "emage" else None
    return GenerateOptions(engine=engine, face_engine=face_engine, checkpoint=checkpoint, device="cpu").validated()


def head_prompt(n_frames: int) -> Prompts:
    """The head turned at frame 60 and the root fixed at frame 30, spread over the take."""
    pose_mask = np.zeros((2, 55), bool)
    poses = np.zeros((2, 55, 3), np.float32)
    pose_mask[1, 15], poses[1, 15] = True, [0.05, 0.6, 0.0]
    trans_mask = np.array([True, False])
    trans = np.array([[0.05, 0.0, 0.02], [0.0, 0.0, 0.0]], np.float32)
    return Prompts(np.array([30, 60]), pose_mask, poses, trans_mask, trans, np.zeros((2, 52), bool),
                   np.zeros((2, 52), np.float32))


@pytest.mark.parametrize("engine", BODY_ENGINES)
def test_every_body_engine_answers_a_request_with_body_motion_of_the_analysis_length(engine, analysis):
    body_engine = EngineCache().body(options_for(engine))
    prompts = head_prompt(analysis.n_frames).dense(analysis.n_frames)
    request = EngineRequest(analysis, "happy", 0.7, np.random.default_rng([4, 1]), take=2, prompts=prompts)
    motion = body_engine.generate_body(request)
    assert isinstance(motion, BodyMotion) and body_engine.name == engine
    assert motion.poses.shape == (analysis.n_frames, 55, 3) and motion.trans.shape == (analysis.n_frames, 3)
    assert np.all(np.isfinite(motion.poses)) and np.all(np.isfinite(motion.trans))
    assert (motion.expressions is not None) == (engine == "emage")  # only EMAGE makes its own FLAME face
    again = body_engine.generate_body(EngineRequest(analysis, "happy", 0.7, np.random.default_rng([4, 1]), take=2,
                                                    prompts=prompts))
    np.testing.assert_array_equal(again.poses, motion.poses)  # the request's rng is the only randomness


@pytest.mark.parametrize("face_engine", FACE_ENGINES)
def test_every_face_engine_answers_a_request_with_arkit_curves(face_engine, analysis):
    engine = EngineCache().face(options_for("builtin", face_engine))
    face = engine.generate_face(EngineRequest(analysis, "sad", 0.5, np.random.default_rng(2)))
    assert isinstance(face, FaceMotion) and engine.name == face_engine
    assert face.arkit.shape == (analysis.n_frames, 52)
    assert face.arkit.min() >= 0.0 and face.arkit.max() <= 1.0


def test_typed_motion_refuses_wrong_shapes():
    with pytest.raises(ValueError, match="poses"):
        BodyMotion(np.zeros((10, 54, 3)), np.zeros((10, 3)))
    with pytest.raises(ValueError, match="expressions"):
        BodyMotion(np.zeros((10, 55, 3)), np.zeros((10, 3)), expressions=np.zeros((9, 100)))
    with pytest.raises(ValueError, match="ARKit"):
        FaceMotion(np.zeros((10, 51)))


def test_the_registry_is_the_one_cache_and_validates_names(tmp_path):
    cache = EngineCache()
    neural = options_for("neural", "neural")
    body, face = cache.get(neural)
    again = cache.get(neural)
    assert again[0] is body and again[1] is face      # loaded once, handed out again
    assert cache.body(options_for("builtin")) is not body
    assert not hasattr(body, "_generators") and not hasattr(face, "_generators")  # no second cache inside
    with pytest.raises(UserError, match="unknown engine 'mocap': choose one of builtin, neural, emage"):
        check_engine_names("mocap", "builtin")
    with pytest.raises(UserError, match="unknown face engine"):
        cache.face(GenerateOptions(face_engine="puppet"))
    damaged = tmp_path / "body.pt"
    damaged.write_bytes(b"not a checkpoint" * 64)
    with pytest.raises(UserError, match="body.pt"):
        cache.body(GenerateOptions(engine="neural", checkpoint=str(damaged)))


def test_neural_face_seals_the_lips_exactly_as_the_builtin_face():
    from backend.engines.builtin.face import FaceParams, speech_phones, phone_lip_seal
    from backend.engines.neural_face.engine import bilabial_seal_gate

    phones = [Phone("SIL", 0.0, 0.3), Phone("M", 0.3, 0.38), Phone("AA", 0.38, 0.6), Phone("P", 0.6, 0.64),
              Phone("IY", 0.64, 0.9), Phone("B", 0.9, 1.05), Phone("SIL", 1.05, 1.5)]
    builtin = phone_lip_seal(speech_phones(phones, 1.5), 45, 30, FaceParams())
    np.testing.assert_allclose(bilabial_seal_gate(phones, 45, 30), builtin, atol=1e-12)
    assert builtin.max() == 1.0 and (builtin == 1.0).sum() >= 3  # each p/b/m holds a sealed frame
