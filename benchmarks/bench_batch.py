"""Benchmark: `batch` throughput in files per minute, local processes against Ray, same input set.

    .venv/bin/python benchmarks/bench_batch.py [--files 33] [--recognizer words] [--modes local ray ray-cluster]

Inputs: the LJSpeech clips in ../shared (real read speech, 1.5–10 s each: the length of game dialogue
lines), copied into a temp folder. Every mode runs the same CLI in a fresh process into a fresh OUT:
  local        batch --workers 2 (the default path; spawn start-up included)
  ray          batch --ray (no RAY_ADDRESS: a local Ray started and stopped by the run, included)
  ray-cluster  batch --ray with RAY_ADDRESS of a Ray head this script starts first (num_cpus=2,
               127.0.0.1): what a long-lived cluster costs per batch, without Ray's own start-up
Prints wall seconds, files per minute, audio minutes per minute, and the CPU seconds the per-file work
took in the workers (the manifest's cpu_s): the same work in every mode, so a mode's extra wall time over
file_cpu_s / cores is its overhead or other load. Wall time is what a user waits for; on a shared machine
it is noisy, so the 1-minute load average is printed with each row.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ORATOR_SHARED", REPO.parent / "shared"))
sys.path.insert(0, str(REPO))
from backend.app.batch import BatchReport  # noqa: E402

LOOPBACK_ONLY = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}  # see backend/app/batch_ray.py connect()


def run_mode(mode: str, src: Path, out: Path, recognizer: str, ray_address: str | None) -> dict:
    cmd = [sys.executable, "-m", "backend", "batch", str(src), "-o", str(out), "--recognizer", recognizer,
           "--json"]
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    if mode == "local":
        cmd += ["--workers", "2"]
    else:
        cmd += ["--ray"]
        env.update(LOOPBACK_ONLY)
        if mode == "ray-cluster":
            env["RAY_ADDRESS"] = ray_address
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 3):
        raise SystemExit(f"{mode}: exit {proc.returncode}\n{proc.stderr}")
    report = BatchReport.from_json(json.loads(proc.stdout))
    with open(report.manifest, newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["status"] == "done"]
    audio_s = sum(float(r["seconds"]) for r in rows)
    cpu_s = sum(float(r["cpu_s"]) for r in rows)
    return {"mode": mode, "files": report.done, "failed": report.failed, "wall_s": round(wall, 2),
            "files_per_min": round(60 * report.done / wall, 1),
            "audio_min_per_min": round(audio_s / wall, 2), "file_cpu_s": round(cpu_s, 1),
            "load_avg_1m": round(load, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=33, help="how many LJSpeech clips (default: all 33)")
    parser.add_argument("--recognizer", default="words", choices=("words", "phones"))
    parser.add_argument("--modes", nargs="+", default=["local", "ray", "ray-cluster"],
                        choices=("local", "ray", "ray-cluster"))
    args = parser.parse_args()
    clips = sorted((SHARED / "data" / "speech" / "ljspeech").glob("LJ*.wav"))[: args.files]
    rows = []
    with tempfile.TemporaryDirectory(prefix="orator-bench-batch-") as tmp:
        src = Path(tmp) / "in"
        src.mkdir()
        for clip in clips:
            shutil.copy(clip, src / clip.name)
        ray_address, ray = None, None
        if "ray-cluster" in args.modes:
            os.environ.update(LOOPBACK_ONLY)
            import ray
            context = ray.init(num_cpus=2, _node_ip_address="127.0.0.1", include_dashboard=False,
                               log_to_driver=False, logging_level="WARNING")
            ray_address = context.address_info["gcs_address"]
        try:
            for mode in args.modes:
                rows.append(run_mode(mode, src, Path(tmp) / f"out-{mode}", args.recognizer, ray_address))
                print(json.dumps(rows[-1]), flush=True)
        finally:
            if ray is not None:
                ray.shutdown()
    print(f"\n{len(clips)} LJSpeech clips, --recognizer {args.recognizer}, {os.cpu_count()} CPUs")
    print(f"{'mode':<12} {'files':>5} {'wall s':>7} {'files/min':>9} {'audio min/min':>13} {'file CPU s':>10} "
          f"{'load':>5}")
    for r in rows:
        print(f"{r['mode']:<12} {r['files']:>5} {r['wall_s']:>7.1f} {r['files_per_min']:>9.1f} "
              f"{r['audio_min_per_min']:>13.2f} {r['file_cpu_s']:>10.1f} {r['load_avg_1m']:>5.2f}")


if __name__ == "__main__":
    main()
