"""Planning (the dry run) against the in-process sandbox: every row kind, every bad-row kind,
the exact call of each row, counts, and plan files that refuse to be edited."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from office_helpers import MakeOffice
from pydantic import SecretStr

from ctrader_admin.api import ApiError
from ctrader_admin.cli import build_parser
from ctrader_admin.sandbox import TRAINING_MANAGERS, Sandbox, SandboxConfig
from ctrader_admin.services import accounts, partners
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.services.bulk import (
    ConfirmationRequired,
    JobRefused,
    JobRunner,
    Plan,
    PlanRefused,
    PlanTampered,
    confirmation_word,
    load_plan,
    plan_csv,
    save_plan,
)
from ctrader_admin.services.errors import InvalidInput, ReadOnlyProfile
from ctrader_admin.services.session import Session
from ctrader_admin.services.writes import UserTarget
from ctrader_admin.store.checkpoints import CheckpointStore
from ctrader_admin.store.directory import Directory
from ctrader_admin.store.profiles import Profile

T = TypeVar("T")
MANAGER = TRAINING_MANAGERS[0]
HEADER = "level,userId,ctidTraderAccountId,partnerId"
# Sandbox showcase (seed data, see `ctrader-admin sandbox --help`).
EMILY, LUKAS, SOFIA = 1000001, 1000002, 1000003  # sandbox_main, sandbox_eu, sandbox_offlimits
EMILY_LIVE_LINK = 9000001  # live 5200001, account-level IB-2077
EMILY_DEMO_LINK = 9000002  # demo 3100001, no partnerId
EMILY_DEMO_LOGIN = 3100001
OFFLIMITS_LOGIN = 5200004


@dataclass
class Env:
    sandbox: Sandbox
    office: Backoffice
    store: CheckpointStore
    directory: Directory


@pytest.fixture
def env(make_office: MakeOffice) -> Iterator[Env]:
    sandbox = Sandbox(SandboxConfig(users=60))
    office = make_office(transport=lambda _profile: sandbox.transport())
    yield Env(sandbox, office, office.checkpoints, office.directory)
    sandbox.close()


def play(env: Env, scenario: Callable[[Session], Awaitable[T]], profile: str = "sandbox") -> T:
    async def main() -> T:
        session = await env.office.open(profile)
        await session.login(MANAGER.login, MANAGER.password, remember=False)
        try:
            return await scenario(session)
        finally:
            await env.office.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result()


def plan(env: Env, text: str, profile: str = "sandbox") -> Plan:
    return play(env, lambda session: plan_csv(session, text, source="t.csv"), profile)


def add_profile(env: Env, **changes: object) -> str:
    fields: dict[str, object] = {
        "id": "other",
        "name": "Other",
        "kind": "sandbox",
        "base_url": "https://sandbox.local",
        "broker_names": ["sandbox_main", "sandbox_eu"],
        "broker_crm_name": "sandbox_crm",
        "manager_login": MANAGER.login,
    }
    fields.update(changes)
    env.office.profiles.add(Profile.model_validate(fields))
    return str(fields["id"])


def test_every_partner_row_kind_shows_current_proposed_and_the_exact_call(env: Env) -> None:
    result = plan(
        env,
        f"{HEADER}\n"
        f"user,{EMILY},,IB-NEW\n"
        f"account,{EMILY},{EMILY_DEMO_LINK},ACC-1\n"
        f"account,,{EMILY_LIVE_LINK},\n"
        f"user,{LUKAS},,\n",
    )
    rows = result.rows
    assert [(r.op, r.target, r.current, r.proposed, r.status) for r in rows] == [
        ("set_partner", f"user:{EMILY}", "IB-1042", "IB-NEW", "write"),
        ("set_partner", f"account:{EMILY_DEMO_LINK}", None, "ACC-1", "write"),
        ("delete_partner", f"account:{EMILY_LIVE_LINK}", "IB-2077", None, "write"),
        ("delete_partner", f"user:{LUKAS}", "AFF-EU-318", None, "write"),
    ]
    calls = [r.call.model_dump(exclude_none=True) for r in rows if r.call]
    crm = {"brokerCrmName": "sandbox_crm"}
    path = "/cid/oauth2/ctid/referral"
    assert calls == [
        {"method": "PUT", "path": path, "body": {**crm, "userId": EMILY, "partnerId": "IB-NEW"}},
        {
            "method": "PUT",
            "path": path,
            "body": {**crm, "ctidTraderAccountId": EMILY_DEMO_LINK, "partnerId": "ACC-1"},
        },
        # Deleting an account-level record needs its owner: the read named it.
        {
            "method": "DELETE",
            "path": path,
            "query": {**crm, "userId": EMILY, "ctidTraderAccountId": EMILY_LIVE_LINK},
        },
        {"method": "DELETE", "path": path, "query": {**crm, "userId": LUKAS}},
    ]
    assert rows[2].user_id == EMILY
    assert "token" not in json.dumps(calls)
    assert result.counts() == {"write": 4, "skip": 0, "error": 0}
    assert (result.created_by, result.profile_id, result.kind) == (
        str(MANAGER.login),
        "sandbox",
        "partner",
    )
    # Planning sent nothing.
    assert all(entry.method == "GET" for entry in env.sandbox.request_log if "token" in entry.query)


def test_white_label_rows_read_the_account(env: Env) -> None:
    result = plan(env, f"login,environment,brokerName\n{EMILY_DEMO_LOGIN},demo,sandbox_eu\n")
    row = result.rows[0]
    assert (row.op, row.current, row.proposed, row.status) == (
        "move_wl",
        "sandbox_main",
        "sandbox_eu",
        "write",
    )
    assert row.call is not None
    assert row.call.model_dump(exclude_none=True) == {
        "method": "POST",
        "path": "/cid/ctid/changeCtidTraderAccount",
        "body": {
            "traderLogin": EMILY_DEMO_LOGIN,
            "brokerName": "sandbox_eu",
            "environmentName": "demo",
        },
    }


def test_every_bad_row_kind_is_an_error_and_nothing_is_sent_for_it(env: Env) -> None:
    result = plan(
        env,
        f"{HEADER}\n"
        "user,abc,,IB-1\n"  # wrong type
        "user,9999999,,IB-1\n"  # unknown user
        "account,,9999999,IB-1\n"  # unknown account link
        f"user,{SOFIA},,IB-1\n"  # a White Label out of reach
        f"account,{LUKAS},{EMILY_LIVE_LINK},IB-1\n"  # the link is Emily's
        f"user,{EMILY},,IB-1042\n"  # already so: skip
        f"account,,{EMILY_DEMO_LINK},\n"  # nothing to delete: skip
        f"user,{LUKAS},,DUP\n"
        f"user,{LUKAS},,DUP\n"  # duplicate of the line above
        "user,1000004,,ONE\n"
        "user,1000004,,TWO\n",  # conflicts with the line above
    )
    verdicts = [(r.line, r.status, r.problem) for r in result.rows]
    assert verdicts == [
        (2, "error", "invalid"),
        (3, "error", "not_found"),
        (4, "error", "not_found"),
        (5, "error", "no_rights"),
        (6, "error", "mismatch"),
        (7, "skip", None),
        (8, "skip", None),
        (9, "write", None),
        (10, "error", "duplicate"),
        (11, "error", "conflict"),
        (12, "error", "conflict"),
    ]
    messages = {r.line: r.message for r in result.rows}
    assert "USER_NOT_FOUND" in messages[3]
    assert "CTID_TRADER_ACCOUNT_NOT_FOUND" in messages[4]
    assert "NOT_ENOUGH_RIGHTS" in messages[5]
    assert messages[6] == f"account link {EMILY_LIVE_LINK} belongs to user {EMILY}, not {LUKAS}"
    assert messages[10] == "the same change as line 9"
    assert messages[11] == messages[12] == "lines 11, 12 ask different values"
    assert all(r.call is None for r in result.rows if r.status != "write")
    assert result.counts() == {
        "write": 1,
        "skip": 2,
        "error": 8,
        "error:invalid": 1,
        "error:not_found": 2,
        "error:no_rights": 1,
        "error:mismatch": 1,
        "error:duplicate": 1,
        "error:conflict": 2,
    }


def test_a_mismatch_is_also_found_through_the_local_directory(env: Env) -> None:
    # The link has no partnerId record, so the backend does not name its owner; the directory does.
    env.directory.upsert_link(
        "sandbox", EMILY_DEMO_LINK, user_id=EMILY, login=EMILY_DEMO_LOGIN, environment="demo",
        broker_name="sandbox_main", source="linked",
    )  # fmt: skip
    result = plan(env, f"{HEADER}\naccount,{LUKAS},{EMILY_DEMO_LINK},X\n")
    assert (result.rows[0].status, result.rows[0].problem) == ("error", "mismatch")


def test_white_label_bad_rows(env: Env) -> None:
    result = plan(
        env,
        "login,environment,brokerName\n"
        "9999999,demo,sandbox_eu\n"  # unknown login
        f"{OFFLIMITS_LOGIN},live,sandbox_main\n"  # source White Label out of reach
        f"{EMILY_DEMO_LOGIN},demo,sandbox_offlimits\n"  # target not handled by the connection
        f"{EMILY_DEMO_LOGIN},staging,sandbox_eu\n"  # no such environment on the connection
        "5200001,live,sandbox_main\n",  # already there
    )
    assert [(r.status, r.problem) for r in result.rows] == [
        ("error", "not_found"),
        ("error", "no_rights"),
        ("error", "no_rights"),
        ("error", "invalid"),
        ("skip", None),
    ]


def test_a_plan_file_round_trips_and_an_edited_one_is_refused(env: Env, tmp_path: Path) -> None:
    result = plan(env, f"{HEADER}\nuser,{EMILY},,IB-NEW\n")
    path = save_plan(result, tmp_path / "p.json")
    assert load_plan(path) == result
    assert path.stat().st_mode & 0o777 == 0o600
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("IB-NEW", "IB-EVIL"), encoding="utf-8")
    with pytest.raises(PlanTampered):
        load_plan(path)
    data = json.loads(text)
    data["rows"][0]["status"] = "maybe"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(PlanRefused, match="damaged or was edited"):
        load_plan(path)
    path.write_text('{"rows": []}', encoding="utf-8")
    with pytest.raises(PlanRefused, match="not a ctrader-admin bulk plan"):
        load_plan(path)
    with pytest.raises(PlanRefused, match="cannot be read"):
        load_plan(tmp_path / "missing.json")


def test_the_content_hash_and_the_plan_texts_are_those_of_one_whole_dump(env: Env) -> None:
    """Hashed and encoded a row at a time (no long GIL hold), with the same bytes as before:
    plan files sealed by earlier versions keep their hashes."""
    import hashlib

    from ctrader_admin.services.bulk.plan_file import (
        content_hash,
        plan_from_json,
        plan_record_json,
        plan_to_json,
    )

    result = plan(env, f'{HEADER}\nuser,{EMILY},,IB-NÉW "1"\nuser,not-a-number,,IB-1\n')
    body = result.model_dump(mode="json", exclude={"content_hash"})
    whole = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert content_hash(result) == hashlib.sha256(whole.encode("utf-8")).hexdigest()
    assert result.content_hash == content_hash(result)
    dumped = json.dumps(result.model_dump(mode="json"), indent=1, ensure_ascii=False) + "\n"
    assert plan_to_json(result) == dumped
    assert plan_from_json(plan_record_json(result)) == result


def test_applying_is_refused_before_anything_is_recorded(env: Env) -> None:
    result = plan(env, f"{HEADER}\nuser,{EMILY},,IB-NEW\n")
    other = add_profile(env)

    def start(session: Session, **kwargs: object) -> object:
        options: dict[str, object] = {"reason": "r", "ticket": ""}
        options.update(kwargs)
        return JobRunner.start(session, env.store, result, **options)  # type: ignore[arg-type]

    async def on_other(session: Session) -> None:
        with pytest.raises(PlanRefused, match="made for the connection"):
            start(session)

    play(env, on_other, other)

    async def on_sandbox(session: Session) -> None:
        with pytest.raises(InvalidInput, match="Reason"):
            start(session, reason=" ")
        edited = result.model_copy(update={"source": "x.csv"})
        with pytest.raises(PlanTampered):
            JobRunner.start(session, env.store, edited, reason="r", ticket="")
        runner = start(session)
        assert isinstance(runner, JobRunner)
        with pytest.raises(JobRefused, match="resume it instead"):
            start(session)

    play(env, on_sandbox)
    assert len(env.store.jobs()) == 1
    assert env.sandbox.referral(user_id=EMILY) == "IB-1042"


def test_a_live_connection_needs_its_environment_name_typed(env: Env) -> None:
    live = add_profile(env, id="acme-live", name="Acme", live=True, environments=["demo", "live"])
    assert confirmation_word(env.office.profiles.get(live)) == "live"
    assert confirmation_word(env.office.profiles.get("sandbox")) is None
    read_only = add_profile(env, id="ro", name="Read only", read_only=True)

    async def on_live(session: Session) -> None:
        result = await plan_csv(session, f"{HEADER}\nuser,{EMILY},,IB-NEW\n", source="t.csv")
        for typed in (None, "", "LIVE", "demo"):
            with pytest.raises(ConfirmationRequired, match="“live”"):
                JobRunner.start(
                    session, env.store, result, reason="r", ticket="", confirmation=typed
                )
        JobRunner.start(session, env.store, result, reason="r", ticket="", confirmation="live")

    play(env, on_live, live)

    async def on_read_only(session: Session) -> None:
        result = await plan_csv(session, f"{HEADER}\nuser,{EMILY},,IB-NEW\n", source="t.csv")
        with pytest.raises(ReadOnlyProfile):
            JobRunner.start(session, env.store, result, reason="r", ticket="")

    play(env, on_read_only, read_only)


# --- arbitrary text in every field: a verdict per row or a refusal, never a traceback ----------

PROPERTY = settings(max_examples=40, deadline=None, database=None)
TRICKY = [
    "",
    " ",
    str(EMILY),
    str(EMILY_DEMO_LINK),
    f" {EMILY} ",
    "100000²",
    "١٠٠٠٠٠١",
    "１０００００１",
    "+1000001",
    "-1000001",
    "0",
    "9" * 5000,
    "9223372036854775808",
    "sandbox_main",
    "sandbox_eu",
    " sandbox_eu ",
    "sandbox_offlimits",
    "demo",
    "live",
    "staging",
    "IB-1",
]
CELL = st.one_of(st.sampled_from(TRICKY), st.text(max_size=24))


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def _ids_sent(env: Env) -> list[str]:
    """The id of every request after the log-in; planning must send only reads."""
    sent: list[str] = []
    for entry in env.sandbox.request_log:
        if entry.path.endswith("/managers/token"):
            continue
        assert entry.method == "GET", entry
        if entry.path.startswith("/v2/webserv/traders/"):
            sent.append(entry.path.rsplit("/", 1)[1])
        else:
            sent.append(entry.query.get("userId") or entry.query["ctidTraderAccountId"])
    return sent


def _planned(env: Env, text: str) -> Plan | None:
    env.sandbox.clear_log()
    try:
        return plan(env, text)
    except InvalidInput as exc:  # a file that is not a bulk CSV at all: refused as a whole
        refusal = exc.problems
    assert refusal
    return None


def test_any_partner_csv_plans_row_by_row_and_reads_only_valid_ids(env: Env) -> None:
    @PROPERTY
    @given(
        st.lists(
            st.tuples(st.sampled_from(["user", "account", "User", "group"]), CELL, CELL, CELL),
            min_size=1,
            max_size=6,
        )
    )
    def check(rows: list[tuple[str, str, str, str]]) -> None:
        result = _planned(env, _csv([HEADER.split(","), *map(list, rows)]))
        sent = _ids_sent(env)
        if result is None:
            assert sent == []
            return
        parsed = {str(i) for r in result.rows if r.op for i in (r.user_id, r.ctid) if i}
        assert set(sent) <= parsed  # no request for a row whose ids did not parse
        for row in result.rows:
            assert row.status in ("write", "skip", "error")
            if row.op is None:
                assert (row.status, row.problem, row.call) == ("error", "invalid", None)
                assert row.message

    check()


def test_any_white_label_csv_is_checked_against_the_profile_before_reading(env: Env) -> None:
    @PROPERTY
    @example([(str(EMILY_DEMO_LOGIN), "demo", "sandbox_eu"), (str(EMILY_DEMO_LOGIN), "x", "y")])
    @given(st.lists(st.tuples(CELL, CELL, CELL), min_size=1, max_size=6))
    def check(rows: list[tuple[str, str, str]]) -> None:
        result = _planned(env, _csv([["login", "environment", "brokerName"], *map(list, rows)]))
        sent = _ids_sent(env)
        if result is None:
            assert sent == []
            return
        refused_unread = ("invalid", "duplicate", "conflict")
        readable = {
            str(r.login)
            for r in result.rows
            if r.op
            and r.problem not in refused_unread
            and not r.message.startswith(("White Label:", "Environment:"))
        }
        assert set(sent) <= readable  # nothing read for a row the profile or the parser refused
        for row in result.rows:
            if row.op is not None and (row.environment or "") not in ("demo", "live"):
                assert (row.status, row.call) == ("error", None)
            if row.status == "write":
                assert row.environment in ("demo", "live")
                assert row.proposed in ("sandbox_main", "sandbox_eu")
                assert row.call is not None

    check()


def _parsed_args(*argv: str) -> argparse.Namespace | None:
    """The CLI's own parser (argparse types included), or None when it refuses the line."""
    try:
        return build_parser().parse_args(list(argv))
    except SystemExit as exc:
        code = exc.code
    assert code == 2
    return None


