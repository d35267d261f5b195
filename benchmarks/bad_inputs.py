"""Hostile and broken inputs against the real CLI and worker, as a user or a script meets them (issue 19).

    .venv/bin/python benchmarks/bad_inputs.py [--json out.json]

Each case runs `python -m backend ...` (or writes lines to `serve`) and counts as handled cleanly when it
gives exit 2 with exactly one stderr line starting "error:" and no traceback (CLI), or the expected
`protocol`/`user` event with the worker still answering ping (worker), within its time limit.
Prints one row per case and "N tried, M handled cleanly".
"""
from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def tone(seconds=1.0, rate=16000, peak=0.3):
    t = np.arange(int(seconds * rate)) / rate
    return (peak * np.sin(2 * np.pi * 150 * t)).astype(np.float32)


def npy_declaring(shape, dtype="<f4") -> bytes:
    header = repr({"descr": dtype, "fortran_order": False, "shape": tuple(shape)}).encode()
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + b"\0" * 64


def build_files(d: Path) -> dict[str, Path]:
    f = {}
    f["clip"] = d / "clip.wav"
    sf.write(str(f["clip"]), tone(), 16000)
    for rate in (1, 44101):
        p = d / f"rate{rate}.wav"
        sf.write(str(p), tone(2.0), 16000)
        data = bytearray(p.read_bytes())
        data[24:32] = struct.pack("<II", rate, rate * 2)
        p.write_bytes(bytes(data))
        f[f"rate{rate}"] = p
    x = tone()
    x[50] = 1e25
    f["peak"] = d / "peak.wav"
    sf.write(str(f["peak"]), x, 16000, subtype="FLOAT")
    f["tiny"] = d / "tiny.wav"
    sf.write(str(f["tiny"]), tone(0.0005), 16000)
    f["junk"] = d / "junk.mp3"
    f["junk"].write_bytes(os.urandom(4000))
    f["empty"] = d / "empty.wav"
    f["empty"].write_bytes(b"")
    np.save(d / "huge_matrix.npy", np.full((52, 100), 3e38, np.float32))
    np.save(d / "text_matrix.npy", np.full((52, 100), "x"))
    (d / "bomb_matrix.npy").write_bytes(npy_declaring((10**12, 100)))
    f["npy_as_npz"] = d / "prompts.npz"
    np.save(d / "p.npy", np.zeros(4))
    os.replace(d / "p.npy", f["npy_as_npz"])
    k = 1
    prompts = {"frames": np.array([2**64 - 1], np.uint64), "pose_mask": np.zeros((k, 55), bool),
               "poses": np.zeros((k, 55, 3), np.float32), "trans_mask": np.zeros(k, bool),
               "trans": np.zeros((k, 3), np.float32), "arkit_mask": np.ones((k, 52), bool),
               "arkit": np.full((k, 52), 0.5, np.float32)}
    np.savez(d / "prompts_uint64.npz", **prompts)
    np.savez(d / "prompts_arkit.npz", **{**prompts, "frames": np.array([3]), "arkit": np.full((1, 52), 2.0, np.float32)})
    (d / "readonly").mkdir()
    (d / "afile").write_text("x")
    (d / "bad.pt").write_bytes(b"PK not a torch file")
    (d / "transcript.bin").write_bytes(b"\xff\xfe\x00bad")
    return f


def cli_cases(d: Path, f: dict[str, Path]) -> list[tuple[str, list[str], float]]:
    clip, o = str(f["clip"]), str(d / "out")
    return [
        ("header says 1 Hz", ["generate", str(f["rate1"]), "-o", o], 2.0),
        ("header says 44,101 Hz", ["generate", str(f["rate44101"]), "-o", o], 5.0),
        ("float wav peak 1e25", ["generate", str(f["peak"]), "-o", o], 20.0),
        ("0.5 ms wav", ["generate", str(f["tiny"]), "-o", o], 5.0),
        ("random bytes named .mp3", ["generate", str(f["junk"]), "-o", o], 5.0),
        ("0-byte wav", ["generate", str(f["empty"]), "-o", o], 5.0),
        ("missing audio", ["generate", str(d / "nope.wav"), "-o", o], 5.0),
        ("-o ''", ["generate", clip, "-o", ""], 5.0),
        ("-o under /proc", ["generate", clip, "-o", "/proc/1/x"], 5.0),
        ("-o a file", ["generate", clip, "-o", str(d / "afile")], 5.0),
        ("matrix 3e38", ["generate", clip, "-o", o, "--arkit-to-flame", str(d / "huge_matrix.npy")], 5.0),
        ("matrix of strings", ["generate", clip, "-o", o, "--arkit-to-flame", str(d / "text_matrix.npy")], 5.0),
        ("matrix declaring 10^14 floats", ["generate", clip, "-o", o, "--arkit-to-flame",
                                            str(d / "bomb_matrix.npy")], 5.0),
        (".npy renamed .npz prompts", ["generate", clip, "-o", o, "--prompts", str(f["npy_as_npz"])], 5.0),
        ("prompt frame 2^64-1", ["generate", clip, "-o", o, "--prompts", str(d / "prompts_uint64.npz")], 5.0),
        ("ARKit prompt target 2.0", ["generate", clip, "-o", o, "--prompts", str(d / "prompts_arkit.npz")], 5.0),
        ("checkpoint that is not one", ["generate", clip, "-o", o, "--engine", "neural",
                                         "--checkpoint", str(d / "bad.pt")], 20.0),
        ("face style without neural face", ["generate", clip, "-o", o, "--face-style", str(d / "bad.pt")], 5.0),
        ("transcript file not UTF-8", ["generate", clip, "-o", o, "--transcript-file",
                                        str(d / "transcript.bin")], 5.0),
        ("empty transcript", ["generate", clip, "-o", o, "--transcript", "  "], 5.0),
        ("bad --emotion", ["generate", clip, "-o", o, "--emotion", "giddy"], 5.0),
        ("--takes 0", ["generate", clip, "-o", o, "--takes", "0"], 5.0),
        ("--takes abc", ["generate", clip, "-o", o, "--takes", "abc"], 5.0),
        ("--intensity nan", ["generate", clip, "-o", o, "--intensity", "nan"], 5.0),
        ("--seed -1", ["generate", clip, "-o", o, "--seed", "-1"], 5.0),
        ("--speaker without neural", ["generate", clip, "-o", o, "--speaker", "1"], 5.0),
        ("batch of a missing folder", ["batch", str(d / "nope"), "-o", o], 5.0),
        ("batch --workers 0", ["batch", str(d), "-o", o, "--workers", "0"], 5.0),
        ("unknown command", ["explode"], 5.0),
    ]


