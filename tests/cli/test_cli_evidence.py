"""The evidence pack from the command line: a partner's and a client's, as PDF (read back with
pypdf) and CSV — the case, every source row with its provenance, the journal entries that touched
them and the journal's verification — and no secret anywhere in the files."""

from __future__ import annotations

from cli_env import MANAGER, Cli
from pdf_reading import manager_secrets, pdf_text

EMILY, DANIEL = 1000001, 1000004


def prepare(cli: Cli) -> None:
    assert cli.run("attribution", "pull", "--registry").returncode == 0
    export = cli.write("crm.csv", cli.sandbox.crm_export_csv())
    assert cli.run("attribution", "import", str(export)).returncode == 0
    done = cli.run(
        "referral", "set", "--user", str(EMILY), "IB-7777",
        "--reason", "partner dispute 42", "--ticket", "SUP-4242",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_a_partner_s_evidence_pack_holds_the_case_the_rows_and_the_journal(cli: Cli) -> None:
    prepare(cli)
    target = cli.home / "emily.pdf"
    code, result = cli.json("attribution", "export", "--partner", str(EMILY), "-o", str(target))
    assert code == 0
    assert result["journal_entries"] == 1
    assert result["journal_intact"] is True
    text = pdf_text(target)
    assert f"Evidence: Partner user {EMILY}" in text
    assert "IB-7777" in text  # the code registered now, as read back
    assert "partner dispute 42" in text
    assert "SUP-4242" in text
    assert "Journal verification" in text
    assert "is intact" in text
    rows = (cli.home / "emily.rows.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == result["rows"] + 1
    journal = (cli.home / "emily.journal.csv").read_text(encoding="utf-8")
    assert "SUP-4242" in journal
    assert (target.stat().st_mode & 0o777) == 0o600


def test_a_client_s_evidence_pack_shows_each_source(cli: Cli) -> None:
    prepare(cli)
    target = cli.home / "daniel.pdf"
    code, _ = cli.json("attribution", "export", "--client", str(DANIEL), "-o", str(target))
    assert code == 0
    text = pdf_text(target)
    assert f"Evidence: Client user {DANIEL}" in text
    assert "cTrader Invite says: IB-1042" in text
    assert "CRM export says: IB-1042" in text


def test_no_secret_reaches_an_evidence_pack(cli: Cli) -> None:
    prepare(cli)
    target = cli.home / "emily.pdf"
    assert (
        cli.run("attribution", "export", "--partner", str(EMILY), "-o", str(target)).returncode == 0
    )
    secrets = manager_secrets(MANAGER)
    for path in cli.home.glob("emily*"):
        data = path.read_bytes() + (pdf_text(path).encode() if path.suffix == ".pdf" else b"")
        for secret in secrets:
            assert secret.encode() not in data, (path.name, "holds a secret")