def test_single_commands_with_any_text_refuse_in_words_and_send_nothing(env: Env) -> None:
    """``account move-wl`` / ``account link`` / ``referral set``: whatever the arguments, the
    command either runs or is refused (by argparse, or by the service with InvalidInput) before
    any request, exactly where the planner would refuse the same values."""
    listed = {"environments": ["demo", "live"], "broker_names": ["sandbox_main", "sandbox_eu"]}

    async def run(args: argparse.Namespace, session: Session) -> None:
        if args.command == "referral":
            target = UserTarget(args.user)
            await partners.set_partner(session, target, args.partner_id, reason="r")
        elif args.action == "move-wl":
            await accounts.move_white_label(
                session,
                login=args.login,
                environment=args.environment,
                target_broker_name=args.to,
                reason="r",
            )
        else:
            await accounts.link_account(
                session,
                login=args.login,
                password=SecretStr("pw"),
                user_id=args.user,
                broker_name=args.broker_name,
                environment=args.environment,
                reason="r",
            )

    login = st.one_of(st.sampled_from([str(EMILY_DEMO_LOGIN), str(OFFLIMITS_LOGIN)]), CELL)
    environment = st.one_of(st.sampled_from(["demo", " live", "Demo"]), CELL)
    white_label = st.one_of(st.sampled_from(["sandbox_eu", "sandbox_offlimits", "x"]), CELL)

    @PROPERTY
    @example("move-wl", str(EMILY_DEMO_LOGIN), "", "demo", "sandbox_offlimits")
    @example("move-wl", str(EMILY_DEMO_LOGIN), "", "staging", "sandbox_eu")
    @example("link", "3100010", str(EMILY), "staging", "sandbox_main")
    @example("link", "3100010", str(EMILY), "demo", "sandbox_offlimits")
    @example("referral", "100000²", "", "", "IB-1")
    @example("move-wl", str(EMILY_DEMO_LOGIN), "", "demo", "sandbox_main")  # already there
    @given(st.sampled_from(["move-wl", "link", "referral"]), login, CELL, environment, white_label)
    def check(command: str, number: str, other: str, environment: str, name: str) -> None:
        if command == "move-wl":
            argv = ["account", "move-wl", "--login", number, "--environment", environment]
            argv += ["--to", name]
        elif command == "link":
            argv = ["account", "link", "--login", number, "--user", other]
            argv += ["--broker-name", name, "--environment", environment]
        else:
            argv = ["referral", "set", "--user", number, "--", name]
        args = _parsed_args(*argv)
        if args is None:
            return
        env.sandbox.clear_log()
        refusal: dict[str, str] = {}
        try:
            play(env, lambda session: run(args, session))
        except InvalidInput as exc:
            refusal = exc.problems
        except ApiError:
            pass  # the backend's answer (not found, wrong password, no rights): in words
        if refusal:  # nothing written: at most the read that found the account already there
            sent = [e for e in env.sandbox.request_log if not e.path.endswith("/managers/token")]
            assert [e.method for e in sent if e.method != "GET"] == []
            return
        if command != "referral":
            assert environment.strip() in listed["environments"]
            assert name.strip() in listed["broker_names"]

    check()
