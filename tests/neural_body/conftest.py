"""A tiny body model trained once per session on a BEAT2-layout folder written at test time
(built-in engine motion over real LJSpeech audio)."""
from __future__ import annotations

import pytest
import torch

from backend.engines.neural_body.config import tiny
from backend.engines.neural_body.beat2 import read_beat2_folder
from backend.engines.neural_body.builtin_dataset import write_builtin_dataset
from backend.engines.neural_body.windows import build_windows
from backend.engines.neural_body.train import TrainSchedule, train_body

TINY_SCHEDULE = TrainSchedule(vq_steps=120, transformer_steps=80, batch=8, warmup=10, vq_lr=3e-3,
                              transformer_lr=3e-3, log_every=10, save_every=10_000, restart_every=50)


@pytest.fixture(scope="session")
def beat2_dir(tmp_path_factory, shared_dir):
    lj = shared_dir / "data" / "speech" / "ljspeech"
    return write_builtin_dataset([lj / "LJ001-0001.wav"], tmp_path_factory.mktemp("beat2"), takes=2)


@pytest.fixture(scope="session")
def trained(beat2_dir, tmp_path_factory):
    """(checkpoint path, training log lines, windows) of a tiny model overfitted on ~10 s of speech."""
    torch.set_num_threads(1)  # tiny tensors: threads only add synchronisation cost on a shared machine
    clips = read_beat2_folder(beat2_dir)
    windows = build_windows(clips, tiny())
    lines: list[str] = []
    path = train_body(windows, tmp_path_factory.mktemp("ckpt") / "tiny.pt", tiny(), TINY_SCHEDULE,
                      log=lines.append)
    return path, lines, windows
