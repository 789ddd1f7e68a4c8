"""How commands speak: results on stdout (text, or one JSON document with --json), everything
else on stderr; a progress bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO

from ctrader_admin.services.bulk import Progress
from ctrader_admin.services.job_summary import duration_text

_BAR_WIDTH = 24
_LINE_EVERY_SECONDS = 5.0


class Output:
    def __init__(self, as_json: bool, out: TextIO | None = None, err: TextIO | None = None):
        self.as_json = as_json
        self.out = out or sys.stdout
        self.err = err or sys.stderr

    def line(self, text: str = "") -> None:
        """A line of the human-readable result (not printed with --json)."""
        if not self.as_json:
            print(text, file=self.out, flush=True)

    def note(self, text: str) -> None:
        """Information for the operator, never part of the result."""
        print(text, file=self.err, flush=True)

    def document(self, data: dict[str, Any]) -> None:
        """The result with --json."""
        if self.as_json:
            json.dump(data, self.out, indent=1, ensure_ascii=False, default=str)
            self.out.write("\n")
            self.out.flush()


def duration(seconds: float | None) -> str:
    return "?" if seconds is None else duration_text(seconds, short=True)


class ProgressView:
    """The ``on_progress`` of a job: a redrawn bar on a terminal, else a line every few
    seconds and at each change of phase."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._last_line = 0.0
        self._last_phase = ""
        self._drawn = False

    def __call__(self, progress: Progress) -> None:
        text = describe(progress)
        if self.tty:
            filled = round(_BAR_WIDTH * progress.fraction)
            bar = "█" * filled + "░" * (_BAR_WIDTH - filled)
            self.stream.write(f"\r\x1b[2K[{bar}] {text}")
            self._drawn = True
            if progress.phase in ("finished", "stopped"):
                self.stream.write("\n")
                self._drawn = False
            self.stream.flush()
            return
        now = time.monotonic()
        final = progress.phase in ("finished", "stopped")
        if (
            final
            or progress.phase != self._last_phase
            or now - self._last_line >= _LINE_EVERY_SECONDS
        ):
            self.stream.write(text + "\n")
            self.stream.flush()
            self._last_line = now
            self._last_phase = progress.phase

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


def describe(progress: Progress) -> str:
    counts = progress.counts
    parts = [
        f"{progress.done}/{progress.total}",
        f"ok {counts['ok']}",
        f"skipped {counts['skipped']}",
    ]
    parts += [
        f"{state} {counts[state]}" for state in ("drift", "failed", "unknown") if counts[state]
    ]
    tail = [f"ETA {duration(progress.eta_seconds)}"]
    tail.append(f"writes left this hour {progress.writes_left}/{progress.writes_per_hour}")
    if progress.phase == "paused":
        tail.append(f"paused by the backend's rate limit, {duration(progress.paused_seconds)} left")
    elif progress.phase == "waiting_for_budget":
        tail.append("waiting for the write budget")
    elif progress.phase in ("stopping", "stopped", "finished"):
        tail.append(progress.phase)
    return " · ".join([" ".join(parts[:1]) + " rows", *parts[1:], *tail])
