"""`batch --ray` on a real Ray cluster bound to 127.0.0.1: same bytes as the local path, survives a
killed worker, resumes, and the same report, manifest and exit code.

One Ray head for the module (Ray's start-up is several seconds): num_cpus=2 like CI's machine, and one
logical GPU for the --gpus-per-task scheduling (Ray counts it; no CUDA is used). It is shut down in the
fixture, which checks that no Ray process of ours outlives it.
"""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from backend.app.batch import MANIFEST_NAME
from backend.errors import UserError

REPO = Path(__file__).resolve().parents[2]
GOOD, BAD = 9, 3
# Ray binds to the node IP on every interface unless this switch (read when ray is imported) says
# "single machine"; with it, GCS, raylet and workers all listen on 127.0.0.1 only.
LOOPBACK_ONLY = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return tree


def descendants() -> dict[int, str]:
    """Processes below this pytest process: pid → command line."""
    tree, found, stack = _children(), {}, [os.getpid()]
    while stack:
        for pid in tree.get(stack.pop(), []):
            stack.append(pid)
            try:
                found[pid] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
    return found


def ray_processes() -> dict[int, str]:
    return {pid: cmd for pid, cmd in descendants().items() if cmd.startswith("ray::") or "/ray/" in cmd}


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture(scope="module")
def ray_address(tmp_path_factory):
    saved = {k: os.environ.get(k) for k in LOOPBACK_ONLY}
    os.environ.update(LOOPBACK_ONLY)
    import ray

    context = ray.init(num_cpus=2, num_gpus=1, _node_ip_address="127.0.0.1", include_dashboard=False,
                       log_to_driver=False, object_store_memory=200 * 2**20, logging_level="WARNING",
                       _temp_dir=str(tmp_path_factory.mktemp("ray")))  # session logs not left in /tmp/ray
    started = set()
    try:
        address = context.address_info["gcs_address"]
        assert address.startswith("127.0.0.1:"), address
        assert {n["NodeManagerAddress"] for n in ray.nodes()} == {"127.0.0.1"}
        yield address
    finally:
        started = set(ray_processes())  # GCS, raylet, workers: all children of this process
        ray.shutdown()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    deadline = time.monotonic() + 30
    while (left := [pid for pid in started if alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in left:  # CI runs on this machine next: never leave a Ray process behind
        os.kill(pid, signal.SIGKILL)
    assert not left, f"Ray processes outlived ray.shutdown(): {left}"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, shared_dir) -> Path:
    """12 files: 9 real speech clips of 2–4 s (LJSpeech), 3 that cannot be animated."""
    src = tmp_path_factory.mktemp("batch_in")
    clips = sorted((shared_dir / "data" / "speech" / "ljspeech").glob("LJ*.wav"))[:GOOD]
    for i, clip in enumerate(clips):
        samples, rate = sf.read(clip, dtype="float32")
        folder = src / "sub" if i % 4 == 3 else src  # sub-folders keep their layout in OUT
        folder.mkdir(exist_ok=True)
        sf.write(folder / f"line_{i:02d}.wav", samples[: int(rate * (2 + i % 3))], rate)
    (src / "bad_text.wav").write_text("not audio")
    (src / "bad_empty.flac").write_bytes(b"")
    sf.write(src / "bad_noframes.wav", np.zeros(0, np.float32), 16000)
    return src


def batch_cmd(src: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "backend", "batch", str(src), "-o", str(out), "--recognizer", "phones",
            "--seed", "3", "--json", *extra]


def ray_env(address: str) -> dict:
    return {**os.environ, **LOOPBACK_ONLY, "RAY_ADDRESS": address}


def outputs(out: Path) -> dict[str, bytes]:
    """Every motion and face file under OUT by relative path (summaries carry timings and paths)."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.name in ("motion.npz", "face_arkit.csv")}


def manifest(out: Path) -> dict[str, dict]:
    with open(out / MANIFEST_NAME, newline="", encoding="utf-8") as fh:
        return {Path(row["audio"]).name: row for row in csv.DictReader(fh)}


def comparable(rows: dict[str, dict]) -> dict[str, tuple]:
    """What must agree between the two ways of running (not timings, workers or output roots)."""
    return {name: (r["status"], r["seconds"], r["warnings"], r["error"]) for name, r in rows.items()}


@pytest.fixture(scope="module")
def local_run(inputs, tmp_path_factory) -> tuple[dict[str, bytes], dict[str, tuple]]:
    out = tmp_path_factory.mktemp("batch_local")
    proc = subprocess.run(batch_cmd(inputs, out, "--workers", "2"), cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 3, proc.stderr
    files = outputs(out)
    assert len(files) == 2 * GOOD
    return files, comparable(manifest(out))


@pytest.fixture(scope="module")
def local_outputs(local_run) -> dict[str, bytes]:
    return local_run[0]


def finished_outputs(out) -> int:
    """Output folders with a summary so far, read while the batch writes: a failed file's folder can vanish
    between listing and descending into it (bad_empty did, in one CI run)."""
    try:
        return len(list(out.rglob("summary.json")))
    except FileNotFoundError:
        return 0


def test_ray_batch_matches_local_survives_a_killed_worker_and_resumes(ray_address, inputs, local_run,
                                                                     tmp_path):
    local_outputs, local_manifest = local_run
    out = tmp_path / "out"
    proc = subprocess.Popen(batch_cmd(inputs, out, "--ray"), cwd=REPO, env=ray_env(ray_address),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = None
    deadline = time.monotonic() + 120
    while killed is None and proc.poll() is None and time.monotonic() < deadline:
        busy = [pid for pid, cmd in descendants().items() if cmd.startswith("ray::OratorFileWorker.generate")]
        if busy and finished_outputs(out) >= 1:  # mid-run: some files done, one in flight
            killed = busy[0]
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.02)
    stdout, stderr = proc.communicate(timeout=180)
    assert killed is not None, "no busy worker was seen to kill"
    assert proc.returncode == 3, stderr
    report = json.loads(stdout)
    assert (report["files"], report["done"], report["failed"], report["skipped"]) == (GOOD + BAD, GOOD, BAD, 0)
    assert sorted(Path(f["audio"]).name for f in report["failures"]) == \
        ["bad_empty.flac", "bad_noframes.wav", "bad_text.wav"]
    rows = manifest(out)
    assert len(rows) == GOOD + BAD
    retried = [name for name, row in rows.items() if row["attempts"] == "2"]
    assert len(retried) == 1, rows  # the file under the killed worker ran again, in a new process
    assert all(rows[name]["status"] == "done" and float(rows[name]["seconds"]) >= 1.5
               for name in rows if name.startswith("line_"))
    assert all(rows[name]["error"] for name in rows if name.startswith("bad_"))
    assert outputs(out) == local_outputs  # byte-identical to the local processes, same seed
    assert comparable(rows) == local_manifest  # and the same manifest

    # A half-written output never counts: without its summary.json the file is generated again.
    (out / "line_01" / "summary.json").unlink()
    (out / "line_01" / "motion.npz").write_bytes(b"half")
    again = subprocess.run(batch_cmd(inputs, out, "--ray"), cwd=REPO, env=ray_env(ray_address),
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 3, again.stderr
    report = json.loads(again.stdout)
    assert (report["done"], report["skipped"], report["failed"]) == (1, GOOD - 1, BAD)
    rows = manifest(out)
    assert rows["line_01.wav"]["status"] == "done" and rows["line_02.wav"]["status"] == "skipped"
    assert outputs(out) == local_outputs


def test_ray_batch_ships_files_through_the_object_store_to_a_gpu_slot(ray_address, inputs, local_outputs,
                                                                      tmp_path):
    """--ship-files: workers get the audio as bytes and return the outputs; OUT looks like a local run's.
    --gpus-per-task 1 on the head's one logical GPU (no hardware here; the builtin engines run on CPU under
    it): a single actor does every file."""
    src = tmp_path / "in"
    src.mkdir()
    for name in ("line_00.wav", "line_02.wav", "bad_text.wav"):
        (src / name).write_bytes((inputs / name).read_bytes())
    out = tmp_path / "out"
    proc = subprocess.run(batch_cmd(src, out, "--ray", ray_address, "--ship-files", "--gpus-per-task", "1"),
                          cwd=REPO, env={**os.environ, **LOOPBACK_ONLY}, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 3, proc.stderr
    report = json.loads(proc.stdout)
    assert (report["done"], report["failed"]) == (2, 1)
    failure = report["failures"][0]  # the user's paths, not the worker's temp folder
    assert (failure["audio"], failure["output"]) == (str(src / "bad_text.wav"), str(out / "bad_text"))
    assert outputs(out) == {k: v for k, v in local_outputs.items() if k.split("/")[0] in ("line_00", "line_02")}
    summary = json.loads((out / "line_02" / "summary.json").read_text())
    assert summary["audio"] == str(src / "line_02.wav") and summary["output_dir"] == str(out / "line_02")
    assert summary["takes"][0]["motion"] == str(out / "line_02" / "motion.npz")
    assert len({row["worker"] for row in manifest(out).values()}) == 1  # one GPU slot: one process


def test_worker_slots_count_cpu_and_gpu_shares():
    from backend.app.batch_ray import RaySettings, worker_slots

    assert worker_slots({"CPU": 16.0}, RaySettings()) == 16
    assert worker_slots({"CPU": 16.0}, RaySettings(cpus_per_task=3)) == 5
    assert worker_slots({"CPU": 16.0, "GPU": 2.0}, RaySettings(gpus_per_task=0.5)) == 4
    assert worker_slots({"CPU": 2.0, "GPU": 8.0}, RaySettings(gpus_per_task=1)) == 2  # CPUs bound it too
    with pytest.raises(UserError, match="--gpus-per-task 2: the Ray cluster has 1 GPUs"):
        worker_slots({"CPU": 2.0, "GPU": 1.0}, RaySettings(gpus_per_task=2))
    with pytest.raises(UserError, match="--gpus-per-task 1: the Ray cluster has 0 GPUs"):
        worker_slots({"CPU": 2.0}, RaySettings(gpus_per_task=1))


def test_an_unreachable_cluster_is_one_line_in_seconds(inputs, tmp_path):
    proc = subprocess.run(batch_cmd(inputs, tmp_path / "out", "--ray", "127.0.0.1:1"), cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: cannot reach the Ray cluster at 127.0.0.1:1 (Connection refused): is the head running "
        "(ray start --head) and the port open from here?"]
