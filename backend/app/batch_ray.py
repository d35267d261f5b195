"""`batch --ray`: the local batch's per-file work, spread over a Ray cluster.

The driver (this process) plans the batch exactly like the local path (batch.run_batch: same skip rule,
same output folders, same manifest and report) and hands each file to an actor. There is one actor per
CPU slot (or per `--gpus-per-task` share of the GPUs); an actor is one long-lived process that keeps its
EngineCache, so neural engines load their weights once per process, not once per file.

Resilience: an actor that dies mid-file (killed, out of memory, node lost) is replaced by a new one
and the file is submitted again, up to MAX_ATTEMPTS times; a file that keeps killing its worker is then reported
as failed and the batch goes on. Outputs land through pipeline.run_generate's atomic writes with
summary.json last, so a killed attempt leaves no folder that counts as finished.

Files: by default workers read IN and write OUT under the same paths as the driver (a shared
filesystem: NFS, Lustre, a mounted bucket). `--ship-files` instead sends each audio file through Ray's
object store and returns the outputs to the driver, which writes them into OUT.

Ray is optional: nothing here imports it until `--ray` is used.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import sys
import tempfile
from collections import deque
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from ..errors import UserError
from ..fileio import atomic_write
from ..options import GenerateOptions
from ..summary import SUMMARY_NAME, GenerationSummary
from .batch_file import FileRecord, generate_file

MAX_ATTEMPTS = 3  # one file, at most this many worker processes killed under it
PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the whole backend package
INSTALL_HINT = "--ray needs Ray on this machine and on every node of the cluster: pip install 'ray>=2.9'"


@dataclass(frozen=True)
class RaySettings:
    """Where and how `batch --ray` runs.

    address: "auto" (the cluster in $RAY_ADDRESS, else a local Ray started for this run and stopped after),
             "local" (always a fresh local Ray), or a cluster address (host:port, ray://host:port).
    """

    address: str = "auto"
    cpus_per_task: float = 1.0
    gpus_per_task: float = 0.0
    ship_files: bool = False

    def validated(self) -> "RaySettings":
        if not self.address.strip():
            raise UserError("--ray: give a cluster address, 'auto' or 'local'")
        if self.cpus_per_task <= 0:
            raise UserError(f"--cpus-per-task must be above 0, got {self.cpus_per_task:g}")
        if self.gpus_per_task < 0:
            raise UserError(f"--gpus-per-task must be 0 or more, got {self.gpus_per_task:g}")
        return self


def add_ray_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("Ray cluster (optional: pip install ray)")
    g.add_argument("--ray", nargs="?", const="auto", metavar="ADDRESS",
                   help="run on Ray instead of local processes: ADDRESS of a cluster (host:port or "
                        "ray://host:port), 'auto' (default: $RAY_ADDRESS, else a local Ray for this run) "
                        "or 'local'; --workers is then ignored (one worker per CPU/GPU slot)")
    g.add_argument("--cpus-per-task", type=float, default=1.0, help="CPUs each Ray worker reserves (default 1)")
    g.add_argument("--gpus-per-task", type=float, default=0.0,
                   help="GPUs each Ray worker reserves, for neural engines (e.g. 0.5 = two workers per GPU)")
    g.add_argument("--ship-files", action="store_true",
                   help="workers do not share IN/OUT with this machine: send audio and outputs through "
                        "Ray's object store (option files such as --checkpoint must still exist on every node)")


def import_ray():
    try:
        import ray
    except ImportError:
        raise UserError(INSTALL_HINT) from None
    return ray


def connect(address: str):
    """Connect to (or start) Ray; returns (ray, started_here)."""
    if address == "auto":
        address = os.environ.get("RAY_ADDRESS") or "local"
    if address == "local":
        # A Ray that lives only for this run listens on loopback alone. Ray's own switch for that is this
        # variable (read when ray is imported): without it, it binds every interface (seen with `ss -ltn`).
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    if address not in ("local", "auto"):  # RAY_ADDRESS=auto: Ray's own lookup of a cluster on this machine
        check_reachable(address)
    ray = import_ray()
    if ray.is_initialized():  # an embedding program already connected: use its session, leave it running
        return ray, False
    # Workers get this exact backend package (wherever they run and whatever their working folder); its
    # dependencies (numpy, scipy, soundfile, pocketsphinx, torch for neural engines) must be on every node.
    common = dict(log_to_driver=False, configure_logging=True, logging_level="WARNING",
                  runtime_env={"py_modules": [str(PACKAGE_DIR)], "excludes": ["__pycache__", "*.pyc"]})
    try:
        if address == "local":
            ray.init(address="local", _node_ip_address="127.0.0.1", include_dashboard=False, **common)
        else:
            ray.init(address=address, **common)
    except ConnectionError as exc:
        raise UserError(f"cannot reach the Ray cluster at {address}: {exc}") from None
    return ray, address == "local"


def check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Fail in seconds with one line when nothing listens at a cluster's host:port; Ray itself retries
    for minutes (measured: still waiting after 200 s for 127.0.0.1:1)."""
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit():
        raise UserError(f"--ray {address}: give the cluster as host:port (e.g. head-node:6379), "
                        "ray://host:port, 'auto' or 'local'")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise UserError(f"cannot reach the Ray cluster at {address} ({exc.strerror or exc}): is the head "
                        "running (ray start --head) and the port open from here?") from None


class OratorFileWorker:
    """One Ray actor = one process with its engines loaded once. Wrapped by ray.remote in run_on_ray."""

    def __init__(self) -> None:
        from ..engines.registry import EngineCache
        self.engines = EngineCache()
        self.where = f"{socket.gethostname()}:{os.getpid()}"

    def ready(self) -> str:
        return self.where

    def generate(self, audio: str, out_dir: str, options: GenerateOptions) -> FileRecord:
        return replace(generate_file(audio, out_dir, options, self.engines), worker=self.where)

    def generate_shipped(self, audio_name: str, data: bytes, options: GenerateOptions):
        """--ship-files: the audio arrives as bytes; returns (record, {relative path: bytes}, tmp audio, tmp out)."""
        with tempfile.TemporaryDirectory(prefix="orator-ray-") as tmp:
            audio = Path(tmp) / "in" / audio_name  # the real name: decoders and messages use its suffix
            audio.parent.mkdir()
            audio.write_bytes(data)
            out = Path(tmp) / "out"
            record = replace(generate_file(str(audio), str(out), options, self.engines), worker=self.where)
            files = {}
            if record.status == "done":
                files = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
            return record, files, str(audio), str(out)


def _relocate(value, moves: list[tuple[str, str]]):
    """Replace worker-side temp paths by the driver's paths in every string of a summary or record."""
    if isinstance(value, str):
        for old, new in moves:
            value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [_relocate(v, moves) for v in value]
    if isinstance(value, dict):
        return {k: _relocate(v, moves) for k, v in value.items()}
    return value


def store_shipped(result, audio: str, target: str) -> FileRecord:
    """Write a --ship-files result into OUT like a local run would: outputs first, summary.json last."""
    record, files, tmp_audio, tmp_out = result
    moves = [(tmp_out, target), (tmp_audio, audio)]
    record = FileRecord.from_json(_relocate(record.to_json(), moves))
    target_dir = Path(target)
    for rel, data in files.items():
        if rel != SUMMARY_NAME:
            with atomic_write(target_dir / rel, binary=True) as fh:
                fh.write(data)
    if SUMMARY_NAME in files:
        summary = GenerationSummary.from_json(_relocate(json.loads(files[SUMMARY_NAME]), moves))
        with atomic_write(target_dir / SUMMARY_NAME) as fh:
            fh.write(summary.dumps())
    return record


def worker_slots(resources: dict, settings: RaySettings) -> int:
    """Actors the cluster can hold at once: CPU slots, and GPU shares when --gpus-per-task is set."""
    slots = int(resources.get("CPU", 0) // settings.cpus_per_task)
    if settings.gpus_per_task > 0:
        gpus = resources.get("GPU", 0)
        if gpus < settings.gpus_per_task:
            raise UserError(f"--gpus-per-task {settings.gpus_per_task:g}: the Ray cluster has {gpus:g} GPUs")
        slots = min(slots, int(gpus // settings.gpus_per_task))
    if slots < 1:
        raise UserError(f"--cpus-per-task {settings.cpus_per_task:g}: the Ray cluster has "
                        f"{resources.get('CPU', 0):g} CPUs")
    return slots


def run_on_ray(todo: list[tuple[str, str, GenerateOptions]], settings: RaySettings,
               on_record: Callable[[FileRecord], None] | None = None) -> list[FileRecord]:
    """Run batch items (audio, output folder, options) on Ray actors; returns one record per item."""
    # Ray's driver prints cluster notices ("(raylet) A worker died …") on sys.stdout from a background
    # thread; stdout belongs to `--json`, so they go to stderr while Ray is connected.
    with contextlib.redirect_stdout(sys.stderr):
        return _run_on_ray(todo, settings, on_record)


def _run_on_ray(todo, settings: RaySettings, on_record) -> list[FileRecord]:
    ray, started = connect(settings.address)
    actors = []
    try:
        worker_class = ray.remote(num_cpus=settings.cpus_per_task, num_gpus=settings.gpus_per_task,
                                  max_restarts=0, max_task_retries=0)(OratorFileWorker)
        slots = min(worker_slots(ray.cluster_resources(), settings), len(todo))
        actors = [worker_class.remote() for _ in range(slots)]
        try:
            ray.get([a.ready.remote() for a in actors])
        except ray.exceptions.RayError as exc:
            raise UserError(f"Ray workers cannot start Orator's backend ({exc.__class__.__name__}): "
                            "install requirements.txt on every node. " + str(exc).splitlines()[0]) from None
        queue, idle, pending, results = deque(todo), list(actors), {}, []

        def submit(actor, item, attempt: int) -> None:
            audio, target, options = item
            if settings.ship_files:
                try:
                    data = Path(audio).read_bytes()
                except OSError as exc:
                    finish(actor, FileRecord(audio, target, "failed", attempts=attempt,
                                             error=f"cannot read {audio}: {exc.strerror or exc}"))
                    return
                ref = actor.generate_shipped.remote(Path(audio).name, data, options)
            else:
                ref = actor.generate.remote(audio, target, options)
            pending[ref] = (actor, item, attempt)

        def finish(actor, record: FileRecord) -> None:
            results.append(record)
            idle.append(actor)
            if on_record is not None:
                on_record(record)

        while queue or pending:
            while idle and queue:
                submit(idle.pop(), queue.popleft(), 1)
            if not pending:
                continue
            (ref,), _ = ray.wait(list(pending), num_returns=1)
            actor, item, attempt = pending.pop(ref)
            audio, target, _options = item
            try:
                result = ray.get(ref)
            except ray.exceptions.RayActorError as exc:  # the worker process died under this file
                # A fresh actor (new process, engines loaded again) takes its slot. Leaving the restart to
                # Ray (max_restarts) was measured to fail the first resubmission too, still addressed to
                # the dead process, so one kill cost two attempts.
                ray.kill(actor, no_restart=True)
                actors.remove(actor)
                actor = worker_class.remote()
                actors.append(actor)
                if attempt < MAX_ATTEMPTS:
                    submit(actor, item, attempt + 1)
                    continue
                first = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
                record = FileRecord(audio, target, "failed",
                                    error=f"the worker process died {attempt} times on this file ({first[:200]})")
            else:
                record = store_shipped(result, audio, target) if settings.ship_files else result
            record = replace(record, attempts=attempt)
            finish(actor, record)
        return results
    finally:
        for actor in actors:
            ray.kill(actor, no_restart=True)
        if started:
            ray.shutdown()
