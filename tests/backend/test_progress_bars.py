"""Progress bars for people: rate and ETA on a terminal, nothing on pipes or with --json."""
from __future__ import annotations

import fcntl
import io
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from backend.app.batch_ray import RaySettings, connect
from backend.errors import UserError
from backend.progress import BatchProgress, GenerateProgress

REPO = Path(__file__).resolve().parents[2]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_batch_bar_counts_files_with_eta_and_prints_lines_above(monkeypatch):
    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    bar = BatchProgress(enabled=True)
    bar.start(4)
    bar.line("done: a.wav (2.0 s of audio)")
    bar.line("failed: b.wav (not audio)")
    bar.close()
    text = screen.getvalue()
    assert "done: a.wav" in text and "failed: b.wav" in text
    assert "2/4" in text and "<" in text  # count and elapsed<remaining


def test_bars_stay_quiet_off_a_terminal_or_with_json(monkeypatch):
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    bar = BatchProgress(enabled=True)
    bar.start(2)
    bar.line("done: a.wav (2.0 s of audio)")
    bar.close()
    assert pipe.getvalue() == "done: a.wav (2.0 s of audio)\n"  # the plain lines, as before
    monkeypatch.setattr(sys, "stderr", Terminal())
    quiet = GenerateProgress(enabled=False)  # --json / --quiet
    quiet(0.5, "analysis")
    quiet.close()
    assert sys.stderr.getvalue() == ""


def test_generate_shows_a_bar_with_eta_on_a_real_terminal(lj_clip, tmp_path):
    """`generate` in a pseudo-terminal: the bar reaches 100% and shows elapsed<remaining."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))  # a 100-column terminal
    proc = subprocess.Popen([sys.executable, "-m", "backend", "generate", str(lj_clip), "-o", str(tmp_path),
                             "--recognizer", "phones"], cwd=REPO, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=follower)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(leader)
    screen = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0, screen
    assert "100%" in screen and "<00:00]" in screen


def test_ray_missing_is_one_actionable_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as on a machine without Ray: import raises ImportError
    with pytest.raises(UserError, match="pip install"):
        connect(RaySettings("local").address)
    with pytest.raises(UserError, match="--gpus-per-task"):
        RaySettings(gpus_per_task=-1).validated()
