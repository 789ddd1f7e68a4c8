"""Bulk jobs in words, without a widget: states, outcomes, the progress line, what may be resumed,
row choices (shared by the Jobs tab and the CLI's --rows), reading a CSV."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctrader_admin.services.bulk import Progress
from ctrader_admin.services.errors import InvalidInput
from ctrader_admin.services.job_summary import (
    JobSummary,
    duration_text,
    outcome_text,
    plan_source,
    progress_text,
    read_csv_text,
)
from ctrader_admin.services.row_choice import parse_row_choice, rows_text
from ctrader_admin.store.checkpoints import JobRecord, JobState, RowState

NO_ROWS: dict[RowState, int] = {
    "pending": 0,
    "in_flight": 0,
    "ok": 0,
    "skipped": 0,
    "drift": 0,
    "failed": 0,
    "unknown": 0,
}


def job(state: JobState, plan_json: str = "{}") -> JobRecord:
    return JobRecord(
        id="0123abcd",
        profile_id="sandbox",
        plan_hash="h",
        plan_json=plan_json,
        operator="30001",
        reason="CRM fix",
        ticket="SUP-1",
        state=state,
        runner=None,
        message=None,
        created_at="2026-12-06T01:00:00+00:00",
        updated_at="2026-12-06T01:00:00+00:00",
        finished_at=None,
    )


def summary(state: JobState, **flags: bool) -> JobSummary:
    counts = NO_ROWS | {"ok": 7, "failed": 1, "pending": 2}
    return JobSummary(job=job(state), counts=counts, source="fix.csv", **flags)


def test_a_jobs_state_and_whether_it_may_be_resumed() -> None:
    cases = {
        "interrupted — resumable": summary("running"),
        "running elsewhere": summary("running", busy_elsewhere=True),
        "running": summary("running", running_here=True),
        "stopped — resumable": summary("stopped"),
        "finished": summary("finished"),
    }
    assert {text: s.state_text for text, s in cases.items()} == {t: t for t in cases}
    assert [s.resumable for s in cases.values()] == [True, False, False, True, False]
    assert (summary("stopped").done, summary("stopped").total) == (8, 10)


def test_outcomes_name_only_what_happened() -> None:
    assert outcome_text(NO_ROWS | {"ok": 9990, "failed": 10}) == "ok 9,990 · failed 10"
    assert outcome_text(NO_ROWS | {"pending": 5}) == ""


@pytest.mark.parametrize(
    ("phase", "eta", "start"),
    [
        ("running", None, "ETA: estimating"),
        ("running", 3725.0, "ETA 1 h 02 min"),
        ("paused", 10.0, "Paused by the backend's rate limit (42 s)"),
        ("waiting_for_budget", 10.0, "Waiting for the hourly write budget"),
        ("stopped", None, "Stopped — resumable"),
    ],
)
def test_the_progress_line(phase: str, eta: float | None, start: str) -> None:
    progress = Progress(
        job_id="j",
        total=10,
        done=3,
        counts=NO_ROWS | {"ok": 2, "drift": 1, "in_flight": 4},
        eta_seconds=eta,
        writes_left=1234,
        writes_per_hour=5000,
        phase=phase,  # type: ignore[arg-type]
        paused_seconds=42.0,
    )
    assert progress_text(progress) == (
        f"{start} · 1,234 of 5,000 writes left this hour · ok 2, drift 1, in flight 4"
    )


def test_durations() -> None:
    assert [duration_text(s) for s in (0.4, 59, 61, 3600)] == [
        "0 s",
        "59 s",
        "1 min 01 s",
        "1 h 00 min",
    ]
    assert [duration_text(s, short=True) for s in (59, 61, 3725)] == ["59s", "1m01s", "1h02m"]


def test_a_plans_source_is_read_without_parsing_the_plan() -> None:
    assert plan_source('{"kind": "partner", "source": "crm \\"nov\\".csv", "rows": [') == (
        'crm "nov".csv'
    )
    assert plan_source('{"kind": "partner"}') == ""


def test_row_choices_round_trip_and_say_what_is_wrong() -> None:
    assert parse_row_choice("1,3, 5-7 ,user:1000001") == [1, 3, 5, 6, 7, "user:1000001"]
    assert rows_text([7, 1, 5, 6, 3]) == "1,3,5-7"
    with pytest.raises(InvalidInput) as caught:
        parse_row_choice("2-1")
    assert caught.value.problems == {"Rows": "'2-1' is not a valid range"}


def test_a_csv_is_read_without_its_byte_order_mark(tmp_path: Path) -> None:
    source = tmp_path / "fix.csv"
    source.write_text("login,environment,brokerName\n", encoding="utf-8-sig")
    assert read_csv_text(source) == "login,environment,brokerName\n"
    source.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(InvalidInput) as caught:
        read_csv_text(source)
    assert caught.value.problems["File"].startswith("fix.csv cannot be read:")
    with pytest.raises(InvalidInput, match=r"missing\.csv cannot be read: No such file"):
        read_csv_text(tmp_path / "missing.csv")
