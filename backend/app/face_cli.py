"""`train-face` and `personalize`: the neural face engine's command-line tools.

    python -m backend train-face --out ckpt.pt [--resume] [--steps N] [--no-facegood]
    python -m backend personalize --audio ref.wav --reference ref.csv|ref.npz -o style.orstyle
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..paths import default_shared_dir
from ..errors import EXIT_OK, UserError
from ..vocabulary.choices import DEVICES

DEFAULT_HELDOUT_LJ = ("LJ001-0006", "LJ001-0007", "LJ001-0008")
FACEGOOD_TRAIN = ("1114_2_01", "1114_2_02", "1114_2_03")
FACEGOOD_HELDOUT = ("1114_2_04", "1114_2_05")


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def cmd_train_face(args: argparse.Namespace) -> int:
    import torch

    from ..engines.neural_face.data import (STYLE_NAMES, english_clip, facegood_clip, ljspeech_items, load_clips,
                                           save_clips)
    from ..engines.device import resolve_device
    from ..engines.neural_face.training import TrainParams, train_face

    torch.set_num_threads(max(1, min(args.threads, os.cpu_count() or 1)))
    device = resolve_device(args.device)
    shared = Path(args.data_dir) if args.data_dir else default_shared_dir()
    lj_dir, fg_dir = shared / "data" / "speech" / "ljspeech", shared / "data" / "face" / "facegood"
    if not lj_dir.is_dir():
        raise UserError(f"training speech not found at {lj_dir}: pass --data-dir (the folder holding data/)")
    extra = [Path(d) for d in args.extra_speech]
    for folder in extra:
        if not (folder / "metadata.csv").is_file():
            raise UserError(f"--extra-speech {folder}: expected wavs plus an LJSpeech-style metadata.csv")
    out = Path(args.out)
    cache = Path(args.cache) if args.cache else out.with_name(out.name + ".data.npz")
    heldout = set(args.holdout_lj.split(",")) if args.holdout_lj else set()

    def prepare(path: Path, lj_keep, facegood: tuple[str, ...], what: str) -> list:
        if path.is_file():
            clips = load_clips(path)
            _log(f"{what} data from cache {path} ({len(clips)} clips)")
            return clips
        items = [(w, t) for folder in [lj_dir] + extra for w, t in ljspeech_items(folder) if lj_keep(w.stem)]
        clips = []
        for k, (wav, transcript) in enumerate(items):
            _log(f"preparing {what} English targets {k + 1}/{len(items)}: {wav.name} "
                 f"({'transcript' if transcript else 'recognised phones'})")
            clips.append(english_clip(wav, transcript))
        for name in facegood:
            _log(f"preparing {what} FACEGOOD clip {name}")
            clips.append(facegood_clip(fg_dir, name))
        path.parent.mkdir(parents=True, exist_ok=True)
        save_clips(path, clips)
        return clips

    clips = prepare(cache, lambda stem: stem not in heldout, () if args.no_facegood else FACEGOOD_TRAIN, "training")
    val_cache = cache.with_name(cache.name.replace(".data.npz", "") + ".val.npz")
    val_clips = prepare(val_cache, lambda stem: stem in heldout, () if args.no_facegood else FACEGOOD_HELDOUT,
                        "validation")
    styles = STYLE_NAMES[:1] if args.no_facegood else STYLE_NAMES
    params = TrainParams(steps=args.steps, batch=args.batch, seed=args.seed, log_every=args.log_every)
    meta = {"data": "LJSpeech (built-in engine targets, style 0)" +
            "".join(f" + {folder.name} (wav + metadata.csv, style 0)" for folder in extra) +
            ("" if args.no_facegood else " + FACEGOOD " + ", ".join(FACEGOOD_TRAIN) + " (style 1)"),
            "heldout_ljspeech": sorted(heldout), "device": device}
    train_face(clips, out, styles, params, resume=args.resume, device=device, log=_log, meta=meta,
               val_clips=val_clips)
    print(out)
    return EXIT_OK


def cmd_personalize(args: argparse.Namespace) -> int:
    import torch

    from ..engines.device import resolve_device
    from ..engines.neural_face.personalize import PersonalizeParams, personalize_from_files

    torch.set_num_threads(max(1, min(args.threads, os.cpu_count() or 1)))
    params = PersonalizeParams(embedding_steps=args.embedding_steps, basis_steps=args.basis_steps)
    path, report = personalize_from_files(args.audio, args.reference, args.output, args.checkpoint,
                                          params=params, device=resolve_device(args.device),
                                          log=_log)
    _log(f"reference {report['reference_seconds']:.1f} s; fit error generic {report['error_generic']:.5f} → "
         f"style {report['error_embedding']:.5f} → basis {report['error_basis']:.5f} "
         f"({report['seconds']:.1f} s)")
    print(path)
    return EXIT_OK


def register_face_commands(subparsers) -> None:
    """Add `train-face` and `personalize` to the main parser's subcommands."""
    tr = subparsers.add_parser("train-face", help="train the neural face model (LJSpeech + FACEGOOD)")
    tr.add_argument("--out", required=True, help="checkpoint to write (a .resume file goes beside it)")
    tr.add_argument("--resume", action="store_true", help="continue from OUT.resume")
    tr.add_argument("--steps", type=int, default=3000)
    tr.add_argument("--batch", type=int, default=16)
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--data-dir", help="folder holding data/speech/ljspeech and data/face/facegood "
                                       "(default: $ORATOR_SHARED or ../shared)")
    tr.add_argument("--cache", help="prepared training data (default OUT.data.npz; reused when present)")
    tr.add_argument("--no-facegood", action="store_true",
                    help="English built-in targets only (a model that never saw FACEGOOD, for honest evaluation)")
    tr.add_argument("--holdout-lj", default=",".join(DEFAULT_HELDOUT_LJ),
                    help="comma-separated LJSpeech ids kept out of training")
    tr.add_argument("--extra-speech", action="append", default=[], metavar="DIR",
                    help="more English speech: a folder of wavs with an LJSpeech-style metadata.csv "
                         "(id|text|normalised text); repeatable")
    tr.add_argument("--log-every", type=int, default=100)
    tr.add_argument("--threads", type=int, default=2)
    tr.add_argument("--device", default="auto", choices=DEVICES)
    tr.set_defaults(func=cmd_train_face)

    pe = subparsers.add_parser("personalize", help="fit a speaking style from a reference recording + face curves")
    pe.add_argument("--audio", required=True, help="reference speech recording")
    pe.add_argument("--reference", required=True,
                    help="face curves of the same take: Live Link Face CSV, or npz with 'arkit' (T, 52) at 30 fps")
    pe.add_argument("-o", "--output", required=True, help="style file to write (.orstyle)")
    pe.add_argument("--checkpoint", help="generic model (default: the shipped face_generic.pt)")
    pe.add_argument("--embedding-steps", type=int, default=300)
    pe.add_argument("--basis-steps", type=int, default=300)
    pe.add_argument("--threads", type=int, default=2)
    pe.add_argument("--device", default="auto", choices=DEVICES)
    pe.set_defaults(func=cmd_personalize)
