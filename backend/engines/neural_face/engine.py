"""The neural face engine behind the one engine interface: the learned mouth over the built-in engine's eyes,
blinks, gaze, brows and emotion."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from scipy.ndimage import gaussian_filter1d

from ...analysis import Phone, SpeechAnalysis
from ...errors import UserError
from ...models import FACE_MODEL, missing_model_message
from ...progress import JobControl
from ...vocabulary.phonemes import BILABIALS
from ...vocabulary.rates import MOTION_FPS
from ...vocabulary.visemes import REST_TARGETS
from ..builtin.face import EMOTION_STYLES, FaceParams, generate_face
from ..builtin.mouth_layers import add_expression, emotion_gain, lip_seal_gate, seal_lips
from ..interface import EngineRequest, FaceMotion
from .channels import JAW_OPEN, MOUTH_CLOSE, SPEECH_CHANNELS, SPEECH_INDEX
from .features import motion_rate_log_mel
from .model import SHIPPED_CHECKPOINT, load_checkpoint
from .personalize import FaceStyle, load_style

DEFAULT_STYLE = 0            # the generic model's style 0: English speech as the built-in engine moves it
# The learned jaw regresses towards the mean: on 50 s of LJSpeech its open vowels (AA/AE/AH/AO)
# part the default character's lips 6.2 mm (median, p90 15.6) where the built-in engine it learned
# from reaches 11.8 mm and conversational speech 10–20 mm. A saturating gain g·x / (1 + k·x) lifts
# the typical vowel (0.16 → 0.30) more than the loudest (0.53 → 0.56, ≈ 22 mm): a plain ×1.8 made
# the p90 28 mm, i.e. yelling; with it the mesh shows 11.5 mm median, p95 20 mm. Only the generic
# style gets it: a personalised style is fitted to a person's own curves, so it keeps their scale.
JAW_OPEN_GAIN = 2.8
JAW_OPEN_KNEE = 3.1
PAUSE_SMOOTHING_S = 0.05     # lips close over about this long when the voice stops
SPEECH_POSITION = {name: k for k, name in enumerate(SPEECH_CHANNELS)}   # ARKit name → mouth column


def calibrated_jaw_open(jaw: np.ndarray) -> np.ndarray:
    """The learned jawOpen (T,) on the ARKit/mesh scale of the built-in engine (see JAW_OPEN_GAIN)."""
    return JAW_OPEN_GAIN * jaw / (1.0 + JAW_OPEN_KNEE * jaw)


class NeuralFaceEngine:
    """Imitator-style learned mouth over the built-in face: a loaded model (kept between jobs) plus the
    style files it has read (by path and mtime, so a changed file is read again)."""

    name = "neural"

    def __init__(self, checkpoint: str | Path | None = None, device: str = "cpu") -> None:
        self.checkpoint = Path(checkpoint) if checkpoint else SHIPPED_CHECKPOINT
        if checkpoint is None and not self.checkpoint.is_file():
            raise UserError(missing_model_message(FACE_MODEL, "--face-checkpoint"))
        self.device = device
        self.model, self.payload = load_checkpoint(self.checkpoint, device)
        self._styles: dict[str, tuple[float, FaceStyle]] = {}

    @classmethod
    def load(cls, checkpoint: str | None, device: str) -> "NeuralFaceEngine":
        """The engine, or one UserError naming a missing or damaged checkpoint (config types checked)."""
        from ..torch_files import load_checked
        return load_checked(lambda: cls(checkpoint, device), checkpoint, FACE_MODEL, "face checkpoint",
                            "python -m backend train-face", lambda engine: engine.model.config)

    def check_style(self, path: str | Path) -> None:
        """Read a --face-style file now (so a bad one fails before the analysis): one UserError if damaged."""
        from ..torch_files import user_file
        with user_file(path, "face style file", "python -m backend personalize"):
            self.style(path)

    def generate_face(self, request: EngineRequest, lip_seal: bool = True) -> FaceMotion:
        return FaceMotion(generate_neural_face(self, request.analysis, request.emotion, request.intensity,
                                               request.rng, request.control, request.face_style, lip_seal))

    def style(self, path: str | Path) -> FaceStyle:
        path = Path(path)
        mtime = path.stat().st_mtime if path.is_file() else -1.0
        cached = self._styles.get(str(path))
        if cached is None or cached[0] != mtime:
            cached = (mtime, load_style(path, self.model.config))
            self._styles[str(path)] = cached
        return cached[1]

    @torch.no_grad()
    def mouth(self, samples16k: np.ndarray, n_frames: int, style: FaceStyle | None = None) -> np.ndarray:
        """16 kHz speech (N,) → speech channels (n_frames, 27) float32 in 0..1."""
        if n_frames == 0:
            return np.zeros((0, len(SPEECH_CHANNELS)), np.float32)
        model = self.model
        x = torch.from_numpy(motion_rate_log_mel(samples16k, n_frames, model.config.n_mels))[None].to(self.device)
        visemes = model.visemes(x)
        if style is None:
            vec = model.styles.weight[DEFAULT_STYLE][None]
            out = model.decode_motion(visemes, vec)
        else:
            dev = self.device
            out = model.decode_motion(visemes, style.embedding[None].to(dev),
                                      model.basis.weight + style.basis_weight_delta.to(dev),
                                      model.basis.bias + style.basis_bias_delta.to(dev))
        return out[0].clamp(0.0, 1.0).cpu().numpy().astype(np.float32)


def bilabial_seal_gate(phones: list[Phone], n_frames: int, fps: int = MOTION_FPS,
                       params: FaceParams = FaceParams()) -> np.ndarray:
    """(n_frames,) 0..1: 1 while the lips are sealed in the middle of each p/b/m, raised-cosine ramps around:
    the built-in face's seal (mouth_layers.lip_seal_gate, its hold and ramp)."""
    bilabial = [ph for ph in phones if ph.label.upper() in BILABIALS]
    return lip_seal_gate(np.array([ph.start for ph in bilabial], float), np.array([ph.end for ph in bilabial], float),
                         n_frames, fps, params.lip_seal_min_hold_s, params.lip_seal_ramp_s)


