"""Audio made at test time (nothing large is committed): speech-like synthetic signals and mixes."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


def speechlike(seconds: float, rate: int = 16000, seed: int = 0) -> np.ndarray:
    """Voiced bursts (harmonics of a gliding f0, syllable-rate amplitude) separated by pauses. float32 mono."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    f0 = 120 + 25 * np.sin(2 * np.pi * 0.3 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voice = sum(np.sin(k * phase) / k for k in range(1, 8))
    syllables = np.clip(np.sin(2 * np.pi * 4.0 * t), 0, None) ** 2
    phrases = (np.sin(2 * np.pi * 0.2 * t + rng.uniform(0, 6)) > -0.3).astype(float)
    signal = 0.2 * voice * syllables * phrases + 0.003 * rng.normal(size=n)
    return signal.astype(np.float32)


def write_wav(path: Path, samples: np.ndarray, rate: int, subtype: str = "PCM_16") -> Path:
    sf.write(str(path), samples, rate, subtype=subtype)
    return path
