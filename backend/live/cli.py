"""`python -m backend live`: microphone, a file or stdin PCM in; JSON lines / Live Link Face / OSC out.

Exit codes as the rest of the CLI: 0 the input ended, 2 bad input (one line on stderr), 130 interrupted.
"""
from __future__ import annotations

import argparse
import sys

from ..errors import UserError
from ..vocabulary.choices import EMOTIONS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    src = parser.add_mutually_exclusive_group()
    src.add_argument("--input", metavar="FILE", help="a recording instead of the microphone")
    src.add_argument("--stdin-format", metavar="FMT:RATE",
                     help="raw mono PCM on stdin: s16le or f32le at 8000..192000 Hz, e.g. s16le:16000")
    parser.add_argument("--realtime", action="store_true",
                        help="with --input: play the file at real-time pace (else as fast as it is analysed)")
    parser.add_argument("--device", help="microphone name or index (default: the system's default input)")
    parser.add_argument("--livelink", metavar="HOST:PORT",
                        help="also send Live Link Face UDP packets (Unreal's Live Link Face source, port 11111)")
    parser.add_argument("--subject", default="Orator", help="Live Link subject name (default Orator)")
    parser.add_argument("--osc", metavar="HOST:PORT",
                        help="also send VMC-protocol OSC blendshapes (VSeeFace, VMagicMirror; port 39539)")
    parser.add_argument("--no-json", action="store_true", help="no JSON lines on stdout")
    parser.add_argument("--no-recognition", action="store_true",
                        help="no word recognition: mouth from loudness and closures only (any language, less CPU)")
    parser.add_argument("--record", metavar="DIR",
                        help="keep what was performed: at the end DIR/live.wav and a take (motion.npz, face CSV) "
                             "with the built-in body and the live face and head")
    # for the add-on: end the stream (writing a --record take) when stdin closes; portable where signals are
    # not (Windows), and a Blender that dies closes the pipe, so no orphan keeps the microphone open
    parser.add_argument("--until-stdin-closes", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--emotion", default="neutral", choices=EMOTIONS)
    parser.add_argument("--intensity", type=float, default=0.5)


def main(args: argparse.Namespace) -> int:
    from .outputs import UdpSender, encode_livelink, encode_vmc, frame_json, new_device_id, parse_hostport
    from .sources import file_source, microphone_source, parse_stdin_format, stdin_source
    from .stream import StreamOptions, run_stream

    if args.until_stdin_closes and args.stdin_format:
        raise UserError("--until-stdin-closes cannot be used with --stdin-format (stdin carries the audio)")
    if args.until_stdin_closes:
        _interrupt_when_stdin_closes()
    if args.realtime and not args.input:
        raise UserError("--realtime needs --input FILE (the microphone and stdin are real time already)")
    senders = []
    if args.livelink:
        ll = UdpSender(*parse_hostport(args.livelink, "--livelink"), "Live Link")
        device_id = new_device_id()
        senders.append((ll, lambda f: encode_livelink(f, args.subject, device_id)))
    if args.osc:
        senders.append((UdpSender(*parse_hostport(args.osc, "--osc"), "OSC"), encode_vmc))
    if args.input:
        source = file_source(args.input, args.realtime)
    elif args.stdin_format:
        parse_stdin_format(args.stdin_format)
        source = stdin_source(args.stdin_format)
    else:
        source = microphone_source(args.device)
    out = sys.stdout
    recorder = None
    if args.record:
        from .record import Recorder
        recorder = Recorder(args.record)
        source = _tee(source, recorder)
    try:
        for frame, latency in run_stream(source, StreamOptions(args.seed, args.emotion, args.intensity,
                                                              not args.no_recognition)):
            if not args.no_json:
                out.write(frame_json(frame, latency * 1000.0) + "\n")
                out.flush()
            for sender, encode in senders:
                sender.send(encode(frame))
            if recorder is not None:
                recorder.frame(frame)
    except BrokenPipeError:
        return 0        # the reader went away: nothing left to do
    except KeyboardInterrupt:
        pass            # Ctrl+C or the add-on's Stop: end the stream normally (a --record take is written)
    finally:
        for sender, _ in senders:
            sender.close()
        if recorder is not None:
            summary = recorder.finish(args.seed, args.emotion, args.intensity)
            print(f"live: recorded take in {args.record}" if summary else "live: nothing heard, no take",
                  file=sys.stderr, flush=True)
    return 0


def _interrupt_when_stdin_closes() -> None:
    import _thread
    import os
    import threading

    fd = sys.stdin.fileno()

    def watch():
        # os.read, not sys.stdin.buffer: a daemon thread blocked inside the buffered reader holds its lock,
        # and the interpreter's shutdown then aborts with "could not acquire lock for <stdin>"
        try:
            while os.read(fd, 4096):
                pass
        except OSError:
            pass
        _thread.interrupt_main()

    threading.Thread(target=watch, daemon=True).start()


def _tee(source, recorder):
    for block, arrival in source:
        recorder.audio(block)
        yield block, arrival
