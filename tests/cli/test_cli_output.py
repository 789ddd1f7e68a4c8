"""The CLI's progress display and argument helpers, in-process: a bar redrawn in place on a
terminal, plain lines otherwise; row selections for ``revert --rows``."""

from __future__ import annotations

import io

import pytest

from ctrader_admin.cli_commands.bulk import parse_rows
from ctrader_admin.cli_commands.context import CliError
from ctrader_admin.cli_commands.output import ProgressView, describe, duration
from ctrader_admin.services.bulk import Progress
from ctrader_admin.store.checkpoints import ROW_STATES, RowState


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def progress(done: int, phase: str = "running", **counts: int) -> Progress:
    states: dict[RowState, int] = dict.fromkeys(ROW_STATES, 0)
    states.update(counts)  # type: ignore[typeddict-item]
    return Progress(
        job_id="abc",
        total=10,
        done=done,
        counts=states,
        eta_seconds=75.0,
        writes_left=42,
        writes_per_hour=500,
        phase=phase,  # type: ignore[arg-type]
        paused_seconds=30.0,
    )


def test_a_terminal_gets_one_bar_redrawn_in_place() -> None:
    stream = Terminal()
    view = ProgressView(stream)
    view(progress(3, ok=3))
    view(progress(10, "finished", ok=8, failed=2))
    text = stream.getvalue()
    assert text.count("\r\x1b[2K[") == 2
    assert text.endswith("\n")
    assert "10/10 rows · ok 8 · skipped 0 · failed 2 · ETA 1m15s" in text
    assert "writes left this hour 42/500" in text


def test_a_pipe_gets_plain_lines_at_each_phase_change() -> None:
    stream = io.StringIO()
    view = ProgressView(stream)
    view(progress(1, ok=1))
    view(progress(2, ok=2))  # same phase, seconds later: no new line
    view(progress(2, "paused", ok=2))
    view(progress(10, "finished", ok=10))
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    assert "paused by the backend's rate limit, 30s left" in lines[1]
    assert "\r" not in stream.getvalue()


def test_descriptions() -> None:
    assert "waiting for the write budget" in describe(progress(0, "waiting_for_budget"))
    assert "drift 1 · unknown 2" in describe(progress(3, drift=1, unknown=2))
    assert [duration(s) for s in (None, 5, 65, 3725)] == ["?", "5s", "1m05s", "1h02m"]


def test_row_selections() -> None:
    assert parse_rows("1,3, 5-7 ,user:1000001") == [1, 3, 5, 6, 7, "user:1000001"]
    for bad in ("", "x", "3-1", "0", "1-b"):
        with pytest.raises(CliError):
            parse_rows(bad)
