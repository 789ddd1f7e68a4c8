"""The Journal tab on 1 000 000 entries in the team database (PostgreSQL), against the same
journal in SQLite, measured in one run: first screen and text filters — goal ≤ 300 ms each.

How the journals are built (quickly, so the run stays short):
- PostgreSQL: server-side, one ``INSERT … SELECT FROM generate_series`` as the team's
  administrator, in the shape the journal writes: the canonical JSON body (sorted keys, no
  spaces, the same 21 fields, JSON-escaped by the server), its SHA-256 as ``hash``, the filter
  columns generated from the body by the schema. Not chained (every ``prev_hash`` is the genesis
  hash: a chain is sequential by nature) — ``verify()`` would name entry 2; the tab never
  verifies. The trigram index (migration step 2) is dropped for the load and built again after,
  as a restore would.
- SQLite: benchmarks/journal_tab.py's fill (``Journal.append_many``), same count.
Then each tab is measured in a fresh process through benchmarks/journal_tab.py's steps: the
JournalTab and its model as the app builds them (``compose_backoffice``, with ``team=`` for
PostgreSQL, connected as an agent role).

    .venv/bin/python benchmarks/team_journal_tab.py               # 1 000 000 entries
    .venv/bin/python benchmarks/team_journal_tab.py --count 200000

Needs PostgreSQL's server binaries with pg_trgm (Debian's postgresql package has both).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from journal_tab import DEFAULT_COUNT, fill, measure_office
from team_server import team_server

from ctrader_admin.store.journal_engine import GENESIS_HASH
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.pg.migrations import search_text
from ctrader_admin.store.pg.settings import TeamSettings

GOAL_MS = 300.0
FIRST = "construct tab + first screen"

# The body's fields in canonical (sorted) order, as SQL over the series ``i``: like
# journal_tab.attempts(), one attempt every ~90 s, some failed and unknown, batches, two profiles.
_FIELDS: tuple[tuple[str, str], ...] = (
    ("action", "(ARRAY['set_partner','set_partner','set_partner','delete_partner','move_wl'])"
               "[i % 5 + 1]"),
    ("after", "CASE WHEN i % 5 = 3 THEN NULL ELSE 'IB-' || (i::bigint * 7919 % 4000) END"),
    ("at_utc", "to_char(timestamptz '2023-01-01 00:00:00+00' + make_interval(secs => 90 * i), "
               "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"),
    ("batch_id", "CASE WHEN (i / 500) % 4 = 0 THEN 'batch-' || lpad((i / 500)::text, 5, '0') END"),
    ("before", "CASE WHEN i % 5 <> 0 THEN 'IB-' || (i::bigint * 104729 % 4000) END"),
    ("broker_name", "(ARRAY['acme','acme_pro','acme_eu'])[i % 3 + 1]"),
    ("environment", "CASE WHEN i % 7 = 0 THEN 'demo' ELSE 'live' END"),
    ("error", "CASE WHEN i % 50 = 1 THEN 'NOT_ENOUGH_RIGHTS: no rights on this White Label' "
              "WHEN i % 500 = 2 THEN 'Timeout talking to the server; check whether the change "
              "was applied.' END"),
    ("id", "i"),
    ("operator", "(40001 + i % 12)::text"),
    ("outcome", "CASE WHEN i % 50 = 1 THEN 'failed' WHEN i % 500 = 2 THEN 'unknown' "
                "ELSE 'ok' END"),
    ("prev_hash", f"'{GENESIS_HASH}'::text"),
    ("profile_id", "CASE WHEN i % 7 = 0 THEN 'acme-demo' ELSE 'acme-live' END"),
    ("profile_name", "CASE WHEN i % 7 = 0 THEN 'ACME Demo' ELSE 'ACME Live' END"),
    ("reason", "(ARRAY['partner claims the client (email)','CRM export: wrong attribution',"
               "'client moved to the EU entity','partner contract ended',"
               "'duplicate attribution after migration'])[i % 5 + 1]"),
    ("request", "'{\"brokerCrmName\": \"acme_crm\", \"userId\": ' "
                "|| (2000000 + i % 600000) || '}'"),
    ("response", "CASE WHEN i % 50 <> 1 AND i % 500 <> 2 THEN '{}' END"),
    ("reverts_id", "NULL::bigint"),
    ("target", "CASE WHEN i % 3 = 0 THEN 'account:' || (9000000 + i::bigint * 31 % 900000) "
               "ELSE 'user:' || (2000000 + i::bigint * 17 % 600000) END"),
    ("ticket", "'SUP-' || (i::bigint * 6151 % 100000)"),
    ("workstation", "'desk-' || lpad((i % 20)::text, 2, '0')"),
)  # fmt: skip


def _body_sql() -> str:
    parts = [
        f"'{',' if n else '{'}\"{name}\":' || coalesce(to_json({value})::text, 'null')"
        for n, (name, value) in enumerate(_FIELDS)
    ]
    return "(" + " || ".join(parts) + " || '}')"


def fill_team(admin: TeamSettings, count: int) -> float:
    """The seconds it took: the rows, then the trigram index."""
    started = time.perf_counter()
    with PgDatabase(admin, None) as db, db.transaction() as conn:
        conn.execute("DROP INDEX journal_search")
        # The body's SQL is this file's constants: nothing from outside goes into it.
        body = _body_sql()
        insert = f"INSERT INTO journal (id, body, hash) SELECT i, b, encode(sha256(convert_to(b, 'UTF8')), 'hex') FROM generate_series(1, ?) AS i, LATERAL (SELECT {body} AS b) AS body"  # noqa: S608, E501
        conn.execute(insert, (count,))
        conn.execute(
            "UPDATE journal_head SET last_id = j.id, last_hash = j.hash FROM journal j "
            "WHERE j.id = ?",
            (count,),
        )
        conn.execute(f"CREATE INDEX journal_search ON journal USING gin ({search_text()} "
                     "gin_trgm_ops)")  # fmt: skip
        conn.execute("ANALYZE journal")
    return time.perf_counter() - started


def _measure_in_fresh_process(args: list[str]) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "figures.json"
        env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
        subprocess.run([sys.executable, *args, "--figures", str(out)], check=True, env=env)
        figures: dict[str, float] = json.loads(out.read_text())
        return figures


def measure_team(host: str, port: int, database: str, user: str, figures: Path) -> None:
    settings = TeamSettings(host=host, port=port, database=database, user=user, tls=False)
    with tempfile.TemporaryDirectory() as folder:
        from ctrader_admin.store.database import Database

        measure_office(
            lambda: Database(Path(folder) / "local.sqlite3"),
            lambda: PgDatabase(settings, None),
            figures,
        )


def main() -> None:
    if sys.argv[1:2] == ["--measure-team"]:
        host, port, database, user, _flag, figures = sys.argv[2:8]
        measure_team(host, int(port), database, user, Path(figures))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT)
    parser.add_argument(
        "--sqlite-figures",
        type=Path,
        help="keep the SQLite figures in this JSON file; when it exists, reuse them instead of "
        "filling and measuring SQLite again (its fill alone takes minutes at 1M)",
    )
    args = parser.parse_args()

    here = Path(__file__).resolve()
    with tempfile.TemporaryDirectory(prefix="team-journal-tab-") as folder:
        kept: Path | None = args.sqlite_figures
        if kept is not None and kept.exists():
            sqlite = json.loads(kept.read_text())
            print(f"SQLite figures: reused from {kept}")
        else:
            sqlite_path = Path(folder) / "journal.sqlite3"
            fill(sqlite_path, args.count)
            sqlite = _measure_in_fresh_process(
                [str(here.with_name("journal_tab.py")), "--measure-only", "--db", str(sqlite_path)]
            )
            sqlite_path.unlink()
            if kept is not None:
                kept.write_text(json.dumps(sqlite))
        with team_server(1) as server:
            seconds = fill_team(server.admin, args.count)
            print(f"fill (PostgreSQL, server-side): {args.count:,} entries and the trigram "
                  f"index in {seconds:,.1f} s")  # fmt: skip
            team = _measure_in_fresh_process(
                [str(here), "--measure-team", "127.0.0.1", str(server.port), "postgres",
                 server.agents[0]]
            )  # fmt: skip

    print(f"\n{'step':<44} {'PostgreSQL':>10} {'SQLite':>8} {'÷ goal':>7} {'÷ SQLite':>9}")
    for label, ms in team.items():
        if label != FIRST and not label.startswith(("text filter", "+ text")):
            continue
        base = sqlite.get(label, float("nan"))
        print(f"{label:<44} {ms:8.0f}ms {base:6.0f}ms {ms / GOAL_MS:6.2f}× {ms / base:8.2f}×")
    print(f"(goal: ≤ {GOAL_MS:.0f} ms each; {args.count:,} entries in each journal)")


if __name__ == "__main__":
    main()
