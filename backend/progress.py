"""Progress reporting and cooperative cancellation shared by every long-running stage."""
from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field
from typing import Callable

from .errors import Cancelled

ProgressCallback = Callable[[float, str], None]


@dataclass
class JobControl:
    """Passed down every stage: `report(fraction, stage)` and `check()` (raises Cancelled).

    Stages call `check()` at least every ~0.2 s of work so a cancel lands within 0.5 s.
    `sub(start, end)` gives a child whose 0..1 maps onto start..end of the parent's range.
    """

    on_progress: ProgressCallback | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)
    start: float = 0.0
    end: float = 1.0

    def check(self) -> None:
        if self.cancel_event.is_set():
            raise Cancelled("cancelled")

    def report(self, fraction: float, stage: str) -> None:
        self.check()
        if self.on_progress is not None:
            f = min(max(float(fraction), 0.0), 1.0)
            self.on_progress(self.start + (self.end - self.start) * f, stage)

    def sub(self, start: float, end: float) -> "JobControl":
        span = self.end - self.start
        return JobControl(self.on_progress, self.cancel_event,
                          self.start + span * start, self.start + span * end)


def terminal_bar(enabled: bool, **kwargs):
    """A tqdm bar on stderr with rate and ETA, or None: when disabled, when stderr is not a terminal
    (logs, pipes, the Blender worker) or when tqdm is not installed (stock Blender's Python)."""
    if not enabled or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(file=sys.stderr, dynamic_ncols=True, **kwargs)


class GenerateProgress:
    """ProgressCallback for one `generate` on a terminal: percent, current stage, elapsed and ETA."""

    def __init__(self, enabled: bool) -> None:
        self.bar = terminal_bar(enabled, total=100, unit="%",
                                bar_format="{percentage:3.0f}%|{bar}| {desc} [{elapsed}<{remaining}]")
        self.done = 0

    def __call__(self, fraction: float, stage: str) -> None:
        if self.bar is None:
            return
        step = int(fraction * 100) - self.done
        self.bar.set_description_str(stage[:40], refresh=step <= 0)
        if step > 0:
            self.bar.update(step)
            self.done += step

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class BatchProgress:
    """`batch` on a terminal: one bar over the files to generate (files/min, ETA) with each finished
    file's line printed above it; without a terminal the lines alone go to stderr, as before."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar = None

    def start(self, total: int) -> None:
        self.bar = terminal_bar(self.enabled and total > 0, total=total, unit="file", smoothing=0.1)

    def line(self, text: str) -> None:
        if self.bar is None:
            print(text, file=sys.stderr)
            return
        self.bar.write(text, file=sys.stderr)
        self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