def compose_face(mouth: np.ndarray, base_face: np.ndarray, emotion: str, intensity: float,
                 phones: list[Phone] | None = None, fps: int = MOTION_FPS,
                 pause: np.ndarray | None = None, calibrate_jaw: bool = True) -> np.ndarray:
    """Learned mouth (T, 27) + built-in face (T, 52) → (T, 52) float32 in 0..1.

    Eyes, brows, blinks and the emotion's non-mouth expression come from `base_face`; the emotion's
    mouth offsets and jaw gain are added on top of the learned mouth (style-independent controls).
    With phone timing, p/b/m seal the lips (aperture → 0); the lips never pass through each other.
    pause (T,) 0..1, 1 where nobody speaks: the jaw relaxes to rest and the lips close there.
    calibrate_jaw: put the generic model's jaw on the built-in scale (`calibrated_jaw_open`).
    """
    out = np.array(base_face, np.float64)
    m = np.array(mouth, np.float64)
    style = EMOTION_STYLES[emotion]
    intensity = float(np.clip(intensity, 0.0, 1.0))
    if calibrate_jaw:
        m[:, JAW_OPEN] = calibrated_jaw_open(m[:, JAW_OPEN])
    m[:, JAW_OPEN] *= emotion_gain(style.jaw_gain, intensity)
    add_expression(m, SPEECH_POSITION, style.expression, intensity)  # the mouth's share; base_face has the rest
    if pause is not None:
        rest = np.clip(np.asarray(pause, np.float64)[:len(m)], 0.0, 1.0)
        m[:, JAW_OPEN] += rest * (REST_TARGETS["jawOpen"] - m[:, JAW_OPEN])
        m[:, MOUTH_CLOSE] += rest * (m[:, JAW_OPEN] - m[:, MOUTH_CLOSE])
    seal = bilabial_seal_gate(phones, len(m), fps) if phones else None
    seal_lips(m, SPEECH_POSITION, seal, FaceParams().lip_seal_jaw_pull)
    out[:, SPEECH_INDEX] = m
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def generate_neural_face(generator: NeuralFaceEngine, analysis: SpeechAnalysis, emotion: str, intensity: float,
                         rng: np.random.Generator, control: JobControl | None = None,
                         style_path: str | Path | None = None, lip_seal: bool = True) -> np.ndarray:
    """One take's ARKit curves (analysis.n_frames, 52) float32 0..1; needs analysis.samples (16 kHz audio)."""
    samples = getattr(analysis, "samples", None)
    if samples is None:
        raise ValueError("the neural face engine needs the audio: SpeechAnalysis.samples is not set")
    control = control or JobControl()
    style = generator.style(style_path) if style_path else None
    base = generate_face(analysis, emotion, intensity, rng, control.sub(0.0, 0.3))
    control.report(0.3, "neural face")
    mouth = generator.mouth(samples, analysis.n_frames, style)
    control.report(0.9, "neural face: layers")
    pause = gaussian_filter1d(1.0 - np.asarray(analysis.speech, np.float64), PAUSE_SMOOTHING_S * analysis.fps,
                              mode="nearest") if len(analysis.speech) else None
    return compose_face(mouth, base, emotion, intensity, analysis.phones if lip_seal else None, analysis.fps,
                        pause, calibrate_jaw=style is None)
