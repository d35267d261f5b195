"""Install the neural engines' packages (torch) and models into the extension's user folder.

torch is far too large to bundle (the CPU build is a 192 MB wheel, ~700 MB installed), so the
preferences install it on request with the Python that runs the backend (`python -m pip install
--target <user folder>/neural/site-packages`), from PyTorch's CPU or CUDA index or from a folder of
wheels. The install goes into a `.partial` folder that replaces the old one only when pip succeeded,
so cancelling or failing leaves the previous state as it was. Nothing here imports bpy; the install
operator (operators/backend_setup.py) starts a `NeuralInstall` and reads its progress from a timer.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

# The torch release the neural engines are built and tested with (requirements.txt pins the same).
TORCH_VERSION = "2.13.0"
TORCH_INDEX = {
    "cpu": "https://download.pytorch.org/whl/cpu",
    "cuda": "https://download.pytorch.org/whl/cu128",
}
NEURAL_DIR = "neural"
MODELS_DIR = "models"
# pip's fractions of the work, by the first word of its output lines (pip has no machine-readable progress
# in the versions Blender ships): resolving, then downloading, then unpacking (the longest step for torch).
PIP_STAGES = (("Looking in", 0.02, "contacting the package index"), ("Collecting", 0.05, "resolving"),
              ("Downloading", 0.15, "downloading"), ("Processing", 0.15, "reading wheels"),
              ("Installing collected packages", 0.6, "installing (unpacking torch)"),
              ("Successfully installed", 0.98, "finishing"))
OFFLINE_SIGNS = ("NewConnectionError", "Failed to establish a new connection", "Temporary failure in name resolution",
                 "Name or service not known", "Could not resolve host", "No route to host", "Network is unreachable",
                 "ConnectTimeoutError", "ProxyError", "getaddrinfo failed", "nodename nor servname")


def neural_dir(user_dir: str | os.PathLike) -> Path:
    return Path(user_dir) / NEURAL_DIR


def installed_site_packages(user_dir: str | os.PathLike) -> str | None:
    """The neural engines' package folder when an install finished there, else None."""
    site = neural_dir(user_dir) / "site-packages"
    return str(site) if (site / "torch").is_dir() else None


def pip_command(python: str, target: Path, variant: str, wheels_dir: str = "",
                platform: str = sys.platform) -> list[str]:
    """The pip command line for one install: torch of TORCH_VERSION into `target`.

    variant "cpu": PyTorch's CPU index on Linux and Windows (PyPI's Linux torch pulls GBs of CUDA
    libraries; on macOS PyPI's build is the CPU/Metal one). "cuda": PyTorch's CUDA 12.8 index.
    `wheels_dir`: install torch from that folder instead (offline, or a local mirror); its
    dependencies still come from the package index pip is configured with, or from the folder.
    """
    if variant not in TORCH_INDEX:
        raise ValueError(f"unknown torch variant {variant!r}: choose {', '.join(TORCH_INDEX)}")
    # --no-compile: byte-compiling torch's ~750 MB is most of the install (84 s → 34 s wall measured from
    # a local wheel on a busy 2-core machine); Python compiles what it imports, once, on first use.
    command = [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--no-compile",
               "--no-warn-script-location", "--retries", "1", "--timeout", "20", "--progress-bar", "off",
               "--target", str(target), f"torch=={TORCH_VERSION}"]
    if wheels_dir:
        command += ["--find-links", str(wheels_dir)]
    elif variant == "cuda" or platform != "darwin":
        command += ["--extra-index-url", TORCH_INDEX[variant]]
    return command


def explain_pip_failure(output: str) -> str:
    """One line for a failed pip run: offline, no pip, no matching torch, or pip's own last error."""
    if any(sign in output for sign in OFFLINE_SIGNS):
        return ("cannot reach the package index (offline?): connect to the internet and try again, or download "
                f"torch {TORCH_VERSION} and its dependencies as wheels and choose that folder in 'Wheels folder'")
    if "No module named pip" in output:
        return "this Python has no pip: choose a Python with pip in 'Backend Python', or install pip into it"
    if "No matching distribution found for torch" in output or "Could not find a version that satisfies" in output:
        return (f"no torch {TORCH_VERSION} build for this Python/platform in the chosen source: try the other "
                "variant (CPU/CUDA) or a folder with a matching wheel")
    errors = [line.strip() for line in output.splitlines() if line.strip().startswith("ERROR")]
    return (errors[-1] if errors else (output.strip().splitlines() or ["pip failed"])[-1])[:300]


