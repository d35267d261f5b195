"""Progress reporting and cooperative cancellation shared by every long-running stage."""
from __future__ import annotations

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
