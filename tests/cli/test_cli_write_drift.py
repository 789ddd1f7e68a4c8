"""Drift on a single write: the target's value changes between the operator's confirmation and
the send (someone else, through the sandbox's HTTP API). Nothing is sent, the operator is told
in words (was → now), and the journal records the refusal — through the service, and through
the command line on a live profile, where the operator confirms at a prompt."""

from __future__ import annotations

import os
import select
import subprocess
import time

import httpx
from cli_env import MANAGER, Cli, add_profile

from ctrader_admin.sandbox.request_log import LoggedRequest
from ctrader_admin.services import writes
from ctrader_admin.services.session import Session
from ctrader_admin.services.writes import PartnerCode, UserTarget, WriteDrift
from ctrader_admin.store.journal import JournalEntry, JournalFilter

EMILY = 1000001  # sandbox seed: partnerId IB-1042 at user level
REFERRAL = "/cid/oauth2/ctid/referral"


def someone_else_sets(cli: Cli, partner_id: str) -> None:
    """Another operator's write, straight through the sandbox's HTTP API."""
    answer = httpx.put(
        f"{cli.url}{REFERRAL}",
        params={"token": MANAGER.token},
        json={"brokerCrmName": "sandbox_crm", "userId": EMILY, "partnerId": partner_id},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def sent_since(cli: Cli, mark: int) -> list[LoggedRequest]:
    return [e for e in cli.sandbox.request_log[mark:] if e.method in ("PUT", "POST", "DELETE")]


def last_entry(cli: Cli) -> JournalEntry:
    database, _, journal = cli.store()
    try:
        entries = list(journal.iter_entries(JournalFilter(targets=(f"user:{EMILY}",))))
    finally:
        database.close()
    return max(entries, key=lambda entry: entry.id)


def test_a_value_changed_between_prepare_and_apply_is_not_overwritten(cli: Cli) -> None:
    async def scenario(session: Session) -> tuple[WriteDrift, int]:
        prepared = await writes.prepare(session, PartnerCode(UserTarget(EMILY), "MINE"))
        assert prepared.verdict == "write"
        assert prepared.rows() == [
            ("Target", f"user {EMILY}"),
            ("partnerId", "IB-1042 → MINE  (overwrites)"),
        ]
        someone_else_sets(cli, "THEIRS")  # after the operator saw IB-1042, before the send
        mark = len(cli.sandbox.request_log)
        try:
            await writes.apply(session, prepared, reason="CRM says MINE", ticket="SUP-1")
        except WriteDrift as drift:
            return drift, mark
        raise AssertionError("the write was applied over someone else's change")

    drift, mark = cli.in_session(scenario)
    assert sent_since(cli, mark) == []  # only the re-read went out
    assert drift.message.startswith(
        f"Not sent: the partnerId of user {EMILY} changed since it was confirmed — was "
        "IB-1042, now THEIRS."
    )
    assert cli.sandbox.referral(user_id=EMILY) == "THEIRS"
    entry = last_entry(cli)
    assert drift.journal_id == entry.id
    assert (entry.action, entry.before, entry.after, entry.outcome) == (
        "set_partner",
        "IB-1042",
        "MINE",
        "refused",
    )
    assert entry.error == (
        "not sent: the value changed since it was confirmed — was IB-1042, now THEIRS"
    )
    assert (entry.reason, entry.ticket) == ("CRM says MINE", "SUP-1")


def _read_until(fd: int, wanted: bytes, limit_s: float = 60.0) -> bytes:
    """Read the child's output until ``wanted`` appears (a guard, not a timing assertion)."""
    seen = b""
    deadline = time.monotonic() + limit_s
    while wanted not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"no {wanted!r} in {seen!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 4096)
            assert chunk, f"the command ended before {wanted!r}: {seen!r}"
            seen += chunk
    return seen


def test_the_command_line_says_the_value_changed_since_it_was_confirmed(cli: Cli) -> None:
    add_profile(cli.home, cli.url, id="live", name="Live", live=True)
    terminal, child_side = os.openpty()  # the operator's terminal: the prompt is asked there
    child = subprocess.Popen(
        cli.command(
            "referral", "set", "--user", str(EMILY), "MINE", "--reason", "r", "--profile", "live"
        ),
        env=cli.environ(),
        stdin=child_side,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cli.home,
    )
    os.close(child_side)
    try:
        assert child.stdout is not None
        prompt = _read_until(child.stdout.fileno(), b"Type live to continue: ").decode()
        assert "IB-1042 → MINE" in prompt  # the prepared change is what the operator confirms
        someone_else_sets(cli, "THEIRS")
        mark = len(cli.sandbox.request_log)
        os.write(terminal, b"live\n")
        _, stderr = child.communicate(timeout=120)
    finally:
        os.close(terminal)
        if child.poll() is None:
            child.kill()
    assert child.returncode == 1  # ended in drift
    assert "changed since it was confirmed — was IB-1042, now THEIRS" in stderr.decode()
    assert sent_since(cli, mark) == []
    assert cli.sandbox.referral(user_id=EMILY) == "THEIRS"
    entry = last_entry(cli)
    assert (entry.after, entry.outcome, entry.profile_id) == ("MINE", "refused", "live")
    assert f"journal #{entry.id}" in stderr.decode()
