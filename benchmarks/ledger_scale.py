"""A 1 000 000-row attribution ledger (issue 11): the first screen of a big partner's referrals
and of the conflict report, each against the 100 ms goal and against the same screen read the
way it was before the ledger kept its conflict report and paged referrals along their indexes.

Builds the ledger in a throw-away SQLite file through the store's own write path
(``AttributionLedger.save_page`` in pages, ``set_registry``, ``replace_source`` for the CRM
export), which keeps the conflict report as it goes. The shape: ~570 000 clients, 3 000
partners (a few with most referrals), rows from cTrader Invite (with re-attributions), the CRM
export and the accounts' IB labels, and conflicts of every kind. Then times, through the calls
the GUI makes (services/attribution.py into the table model):

  1. a big partner's referrals, first screen: ``partner_case`` (codes, counts per source, the
     newest 200) → the referrals model;
  2. the conflict report, first screen: ``conflict_page`` (the first 200, counts per kind) →
     the conflicts model;

each as the median of 7 reads, ÷ 100 ms and ÷ the baseline: (1) the query the ledger had before
(one OR over user and codes, sorted, LIMIT/OFFSET, and a count per source with that OR); (2) the
report computed over every current row at read time, as before (``computed_conflicts``).

    .venv/bin/python benchmarks/ledger_scale.py                 # 1 000 000 rows: ~1.5 min
    .venv/bin/python benchmarks/ledger_scale.py --rows 100000   # a quick look
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from ctrader_admin.services import attribution
from ctrader_admin.store.attribution import (
    Attribution,
    AttributionLedger,
    RegisteredCode,
)
from ctrader_admin.store.database import Database
from ctrader_admin.store.timestamps import utc_iso
from ctrader_admin.ui.partner_registry import CONFLICT_COLUMNS
from ctrader_admin.ui.referrals_view import REFERRAL_COLUMNS
from ctrader_admin.ui.rows_model import RowsModel

PROFILE = "bench"
PARTNERS = 3_000
FIRST_PARTNER = 2_000_000
FIRST_CLIENT = 10_000_000
PAGE = 10_000  # rows per save_page, as a big Invite pull stores them
SCREEN = 200  # rows of a first screen (what the GUI asks for)
GOAL_MS = 100.0
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def code_of(partner: int) -> str:
    return f"IB-{partner - FIRST_PARTNER:05d}"


def registry(read_at: str) -> tuple[list[RegisteredCode], list[RegisteredCode]]:
    """cTrader's codes and the CRM's: every partner at user level, with a few of each
    registry conflict (shared code, levels differ, CRM differs, CRM only)."""
    ctrader: list[RegisteredCode] = []
    crm: list[RegisteredCode] = []
    for n in range(PARTNERS):
        partner = FIRST_PARTNER + n
        code = code_of(partner)
        if n % 100 == 7:  # the CRM knows them; cTrader has no code yet (flow 2 never done)
            crm.append(RegisteredCode("crm", partner, "user", 0, code, read_at))
            continue
        ctrader.append(RegisteredCode("ctrader", partner, "user", 0, code, read_at))
        if n % 100 == 3:  # a link carries another code
            ctrader.append(RegisteredCode("ctrader", partner, "account", n, code + "-A", read_at))
        if n % 100 == 5:  # one code on two partners
            ctrader.append(
                RegisteredCode("ctrader", partner, "account", n, code_of(partner - 1), read_at)
            )
        crm_code = code + "-CRM" if n % 100 == 9 else code  # the CRM's differs
        crm.append(RegisteredCode("crm", partner, "user", 0, crm_code, read_at))
    return ctrader, crm


def ledger_rows(total: int, read_at: str) -> tuple[Iterator[Attribution], list[Attribution]]:
    """(Invite and IB label rows in pull order, the CRM export): ~60 % Invite, 30 % CRM, 10 %
    IB labels of ``total``. Partners are chosen by a skewed weight, so a few have tens of
    thousands of referrals; a few per cent of clients have sources that disagree, some name
    a code nobody carries, some referred themselves."""
    rng = random.Random(20260101)
    partners = [FIRST_PARTNER + n for n in range(PARTNERS)]
    weights = [1 / (rank + 1) ** 0.9 for rank in range(PARTNERS)]
    clients = int(total * 0.57)
    chosen = rng.choices(partners, weights, k=clients)
    start = NOW - timedelta(days=730)
    crm: list[Attribution] = []

    def when(client: int) -> str:
        return utc_iso(start + timedelta(minutes=(client - FIRST_CLIENT) * 1.7))

    def stream() -> Iterator[Attribution]:
        for index, partner in enumerate(chosen):
            client = FIRST_CLIENT + index
            if index % 5000 == 11:  # a partner who invited themself
                client = partner
            code = code_of(partner) if index % 10 < 7 else None  # brokerPartnerId when known
            at = when(FIRST_CLIENT + index)
            yield Attribution("invite", f"{client}@{at}", client, None, code, partner, at, read_at)
            if index % 20 == 1:  # re-attributed later to another partner
                other = rng.choice(partners)
                later = utc_iso(datetime.fromisoformat(at) + timedelta(days=100))
                yield Attribution(
                    "invite", f"{client}@{later}", client, None, None, other, later, read_at
                )
            if index % 2 == 0:  # the CRM export lists half of them
                named = code_of(partner)
                if index % 50 == 2:
                    named = code_of(rng.choice(partners))  # the CRM says someone else
                elif index % 200 == 4:
                    named = f"GONE-{index % 97}"  # a code no partner carries
                crm.append(
                    Attribution("crm", f"user:{client}", client, None, named, None, at, read_at)
                )
            if index % 6 == 0:  # accounts with IB labels, both levels
                login = 40_000_000 + index
                label = code_of(partner) if index % 60 else code_of(rng.choice(partners))
                for level, text in ((1, label), (2, None)):
                    yield Attribution(
                        "ib_label", f"{login}/{level}", client, login, text, None, None, read_at,
                        f"introducingBroker{level}",
                    )  # fmt: skip

    return stream(), crm


def build(ledger: AttributionLedger, total: int) -> dict[str, float]:
    read_at = utc_iso(NOW)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    ctrader, crm_codes = registry(read_at)
    ledger.set_registry(PROFILE, "ctrader", ctrader)
    ledger.set_registry(PROFILE, "crm", crm_codes)
    pulled, crm = ledger_rows(total, read_at)
    page: list[Attribution] = []
    for row in pulled:
        page.append(row)
        if len(page) == PAGE:
            ledger.save_page(PROFILE, page)
            page = []
    ledger.save_page(PROFILE, page)
    timings["pulls"] = time.perf_counter() - started
    started = time.perf_counter()
    ledger.replace_source(PROFILE, "crm", crm)
    timings["crm import"] = time.perf_counter() - started
    return timings


def median_ms(read: Callable[[], object], runs: int = 7) -> tuple[float, float]:
    """(the first read, the median of ``runs`` after it), in ms."""
    times = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        read()
        times.append((time.perf_counter() - started) * 1000)
    return times[0], statistics.median(times[1:])


def old_referrals(database: Database, partner: int, codes: list[str]) -> object:
    """The partner's first screen as the ledger read it before: one OR over user and codes,
    sorted whole, LIMIT/OFFSET; a count per source with the same OR."""
    marks = ", ".join("?" * len(codes))
    where = f"profile_id = ? AND (partner_user_id = ? OR partner_code IN ({marks}))"
    params = (PROFILE, partner, *codes)
    with database.read() as conn:
        rows = conn.execute(
            f"SELECT * FROM attribution WHERE {where} "  # noqa: S608
            "ORDER BY attributed_at DESC, id DESC LIMIT ? OFFSET 0",
            (*params, SCREEN),
        ).fetchall()
        counts = [
            conn.execute(
                f"SELECT count(*) FROM attribution WHERE {where} AND source = ?",  # noqa: S608
                (*params, source),
            ).fetchone()
            for source in ("invite", "ib_label", "crm")
        ]
    return rows, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory(prefix="ledger-scale-") as home:
        database = Database(Path(home) / "ctrader-admin.sqlite3")
        ledger = AttributionLedger(database)
        started = time.perf_counter()
        timings = build(ledger, args.rows)
        built = time.perf_counter() - started
        rows = ledger.count(PROFILE)
        size_mb = (Path(home) / "ctrader-admin.sqlite3").stat().st_size / 1e6

        big = FIRST_PARTNER  # the partner with the most referrals
        referrals_model: RowsModel[Attribution] = RowsModel(REFERRAL_COLUMNS)
        conflicts_model: RowsModel[attribution.Conflict] = RowsModel(CONFLICT_COLUMNS)

        def referrals_screen() -> attribution.PartnerCase:
            case = attribution.partner_case(ledger, PROFILE, user_id=big, limit=SCREEN)
            referrals_model.set_rows(case.referrals)
            return case

        def conflicts_screen() -> attribution.ConflictPage:
            page = attribution.conflict_page(ledger, PROFILE, period_days=90, now=NOW, limit=SCREEN)
            conflicts_model.set_rows(page.conflicts)
            return page

        case = referrals_screen()
        page = conflicts_screen()
        codes = sorted(case.names)
        first_ref, ours_ref = median_ms(referrals_screen)
        first_con, ours_con = median_ms(conflicts_screen)
        _, base_ref = median_ms(lambda: old_referrals(database, big, codes), runs=3)
        _, base_con = median_ms(lambda: ledger.computed_conflicts(PROFILE)[:SCREEN], runs=1)
        _, partners_list = median_ms(lambda: attribution.partner_summaries(ledger, PROFILE), 1)
        filtered = {
            name: median_ms(
                lambda wanted=wanted: attribution.more_referrals(
                    ledger, PROFILE, case, wanted, limit=SCREEN
                ),
                runs=3,
            )[1]
            for name, wanted in (
                ("conflicts only", attribution.ReferralFilter(conflicts_only=True)),
                ("text '4242'", attribution.ReferralFilter(text="4242")),
                ("CRM export only", attribution.ReferralFilter(source="crm")),
            )
        }
        kept_ok = ledger.kept_conflicts(PROFILE) == ledger.computed_conflicts(PROFILE)
        database.close()
    del app

    print(
        f"ledger: {rows:,} rows ({size_mb:.0f} MB) built in {built:.1f} s through save_page/"
        f"replace_source ({', '.join(f'{k} {v:.1f} s' for k, v in timings.items())})"
    )
    print(
        f"partner user {big}: {sum(case.counts.values()):,} referrals "
        f"({', '.join(f'{attribution.SOURCE_NAMES[s]} {n:,}' for s, n in case.counts.items())})"
    )
    print(
        f"conflict report: {page.total:,} conflicts "
        f"({', '.join(f'{k} {n:,}' for k, n in sorted((page.counts or {}).items()))}); "
        f"kept = computed: {kept_ok}"
    )
    print(
        f"1. referrals, first screen ({SCREEN}): {ours_ref:.1f} ms median of 7 "
        f"(first {first_ref:.1f} ms) = {ours_ref / GOAL_MS:.2f}× the {GOAL_MS:.0f} ms goal; "
        f"before: {base_ref:.1f} ms = {base_ref / ours_ref:.1f}× ours"
    )
    print(
        f"2. conflict report, first screen ({SCREEN}): {ours_con:.1f} ms median of 7 "
        f"(first {first_con:.1f} ms) = {ours_con / GOAL_MS:.2f}× the {GOAL_MS:.0f} ms goal; "
        f"computed at read time as before: {base_con:.0f} ms = {base_con / ours_con:.0f}× ours"
    )
    print(
        "   (not goals) the referrals filtered, first screen: "
        + ", ".join(f"{name} {ms:.1f} ms" for name, ms in filtered.items())
    )
    print(f"   the Partners list, every partner with counts: {partners_list:.0f} ms")


if __name__ == "__main__":
    main()