@dataclass
class NeuralInstall:
    """One pip run on a helper thread; `fraction`, `stage`, `error`, `done` are read from a UI timer."""

    python: str
    user_dir: Path
    variant: str = "cpu"
    wheels_dir: str = ""
    env: dict | None = None
    fraction: float = 0.0
    stage: str = "starting pip"
    error: str | None = None
    done: bool = False
    cancelled: bool = False
    log: list[str] = field(default_factory=list)
    _proc: subprocess.Popen | None = None
    _thread: threading.Thread | None = None

    def start(self) -> "NeuralInstall":
        self._thread = threading.Thread(target=self._run, daemon=True, name="orator-neural-install")
        self._thread.start()
        return self

    @property
    def finished(self) -> bool:
        return self.done or self.error is not None

    def cancel(self) -> None:
        self.cancelled = True
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()

    def wait(self, timeout: float | None = None) -> "NeuralInstall":
        if self._thread is not None:
            self._thread.join(timeout)
        return self

    def _run(self) -> None:
        final = neural_dir(self.user_dir)
        partial = final.with_name(final.name + ".partial")
        try:
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir(parents=True)
            command = pip_command(self.python, partial / "site-packages", self.variant, self.wheels_dir)
            self.log.append(" ".join(command))
            try:
                self._proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                              env=self.env, bufsize=1)
            except OSError as exc:
                self.error = f"cannot run {self.python}: {exc.strerror or exc}"
                return
            for line in self._proc.stdout:
                line = line.rstrip()
                self.log.append(line)
                del self.log[:-400]
                for prefix, fraction, stage in PIP_STAGES:
                    if line.startswith(prefix) and fraction >= self.fraction:
                        self.fraction, self.stage = fraction, stage
                        if prefix == "Downloading":
                            self.stage = f"downloading {line.split()[1].rsplit('/', 1)[-1][:60]}"
            code = self._proc.wait()
            if self.cancelled:
                self.error = "cancelled"
                return
            if code != 0:
                self.error = explain_pip_failure("\n".join(self.log))
                return
            self.stage = "finishing"
            old = final.with_name(final.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            if final.exists():
                final.rename(old)
            partial.rename(final)
            shutil.rmtree(old, ignore_errors=True)
            self.fraction, self.stage, self.done = 1.0, "installed", True
        except OSError as exc:
            self.error = f"cannot write the neural engines into {final}: {exc.strerror or exc}"
        finally:
            if not self.done:
                shutil.rmtree(partial, ignore_errors=True)


def install_models_zip(archive: str | os.PathLike, user_dir: str | os.PathLike) -> list[str]:
    """Unpack the models zip's checkpoints (checkpoints/*.pt) into <user folder>/models; returns their names.

    Only plain .pt/.md members are read and each is written by its base name, so a crafted archive
    cannot write outside the folder.
    """
    from ..backend.errors import UserError

    target = Path(user_dir) / MODELS_DIR
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist()
                       if not m.is_dir() and m.filename.startswith("checkpoints/") and
                       Path(m.filename).suffix in (".pt", ".md")]
            if not any(m.filename.endswith(".pt") for m in members):
                raise UserError(f"{Path(archive).name} is not an Orator models zip (no checkpoints/*.pt inside)")
            target.mkdir(parents=True, exist_ok=True)
            for member in members:
                with zf.open(member) as src, open(target / Path(member.filename).name, "wb") as dst:
                    shutil.copyfileobj(src, dst)
    except (zipfile.BadZipFile, FileNotFoundError, IsADirectoryError) as exc:
        raise UserError(f"cannot read {archive} as a zip: {exc}") from None
    return sorted(Path(m.filename).name for m in members if m.filename.endswith(".pt"))
