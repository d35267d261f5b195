"""Live stream: latency percentiles, CPU use and memory while streaming real speech at real-time pace.

    .venv/bin/python benchmarks/bench_live.py [--seconds 120] [--fast-minutes 10] [--json out.json]

1. Real time: LJSpeech clips joined to --seconds, written as s16le to `python -m backend live --stdin-format
   s16le:16000` in 20 ms pieces on the sender's clock (the test is the sound card). Latency of a frame = the
   wall time its line arrived − the wall time the sender wrote the audio at the frame's instant. CPU = the
   child's user + system seconds per second of audio (from wait4's rusage), so it holds on a loaded machine.
2. Faster than real time: --fast-minutes of the same speech through the stream in-process; CPU s per audio
   second and resident memory at each minute (flat = no leak).
The machine the numbers come from is shared: the load average is printed beside them.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SPEECH = Path(os.environ.get("ORATOR_SHARED", REPO.parent / "shared")) / "data" / "speech" / "ljspeech"


def speech(seconds: float) -> np.ndarray:
    from backend.audio import load_audio

    gap = np.zeros(int(0.4 * 16000), np.float32)
    pieces, total = [], 0
    wavs = sorted(SPEECH.glob("*.wav"))
    while total < seconds * 16000:
        for w in wavs:
            x = load_audio(w).samples
            pieces += [x, gap]
            total += len(x) + len(gap)
            if total >= seconds * 16000:
                break
    return np.concatenate(pieces)[: int(seconds * 16000)]


def realtime(x: np.ndarray) -> dict:
    pcm = (np.clip(x, -1, 1) * 32767).round().astype("<i2").tobytes()
    proc = subprocess.Popen([sys.executable, "-m", "backend", "live", "--stdin-format", "s16le:16000"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, bufsize=0)
    lines, arrival = [], []

    def reader():
        for line in proc.stdout:
            lines.append(line)
            arrival.append(time.monotonic())

    th = threading.Thread(target=reader)
    th.start()
    time.sleep(3.0)  # the recogniser loads its vocabulary before the first sample counts
    ends, walls = [], []
    start = time.monotonic()
    for i in range(0, len(pcm), 640):
        delay = start + (i + 640) / 32000 - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        proc.stdin.write(pcm[i:i + 640])
        ends.append((i + 640) / 32000)
        walls.append(time.monotonic())
    proc.stdin.close()
    _, status, usage = os.wait4(proc.pid, 0)
    th.join()
    frames = [json.loads(l) for l in lines if l.startswith(b"{")]
    ends, walls = np.array(ends), np.array(walls)
    lat = np.array([1000 * (a - walls[min(np.searchsorted(ends, f["t"]), len(walls) - 1)])
                    for f, a in zip(frames, arrival)][30:])
    seconds = len(x) / 16000
    return {"audio_s": seconds, "frames": len(frames), "fps": len(frames) / seconds,
            "latency_ms": {p: float(np.percentile(lat, p)) for p in (50, 90, 95, 99)} | {"max": float(lat.max())},
            "cpu_s_per_audio_s": (usage.ru_utime + usage.ru_stime) / seconds,
            "max_rss_mb": usage.ru_maxrss / 1024, "load_average": os.getloadavg()[0]}


def fast(x: np.ndarray, minutes: float) -> dict:
    from backend.live.stream import run_stream

    reps = int(np.ceil(minutes * 60 * 16000 / len(x)))

    def source():
        for _ in range(reps):
            for i in range(0, len(x), 320):
                yield x[i:i + 320], time.monotonic()

    def rss():
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    cpu0, n, per_minute = time.process_time(), 0, []
    for _ in run_stream(source()):
        n += 1
        if n % 1800 == 0:
            per_minute.append(round(rss(), 1))
    seconds = n / 30
    return {"audio_s": seconds, "cpu_s_per_audio_s": (time.process_time() - cpu0) / seconds,
            "rss_mb_each_minute": per_minute, "load_average": os.getloadavg()[0]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--fast-minutes", type=float, default=10.0)
    ap.add_argument("--json")
    args = ap.parse_args()
    x = speech(args.seconds)
    out = {"realtime": realtime(x), "fast": fast(x, args.fast_minutes) if args.fast_minutes > 0 else None}
    print(json.dumps(out, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
