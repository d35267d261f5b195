"""Long test speech built from real LJSpeech clips: sentences joined by short pauses, with their transcripts.

Used by the tests in tests/audio and by benchmarks/bench_generate.py, so both judge the same material.
`tempo` > 1 plays the clips faster (resampling: pitch rises with it), nearer conversational pacing than
read audiobook speech; pauses are drawn between 0.15 and 0.6 s, as between phrases in conversation.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from backend.vocabulary.rates import AUDIO_RATE as SR
from tests.conftest import ljspeech_transcripts

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("ORATOR_SHARED", REPO.parent / "shared"))
LJ = SHARED / "data" / "speech" / "ljspeech"


@dataclass
class Sentence:
    clip_id: str
    text: str
    start: float       # seconds in the joined file
    end: float


@dataclass
class LongSpeech:
    samples: np.ndarray            # (N,) float32 16 kHz
    sentences: list[Sentence]

    @property
    def duration(self) -> float:
        return len(self.samples) / SR

    def transcript(self, skip: set[int] = frozenset()) -> str:
        return " ".join(s.text for i, s in enumerate(self.sentences) if i not in skip)


_cache: dict[str, np.ndarray] = {}


def clip(clip_id: str, tempo: float = 1.0) -> np.ndarray:
    """One LJSpeech clip at 16 kHz, played `tempo` times faster (tempo = 1.25 → 1.25× shorter)."""
    key = f"{clip_id}@{tempo}"
    if key not in _cache:
        data, rate = sf.read(str(LJ / f"{clip_id}.wav"), dtype="float32")
        up, down = SR, int(round(rate * tempo))
        g = np.gcd(up, down)
        _cache[key] = resample_poly(data, up // g, down // g).astype(np.float32)
    return _cache[key]


def long_speech(seconds: float, tempo: float = 1.0, seed: int = 0, start_clip: int = 0) -> LongSpeech:
    """≥ `seconds` of LJSpeech sentences (cycling through the 32 clips) with 0.15–0.6 s pauses between."""
    meta = ljspeech_transcripts(written=True)  # digits, punctuation, casing as written
    ids = sorted(p.stem for p in LJ.glob("*.wav") if p.stem in meta)
    rng = np.random.default_rng(seed)
    parts, sentences, t = [np.zeros(int(0.3 * SR), np.float32)], [], 0.3
    i = start_clip
    while t < seconds:
        cid = ids[i % len(ids)]
        x = clip(cid, tempo)
        sentences.append(Sentence(cid, meta[cid], t, t + len(x) / SR))
        pause = np.zeros(int(rng.uniform(0.15, 0.6) * SR), np.float32)
        parts += [x, pause]
        t += (len(x) + len(pause)) / SR
        i += 1
    return LongSpeech(np.concatenate(parts), sentences)


def write(speech: LongSpeech, path: Path) -> Path:
    sf.write(str(path), speech.samples, SR, subtype="PCM_16")
    return path
