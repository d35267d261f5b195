"""Sizes of the EMAGE-style body generator as frozen dataclasses; a checkpoint stores `to_dict()` of one.

Body parts (EMAGE's split, docs/models.md), one token per frame:
  face  = jaw rot6d (6) + 100 expressions          = 106
  upper = 13 joints × rot6d                         = 78
  hands = 30 joints × rot6d                         = 180
  lower = 9 joints × rot6d + trans (3) + contacts 4 = 61
The trans channels of `lower` are (x velocity m/s, absolute y m, z velocity m/s); the contacts are the
left/right ankle and foot joints.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from ...vocabulary.rates import AUDIO_RATE, MOTION_FPS

PART_WIDTHS = {"face": 106, "upper": 78, "hands": 180, "lower": 61}


@dataclass(frozen=True)
class VQConfig:
    hidden: int = 256          # conv channels
    latent: int = 256          # code vector size
    codebook: int = 256        # codes per part
    depth: int = 2             # residual blocks (lower uses lower_depth)
    lower_depth: int = 4
    beta: float = 0.25         # commitment weight


@dataclass(frozen=True)
class TransformerConfig:
    hidden: int = 768
    heads: int = 4
    ffn: int = 1536
    self_layers: int = 1       # temporal self-attention over the body hints
    decoder_layers: int = 8    # audio → motion cross-attention
    audio_dim: int = 256
    audio_channels: int = 64   # first conv width of the waveform encoder
    rhythm: bool = True        # fuse amplitude envelope + onset impulses with the waveform features
    period: int = 64           # periodic positional encoding
    speakers: int = 32
    default_speaker: int = 0   # used when no speaker is asked for; train_body sets the most frequent one
    dropout: float = 0.1


@dataclass(frozen=True)
class NeuralBodyConfig:
    parts: tuple[str, ...] = ("face", "upper", "hands", "lower")
    vq: VQConfig = field(default_factory=VQConfig)
    transformer: TransformerConfig = field(default_factory=TransformerConfig)
    global_hidden: int = 128   # global-motion conv net channels
    window: int = 64
    seed_frames: int = 4
    stride: int = 20           # training windows
    fps: int = MOTION_FPS
    sample_rate: int = AUDIO_RATE

    @property
    def body_parts(self) -> tuple[str, ...]:
        return tuple(p for p in self.parts if p != "face")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["parts"] = list(self.parts)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "NeuralBodyConfig":
        known = {f.name for f in fields(cls)}
        vals = {k: v for k, v in d.items() if k in known}
        vals["parts"] = tuple(vals.get("parts", cls.parts))
        if "vq" in vals:
            vals["vq"] = VQConfig(**{k: v for k, v in vals["vq"].items() if k in {f.name for f in fields(VQConfig)}})
        if "transformer" in vals:
            tf = {f.name for f in fields(TransformerConfig)}
            vals["transformer"] = TransformerConfig(**{k: v for k, v in vals["transformer"].items() if k in tf})
        cfg = cls(**vals)
        unknown = set(cfg.parts) - set(PART_WIDTHS)
        if unknown or "upper" not in cfg.parts:
            raise ValueError(f"bad body parts {cfg.parts}")
        return cfg


def emage() -> NeuralBodyConfig:
    """The sizes of EMAGE's audio-only model (docs/models.md)."""
    return NeuralBodyConfig()


def small() -> NeuralBodyConfig:
    """The shipped CPU-sized model: body parts only (the face engine makes jaw and expressions)."""
    return NeuralBodyConfig(parts=("upper", "hands", "lower"),
                            vq=VQConfig(hidden=64, latent=64, codebook=256, depth=2, lower_depth=2),
                            transformer=TransformerConfig(hidden=128, heads=4, ffn=256, self_layers=1,
                                                          decoder_layers=2, audio_dim=64, audio_channels=32,
                                                          speakers=4, dropout=0.1),
                            global_hidden=64)


def tiny() -> NeuralBodyConfig:
    """For tests: trains in seconds."""
    return NeuralBodyConfig(parts=("upper", "hands", "lower"),
                            vq=VQConfig(hidden=32, latent=16, codebook=32, depth=1, lower_depth=1),
                            transformer=TransformerConfig(hidden=32, heads=2, ffn=64, self_layers=1,
                                                          decoder_layers=1, audio_dim=16, audio_channels=8,
                                                          speakers=2, dropout=0.0),
                            global_hidden=16)


CONFIGS = {"emage": emage, "small": small, "tiny": tiny}
