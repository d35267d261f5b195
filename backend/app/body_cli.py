"""`train-body` and `evaluate`: the neural body engine's command-line tools.

    python -m backend train-body --out body.pt [--data BEAT2_DIR] [--config small|emage] [--resume]
    python -m backend evaluate DATA_DIR [--engines builtin,neural] [--checkpoint body.pt] [--json]

Without --data, train-body trains on built-in engine motion over the shared real speech (LJSpeech and
LibriSpeech), written once as a BEAT2-layout folder beside the checkpoint.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..paths import default_shared_dir
from ..errors import EXIT_OK, UserError
from ..vocabulary.choices import DEVICES

# Clips kept out of the shipped model's training data, for `evaluate`.
HELDOUT_SPEECH = ("LJ001-0030", "LJ001-0031", "LJ001-0032", "5703-47212-0000")


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def shared_speech(shared: Path, heldout: bool) -> tuple[list[Path], dict[str, str]]:
    """(audio files, transcripts by stem) of the shared speech: the held-out ones or all the others."""
    speech = shared / "data" / "speech"
    files = sorted((speech / "ljspeech").glob("*.wav")) + sorted((speech / "librispeech").glob("*.ogg"))
    if not files:
        raise UserError(f"no speech found under {speech}: pass --shared-dir (the folder holding data/)")
    from ..formats.ljspeech import read_ljspeech_transcripts

    meta = speech / "ljspeech" / "metadata.csv"
    texts = read_ljspeech_transcripts(meta) if meta.is_file() else {}
    for txt in (speech / "librispeech").glob("*.txt"):
        texts[txt.stem] = txt.read_text(encoding="utf-8").strip()
    files = [f for f in files if (f.stem in HELDOUT_SPEECH) == heldout]
    return files, texts


def cmd_train_body(args: argparse.Namespace) -> int:
    import torch

    from ..engines.device import resolve_device
    from ..engines.neural_body.config import CONFIGS
    from ..engines.neural_body.beat2 import read_beat2_folder
    from ..engines.neural_body.builtin_dataset import write_builtin_dataset
    from ..engines.neural_body.windows import build_windows
    from ..engines.neural_body.train import TrainSchedule, strip_for_shipping, train_body

    torch.set_num_threads(max(1, min(args.threads, os.cpu_count() or 1)))
    device = resolve_device(args.device)
    out = Path(args.out)
    if args.data:
        data_dir = Path(args.data)
        source = f"BEAT2-layout folder {data_dir}"
    else:
        shared = Path(args.shared_dir) if args.shared_dir else default_shared_dir()
        data_dir = out.with_name(out.stem + ".data")
        files, texts = shared_speech(shared, heldout=False)
        if not (data_dir / "smplxflame_30").is_dir():
            _log(f"writing built-in engine motion over {len(files)} speech clips to {data_dir}")
            write_builtin_dataset(files, data_dir, takes=args.takes, transcripts=texts, log=_log)
        source = (f"built-in engine motion ({args.takes} takes, seeds [clip, take]) over {len(files)} real speech "
                  f"clips from {shared / 'data' / 'speech'} (held out: {', '.join(HELDOUT_SPEECH)})")
    clips = read_beat2_folder(data_dir, limit=args.limit)
    cfg = CONFIGS[args.config]()
    windows = build_windows(clips, cfg)
    seconds = sum(c.n_frames for c in clips) / cfg.fps
    _log(f"{len(clips)} clips, {seconds:.0f} s of motion, {len(windows.motion)} windows; device {device}")
    sched = TrainSchedule(vq_steps=args.vq_steps, transformer_steps=args.transformer_steps, batch=args.batch,
                          seed=args.seed, log_every=args.log_every)
    meta = {"data": source, "clips": len(clips), "motion_seconds": round(seconds, 1), "device": device,
            "config_name": args.config, "threads": torch.get_num_threads()}
    train_body(windows, out, cfg, sched, resume=args.resume, device=device, log=_log, meta=meta)
    if args.ship:
        strip_for_shipping(out, args.ship)
        _log(f"shipping copy (no optimizer state): {args.ship}")
    print(out)
    return EXIT_OK


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluate import evaluate_folder
    from ..metrics.evaluate import EvaluationSettings, format_report

    engines = tuple(e.strip() for e in args.engines.split(",") if e.strip())
    settings = EvaluationSettings(seed=args.seed, fgd_steps=args.fgd_steps, takes=args.takes)
    report = evaluate_folder(Path(args.data), engines, settings, checkpoint=args.checkpoint,
                             device=args.device, log=None if args.json else _log)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return EXIT_OK


def register_body_commands(sub) -> None:
    tb = sub.add_parser("train-body", help="train the neural body engine (part VQ-VAEs + masked transformer)")
    tb.add_argument("--out", required=True, help="checkpoint to write (resumable)")
    tb.add_argument("--data", help="BEAT2-layout folder (motion npz + wav with the same names); "
                                   "default: built-in engine motion over the shared real speech")
    tb.add_argument("--shared-dir", help="folder holding data/speech (default: ../shared or $ORATOR_SHARED)")
    tb.add_argument("--config", default="small", choices=("small", "emage", "tiny"))
    tb.add_argument("--vq-steps", type=int, default=1500)
    tb.add_argument("--transformer-steps", type=int, default=2500)
    tb.add_argument("--batch", type=int, default=32)
    tb.add_argument("--takes", type=int, default=3, help="built-in takes per speech clip (default data only)")
    tb.add_argument("--limit", type=int, help="use at most this many clips")
    tb.add_argument("--seed", type=int, default=0)
    tb.add_argument("--resume", action="store_true", help="continue from --out where it stopped")
    tb.add_argument("--ship", metavar="PATH", help="also write a copy without optimizer state")
    tb.add_argument("--threads", type=int, default=max(1, (os.cpu_count() or 2) // 2))
    tb.add_argument("--device", default="auto", choices=DEVICES)
    tb.add_argument("--log-every", type=int, default=50)
    tb.set_defaults(func=cmd_train_body)

    ev = sub.add_parser("evaluate", help="BC, FD_g/FD_k, FGD and L1 diversity of body engines on real data")
    ev.add_argument("data", help="BEAT2-layout folder with the real motion and its audio")
    ev.add_argument("--engines", default="builtin,neural", help="comma-separated body engines")
    ev.add_argument("--checkpoint", help="neural body checkpoint (default: the shipped one)")
    ev.add_argument("--takes", type=int, default=2, help="takes per clip (for cross-take diversity)")
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--fgd-steps", type=int, default=300, help="training steps of the FGD motion autoencoder")
    ev.add_argument("--device", default="auto", choices=DEVICES)
    ev.add_argument("--json", action="store_true")
    ev.set_defaults(func=cmd_evaluate)