WORKER_LINES = [
    ("2,000 nested [", "[" * 2000 + "]" * 2000, "protocol"),
    ("5,000-digit id", '{"type":"ping","id":' + "9" * 5000 + "}", "protocol"),
    ("not JSON", "hello", "protocol"),
    ("NUL in output_dir", '{"type":"generate","id":"n","audio":"a.wav","output_dir":"o\\u0000"}', "protocol"),
    ('"takes":"3"', '{"type":"generate","id":"t1","audio":"a.wav","output_dir":"o","options":{"takes":"3"}}', "user"),
    ('"takes":true', '{"type":"generate","id":"t2","audio":"a.wav","output_dir":"o","options":{"takes":true}}', "user"),
    ('"seed":1.5', '{"type":"generate","id":"t3","audio":"a.wav","output_dir":"o","options":{"seed":1.5}}', "user"),
    ('"transcript":5', '{"type":"generate","id":"t4","audio":"a.wav","output_dir":"o","options":{"transcript":5}}',
     "user"),
    ('"intensity":"0.5"', '{"type":"generate","id":"t5","audio":"a.wav","output_dir":"o",'
                          '"options":{"intensity":"0.5"}}', "user"),
    ('"intensity":NaN', '{"type":"generate","id":"t6","audio":"a.wav","output_dir":"o","options":{"intensity":NaN}}',
     "user"),
    ('"bvh":"no"', '{"type":"generate","id":"t7","audio":"a.wav","output_dir":"o","options":{"bvh":"no"}}', "user"),
    ('"speaker":"1"', '{"type":"generate","id":"t8","audio":"a.wav","output_dir":"o","options":{"speaker":"1"}}',
     "user"),
    ("missing audio", '{"type":"generate","id":"t9","audio":"/nope.wav","output_dir":"/tmp/orator-bad-o"}', "user"),
    ("cancel of an unknown id", '{"type":"cancel","id":"zzz"}', "protocol"),
]


def run_cli_case(args: list[str], limit: float) -> tuple[bool, str, float]:
    started = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-m", "backend", *args], cwd=REPO, capture_output=True, text=True,
                              timeout=limit + 30)
    except subprocess.TimeoutExpired:
        return False, "timed out", time.monotonic() - started
    took = time.monotonic() - started
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    clean = (proc.returncode == 2 and len(lines) == 1 and lines[0].startswith("error:")
             and "Traceback" not in proc.stderr and took <= limit)
    return clean, f"exit {proc.returncode}: {' | '.join(lines)[:110]}", took


def run_worker_cases() -> list[tuple[str, bool, str]]:
    from backend.ipc.client import WorkerClient
    from backend.ipc.protocol import ErrorEvent, PingRequest, PongEvent
    client = WorkerClient()
    client.start(timeout=60)
    rows = []
    try:
        for name, line, kind in WORKER_LINES:
            client.proc.stdin.write(line + "\n")
            client.proc.stdin.flush()
            try:
                event = client.wait_for(lambda e: isinstance(e, ErrorEvent), 30)
            except Exception as exc:  # noqa: BLE001 - a dead worker is a finding
                rows.append((name, False, f"no answer: {exc}"))
                break
            client.send(PingRequest("p"))
            alive = client.wait_for(lambda e: isinstance(e, PongEvent), 10)
            ok = event.kind == kind and "\n" not in event.message and bool(alive)
            rows.append((name, ok, f"{event.kind}: {event.message[:100]}"))
    finally:
        client.stop()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the rows as JSON here")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        files = build_files(d)
        for name, argv, limit in cli_cases(d, files):
            clean, detail, took = run_cli_case(argv, limit)
            rows.append({"case": f"cli: {name}", "clean": clean, "seconds": round(took, 2), "detail": detail})
            print(f"{'ok  ' if clean else 'FAIL'} {took:6.2f} s  cli: {name:34s} {detail}")
        for name, clean, detail in run_worker_cases():
            rows.append({"case": f"worker: {name}", "clean": clean, "detail": detail})
            print(f"{'ok  ' if clean else 'FAIL'}           worker: {name:31s} {detail}")
    handled = sum(r["clean"] for r in rows)
    print(f"{len(rows)} tried, {handled} handled cleanly")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0 if handled == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
