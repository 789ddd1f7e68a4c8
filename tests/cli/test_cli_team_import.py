"""``ctrader-admin team import-history``: a workstation that wrote to the sandbox before team mode
imports its own journal into the team database, as an operator runs it."""

from __future__ import annotations

import csv
import shutil
import sqlite3
import uuid
from dataclasses import replace
from pathlib import Path

from cli_env import Cli
from pg_cluster import PgServer

from ctrader_admin.store.journal import Journal
from ctrader_admin.store.pg.admin import add_member, init_team
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.pg.settings import TeamSettings
from ctrader_admin.store.pg.team_config import save_team_settings

EMILY = 1000001


def _team(server: PgServer) -> TeamSettings:
    """A team database set up by `team init`; its superuser's settings (an administrator)."""
    settings = TeamSettings(
        host=server.host, port=server.port, database=server.create_database(),
        user=server.superuser, tls=False,
    )  # fmt: skip
    with PgDatabase(settings, None) as db:
        init_team(db)
    return settings


def _team_entries(settings: TeamSettings) -> int:
    with PgDatabase(settings, None) as db:
        journal = Journal(db)
        try:
            return journal.count()
        finally:
            journal.close()


def test_a_workstations_history_is_imported_once_and_exported_with_its_provenance(
    cli: Cli, pg_server: PgServer
) -> None:
    for code in ("PRE-1", "PRE-2"):  # written before team mode: the local journal
        done = cli.run("referral", "set", "--user", str(EMILY), code, "--reason", "before")
        assert done.returncode == 0, done.stderr
    admin = _team(pg_server)
    save_team_settings(cli.paths, admin)

    done = cli.run("team", "import-history", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "2 journal entries, chain verified" in done.stdout
    assert "2 would be imported into the team journal; 0 are there already." in done.stdout
    assert "Not imported: the attribution ledger" in done.stdout
    assert "Dry run: nothing was imported." in done.stdout
    assert _team_entries(admin) == 0

    code, result = cli.json("team", "import-history")
    assert code == 0
    assert (result["imported"], result["skipped"], result["first_id"]) == (2, 0, 1)
    code, result = cli.json("team", "import-history")
    assert (code, result["imported"], result["skipped"]) == (0, 0, 2)
    assert _team_entries(admin) == 2

    # In team mode, the journal commands read the team's journal.
    done = cli.run("journal", "verify")
    assert (done.returncode, done.stdout.strip()) == (0, "All 2 entries are intact."), done.stderr
    done = cli.run("journal", "export", "-o", "team.csv")
    assert done.returncode == 0, done.stderr
    with (cli.home / "team.csv").open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [r["after"] for r in rows] == ["PRE-1", "PRE-2"]
    assert rows[1]["imported_from"].startswith(f"Imported from {rows[1]['workstation']}, #2 (")
    assert f"by {admin.user} at " in rows[1]["imported_from"]


def test_a_tampered_copy_is_refused_and_an_agent_may_not_import(
    cli: Cli, pg_server: PgServer
) -> None:
    done = cli.run("referral", "set", "--user", str(EMILY), "PRE-1", "--reason", "before")
    assert done.returncode == 0, done.stderr
    admin = _team(pg_server)
    copy = cli.home / "copied.sqlite3"
    shutil.copy(cli.paths.database_file, copy)
    with sqlite3.connect(copy) as raw:
        raw.execute("DROP TRIGGER journal_no_update")
        raw.execute("UPDATE journal SET body = replace(body, 'PRE-1', 'PRE-9') WHERE id = 1")
    save_team_settings(cli.paths, admin)

    done = cli.run("team", "import-history", "--from", str(copy))
    assert done.returncode == 2
    assert "does not verify: Entry 1 was changed after it was written." in done.stderr
    assert "Nothing was imported." in done.stderr
    assert "Traceback" not in done.stderr
    assert _team_entries(admin) == 0

    agent = f"agent_{uuid.uuid4().hex[:6]}"
    with PgDatabase(admin, None) as db:
        add_member(db, agent, None)
    save_team_settings(cli.paths, replace(admin, user=agent))
    done = cli.run("team", "import-history")
    assert done.returncode == 2
    assert f"Only a team administrator may import a workstation's history ({agent}" in done.stderr
    assert _team_entries(admin) == 0


def test_home_names_another_app_folder(cli: Cli, pg_server: PgServer, tmp_path: Path) -> None:
    admin = _team(pg_server)
    save_team_settings(cli.paths, admin)
    done = cli.run("team", "import-history", "--home", str(tmp_path / "nowhere"))
    assert done.returncode == 2
    assert "There is no journal file at" in done.stderr
