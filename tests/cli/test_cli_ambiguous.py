"""``ctrader-admin referral set`` whose first try was applied but whose answer was lost, then a
500: the operator and the journal hear "applied" (proved by a read-back), never "failed"; one
that was lost before it was applied is "unknown", with exit code 1."""

from __future__ import annotations

from cli_env import Cli, add_profile

from ctrader_admin.sandbox import Faults
from ctrader_admin.store.journal import JournalEntry

EMILY = 1000001
SLOW = "slow"  # a profile whose timeout the sandbox's stalls outlast


def entry(cli: Cli, entry_id: int | None = None) -> JournalEntry:
    database, _, journal = cli.store()
    try:
        found = journal.entry(entry_id) if entry_id else journal.page(None, 0, 1)[0]
    finally:
        database.close()
    assert found is not None
    return found


def prepare(cli: Cli) -> None:
    add_profile(cli.home, cli.url, id=SLOW, name="Slow loopback", timeout_seconds=0.5)
    cli.sandbox.config.faults = Faults(stall_seconds=1.0)


def test_referral_set_applied_then_lost_then_500_is_ok_not_failed(cli: Cli) -> None:
    prepare(cli)
    cli.sandbox.script_faults("stall_after", "error", "error")

    code, result = cli.json(
        "referral", "set", "--user", str(EMILY), "LOST-CLI", "--reason", "r", "--profile", SLOW
    )

    assert code == 0
    assert (result["before"], result["after"], result["changed"]) == ("IB-1042", "LOST-CLI", True)
    assert cli.sandbox.scripted_faults() == []
    written = entry(cli, result["journal_id"])
    assert written.outcome == "ok"
    assert "shows LOST-CLI, the intended value" in (written.response or "")
    assert cli.sandbox.referral(user_id=EMILY) == "LOST-CLI"


def test_referral_set_lost_before_it_was_applied_is_unknown(cli: Cli) -> None:
    prepare(cli)
    cli.sandbox.script_faults("stall_before", "rate_limited")

    done = cli.run(
        "referral", "set", "--user", str(EMILY), "NEVER-CLI", "--reason", "r", "--profile", SLOW
    )

    assert done.returncode == 1
    assert "may or may not have been applied" in done.stderr
    assert "Traceback" not in done.stderr
    written = entry(cli)
    assert written.outcome == "unknown"
    assert "not yet the intended value" in (written.error or "")
    assert cli.sandbox.referral(user_id=EMILY) == "IB-1042"
