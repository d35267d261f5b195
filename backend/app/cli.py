"""Command line: generate, batch, serve, info.

Exit codes: backend/errors.py (0 ok, 1 internal, 2 user error, 3 batch with failed files, 130 cancelled).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

from .. import __version__
from ..errors import EXIT_BATCH_FAILURES, EXIT_CANCELLED, EXIT_INTERNAL, EXIT_OK, EXIT_USER, Cancelled, UserError
from .crash_log import write_crash_log
from ..options import GenerateOptions
from ..vocabulary.choices import DEVICES, EMOTIONS, FACE_FORMATS, LANGUAGES, MAX_TAKES, RECOGNIZERS


def add_generation_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("generation")
    g.add_argument("--engine", default="builtin", help="body engine (default: builtin, needs no weights)")
    g.add_argument("--face-engine", default="builtin", help="face engine (default: builtin)")
    g.add_argument("--seed", type=int, default=0, help="random seed; same seed, same output (default 0)")
    g.add_argument("--takes", type=int, default=1, help=f"number of different performances, 1..{MAX_TAKES}")
    g.add_argument("--emotion", default="neutral", choices=EMOTIONS)
    g.add_argument("--intensity", type=float, default=0.5, help="emotion strength 0..1 (default 0.5)")
    g.add_argument("--language", default="auto", choices=LANGUAGES,
                   help="en: English words and transcripts; other: acoustic mouth only (any language); "
                        "auto (default): English unless the speech does not sound English")
    g.add_argument("--recognizer", default="words", choices=RECOGNIZERS,
                   help="without a transcript: words (language model, lips close on the right p/b/m; default) "
                        "or phones (about 3× faster overall, bilabials often misplaced)")
    g.add_argument("--arkit-to-flame", metavar="M.npy",
                   help="(52, 100) matrix mapping ARKit weights to FLAME expressions (else expressions stay 0)")
    g.add_argument("--bvh", action="store_true", help="also write the skeleton motion as motion.bvh")
    g.add_argument("--face-format", default="arkit", choices=FACE_FORMATS,
                   help="face curves besides ARKit: oculus (the 15 Oculus/Meta visemes, Ready Player Me) or vrm "
                        "(VRM expressions aa ih ou ee oh, blinks, emotions) into face_<format>.csv")
    g.add_argument("--device", default="auto", choices=DEVICES)
    g.add_argument("--face-style", metavar="STYLE.orstyle",
                   help="speaking style from `personalize` (needs --face-engine neural)")
    g.add_argument("--face-checkpoint", metavar="CKPT.pt",
                   help="neural face model (default: the shipped face_generic.pt)")
    g.add_argument("--prompts", metavar="PROMPTS.npz",
                   help="masked keyframe prompts: joints/curves fixed at chosen frames (see backend/prompts.py)")
    g.add_argument("--checkpoint", metavar="BODY.pt",
                   help="neural body model from `train-body` (needs --engine neural; default: the shipped one); "
                        "with --engine emage: the folder of the downloaded H-Liu1997/emage_audio model")
    g.add_argument("--raw", action="store_true",
                   help="EMAGE: write the network's own result exactly as the official code does (poses, "
                        "expressions, trans; no grounding, limits or prompt blending) to check the port")
    g.add_argument("--flame-to-arkit", metavar="M.npy",
                   help="EMAGE: (100, 52) matrix, FLAME expression × ARKit curve; curves it maps (non-zero "
                        "columns) follow EMAGE's face instead of the face engine, jawOpen follows EMAGE's jaw")
    g.add_argument("--speaker", type=int, metavar="ID",
                   help="neural body: whose gesture style, a speaker id the checkpoint was trained on "
                        "(BEAT2: the leading number of the file names; default: its most frequent speaker)")
    g.add_argument("--smplx-model", metavar="SMPLX_NEUTRAL.npz",
                   help="your SMPL-X model: motion.npz fingers are written relative to its mean hand "
                        "(hands_meanl/r, as BEAT2 and smplx expect) instead of Orator's stand-in")


def options_from_args(args: argparse.Namespace, transcript: str | None = None) -> GenerateOptions:
    return GenerateOptions(engine=args.engine, face_engine=args.face_engine, seed=args.seed, takes=args.takes,
                           emotion=args.emotion, intensity=args.intensity, transcript=transcript,
                           language=args.language, recognizer=args.recognizer, arkit_to_flame=args.arkit_to_flame, bvh=args.bvh,
                           device=args.device, face_style=args.face_style,
                           face_checkpoint=args.face_checkpoint, prompts=args.prompts,
                           checkpoint=args.checkpoint, speaker=args.speaker,
                           smplx_model=getattr(args, "smplx_model", None),
                           face_format=args.face_format, raw=args.raw,
                           flame_to_arkit=args.flame_to_arkit).validated()


def read_transcript(args: argparse.Namespace) -> str | None:
    if args.transcript is not None and args.transcript_file is not None:
        raise UserError("give either --transcript or --transcript-file, not both")
    if args.transcript_file is not None:
        path = Path(args.transcript_file)
        if not path.is_file():
            raise UserError(f"transcript file not found: {path}")
        try:
            return path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise UserError(f"transcript file {path} is not UTF-8 text") from None
    return args.transcript


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def cmd_generate(args: argparse.Namespace) -> int:
    from ..generation.pipeline import run_generate
    from ..progress import GenerateProgress, JobControl

    options = options_from_args(args, read_transcript(args))
    if threading.current_thread() is threading.main_thread():  # SIGTERM: the same clean stop as Ctrl-C
        signal.signal(signal.SIGTERM, _interrupt)
    progress = GenerateProgress(not args.json and not args.quiet)
    try:
        summary = run_generate(args.audio, args.output, options, JobControl(progress))
    finally:
        progress.close()
    if args.json:
        print(json.dumps(summary.to_json()))
    else:
        for warning in summary.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        for path in summary.files():  # --raw writes motion.npz only
            print(path)
    return EXIT_OK


def cmd_batch(args: argparse.Namespace) -> int:
    from .batch import run_batch
    from ..progress import BatchProgress

    options = options_from_args(args)
    ray = None
    if args.ray is not None:
        from .batch_ray import RaySettings
        ray = RaySettings(args.ray, args.cpus_per_task, args.gpus_per_task, args.ship_files).validated()
    progress = BatchProgress(not args.json)
    try:
        report = run_batch(Path(args.input_dir), Path(args.output), options, workers=args.workers,
                           sidecar_transcripts=args.sidecar_transcripts,
                           on_file=None if args.json else progress.line, ray=ray, on_start=progress.start)
    finally:
        progress.close()
    if args.json:
        print(json.dumps(report.to_json()))
    else:
        redone = f" ({report.redone} made with other options, redone)" if report.redone else ""
        print(f"{report.done} done{redone}, {report.skipped} skipped, {report.failed} failed "
              f"in {report.elapsed_s:.1f} s")
        print(f"manifest: {report.manifest}")
        for failure in report.failures:
            print(f"failed: {failure['audio']}: {failure['error']}", file=sys.stderr)
    return EXIT_BATCH_FAILURES if report.failed else EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from .worker import serve
    return serve()


def cmd_info(args: argparse.Namespace) -> int:
    from .info import collect_info
    info = collect_info()
    if args.json:
        print(json.dumps(info))
    else:
        available = info.pop("available")
        width = max(len(k) for k in info)
        for key, value in info.items():
            print(f"{key:<{width}}  {value}")
        for part, engines in available.items():
            for name, state in engines.items():
                if not state["ready"]:
                    print(f"{'not ready':<{width}}  {part} {name}: needs {', '.join(state['missing'])}")
    return EXIT_OK


class OneLineParser(argparse.ArgumentParser):
    """Usage errors as one line (not usage + 17 lines of choices), exit code 2 like every user error."""

    def error(self, message: str):
        self.exit(EXIT_USER, f"error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m backend",
                                     description="Orator backend: speech → SMPL-X body + ARKit face motion")
    parser.add_argument("--version", action="version", version=f"orator {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="one audio file → motion.npz + face_arkit.csv")
    gen.add_argument("audio", help="speech recording (wav, flac, ogg, mp3; any rate and channel count)")
    gen.add_argument("-o", "--output", required=True, help="output folder")
    gen.add_argument("--transcript", help="the words spoken (enables forced alignment)")
    gen.add_argument("--transcript-file", help="UTF-8 text file with the words spoken")
    gen.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    gen.add_argument("-q", "--quiet", action="store_true", help="no progress line")
    add_generation_arguments(gen)
    gen.set_defaults(func=cmd_generate)

    bat = sub.add_parser("batch", help="every audio file in a folder, in parallel processes")
    bat.add_argument("input_dir")
    bat.add_argument("-o", "--output", required=True, help="output folder (one subfolder per audio file)")
    bat.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    bat.add_argument("--sidecar-transcripts", action="store_true",
                     help="use NAME.txt or NAME.lab beside NAME.wav as its transcript")
    bat.add_argument("--json", action="store_true", help="print a JSON report on stdout")
    from .batch_ray import add_ray_arguments
    add_ray_arguments(bat)
    add_generation_arguments(bat)
    bat.set_defaults(func=cmd_batch)

    srv = sub.add_parser("serve", help="worker: JSON lines on stdin/stdout (used by the Blender add-on)")
    srv.set_defaults(func=cmd_serve)

    inf = sub.add_parser("info", help="versions, device and engines")
    inf.add_argument("--json", action="store_true")
    inf.set_defaults(func=cmd_info)

    from .face_cli import register_face_commands
    register_face_commands(sub)
    from .body_cli import register_body_commands
    register_body_commands(sub)
    from ..live.cli import add_arguments as add_live_arguments, main as live_main
    live = sub.add_parser("live", help="microphone, file or stdin PCM → face + head frames in real time")
    add_live_arguments(live)
    live.set_defaults(func=live_main)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # argparse itself exits 2 on bad usage
    import warnings
    # Non-finite results are refused by name (pipeline.check_finite); numpy's own overflow notes only confuse.
    warnings.simplefilter("ignore", RuntimeWarning)
    try:
        return args.func(args)
    except BrokenPipeError:  # `generate --json | head`: the reader left; not an error of ours
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except OSError:
            pass
        return EXIT_OK
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER
    except (Cancelled, KeyboardInterrupt):
        print("cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    except Exception as exc:  # noqa: BLE001 - last line of defence: log, one line, exit 1
        path = write_crash_log(exc)
        print(f"internal error: {exc.__class__.__name__}: {exc} (details in {path})", file=sys.stderr)
        return EXIT_INTERNAL
