"""Training clips for the neural face: audio features + target mouth curves + lip-contact weights.

English speech (LJSpeech with transcripts) gets its targets from the built-in engine's transcript-aligned
mouth (style 0); FACEGOOD clips bring one real person's captured mouth (style 1, Mandarin).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...analysis import Phone, phone_frames
from ...progress import JobControl
from ...vocabulary.phonemes import BILABIALS
from ...vocabulary.rates import MOTION_FPS
from .channels import SPEECH_INDEX, load_facegood_clip, speech_aperture
from .features import motion_rate_log_mel

LIP_CONTACT_SIGMA_FRAMES = 1.5
ENGLISH_STYLE, FACEGOOD_STYLE = 0, 1
STYLE_NAMES = ["english-builtin", "facegood"]
FACEGOOD_CLIPS = ("1114_2_01", "1114_2_02", "1114_2_03", "1114_2_04", "1114_2_05")


@dataclass(frozen=True)
class TrainingClip:
    """features (T, n_mels); mouth (T, 27) speech channels; lip_weight (T,) 0..1; style id."""

    name: str
    features: np.ndarray
    mouth: np.ndarray
    lip_weight: np.ndarray
    style: int

    @property
    def n_frames(self) -> int:
        return len(self.mouth)


def lip_contact_weights(phones: list[Phone], mouth: np.ndarray, fps: int = MOTION_FPS,
                        sigma: float = LIP_CONTACT_SIGMA_FRAMES) -> np.ndarray:
    """(T,) Gaussian bumps (peak 1) centred on each p/b/m's closure frame.

    The closure frame is where the target's lip aperture is smallest within the phone (the
    Imitator rule: the local minimum of lip distance at the consonant). mouth (T, 27).
    """
    n = len(mouth)
    aperture = speech_aperture(mouth)
    t = np.arange(n)
    out = np.zeros(n, np.float32)
    for ph in phones:
        if ph.label.upper() not in BILABIALS:
            continue
        frames = phone_frames(ph, fps, n)
        if not len(frames):
            continue
        centre = frames[np.argmin(aperture[frames])]
        out = np.maximum(out, np.exp(-0.5 * ((t - centre) / sigma) ** 2).astype(np.float32))
    return out


def english_clip(wav: str | Path, transcript: str | None, control: JobControl | None = None) -> TrainingClip:
    """One English recording → built-in-engine mouth targets (neutral emotion) from its phones.

    With a transcript the phones are force-aligned; without one they are recognised (noisier).
    """
    from ...audio.analyze import analyze_speech
    from ...audio.io import load_audio
    from ..builtin.face import generate_face

    audio = load_audio(wav)
    analysis = analyze_speech(audio, transcript, "en", control)
    # the built-in mouth depends only on the analysis; the rng drives eyes/brows, which we drop
    face = generate_face(analysis, "neutral", 0.5, np.random.default_rng(0))
    mouth = face[:, SPEECH_INDEX]
    return TrainingClip(Path(wav).stem, motion_rate_log_mel(audio.samples, analysis.n_frames), mouth,
                        lip_contact_weights(analysis.phones, mouth), ENGLISH_STYLE)


def facegood_clip(folder: str | Path, clip: str) -> TrainingClip:
    """A FACEGOOD recording and its captured curves (mapped to ARKit), trimmed to the shorter of the two."""
    from ...audio.io import load_audio

    wav, arkit = load_facegood_clip(folder, clip)
    audio = load_audio(wav)
    n = min(len(arkit), int(round(audio.duration * MOTION_FPS)))
    mouth = arkit[:n, SPEECH_INDEX]
    # no English phones for Mandarin: the lip-contact term has no frames here
    return TrainingClip(clip, motion_rate_log_mel(audio.samples, n), mouth, np.zeros(n, np.float32), FACEGOOD_STYLE)


def ljspeech_items(ljspeech_dir: str | Path) -> list[tuple[Path, str | None]]:
    """(wav, normalised transcript or None) for every wav in the folder, sorted by id.

    Transcripts come from metadata.csv (`id|text|normalised text`) where listed.
    """
    folder = Path(ljspeech_dir)
    from ...formats.ljspeech import read_ljspeech_transcripts

    meta = folder / "metadata.csv"
    transcripts = read_ljspeech_transcripts(meta) if meta.is_file() else {}
    return [(wav, transcripts.get(wav.stem)) for wav in sorted(folder.glob("*.wav"))]


def save_clips(path: str | Path, clips: list[TrainingClip]) -> None:
    arrays = {}
    for i, c in enumerate(clips):
        arrays.update({f"{i}_features": c.features, f"{i}_mouth": c.mouth, f"{i}_lip": c.lip_weight,
                       f"{i}_style": np.array(c.style), f"{i}_name": np.array(c.name)})
    np.savez(path, count=np.array(len(clips)), **arrays)


def load_clips(path: str | Path) -> list[TrainingClip]:
    with np.load(path, allow_pickle=False) as data:
        return [TrainingClip(str(data[f"{i}_name"]), data[f"{i}_features"], data[f"{i}_mouth"], data[f"{i}_lip"],
                             int(data[f"{i}_style"])) for i in range(int(data["count"]))]
