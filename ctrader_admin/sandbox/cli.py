"""`ctrader-admin sandbox`: serve the sandbox on loopback for the CLI, tests and benchmarks.

Only the training constants are imported up front; the server comes in with ``main``.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .attribution_seed import ORPHAN_CODE
from .config import DIALECTS
from .training import (
    BROKER_CRM_NAME,
    ENVIRONMENTS,
    TRADING_PASSWORD_RULE,
    TRAINING_MANAGERS,
    WHITE_LABELS,
)

if TYPE_CHECKING:
    from .app import Sandbox

DEFAULT_PORT = 8443


def training_epilog() -> str:
    """The training credentials and two example calls, as --help shows them."""
    main_manager = TRAINING_MANAGERS[0]
    lines = ["training credentials (a local training system: these open nothing else):", ""]
    for manager in TRAINING_MANAGERS:
        lines += [
            f"  manager {manager.login}, password {manager.password!r}: {manager.description}",
            f"    seeded token: {manager.token}",
        ]
    lines += [
        "",
        f"  trading accounts: {TRADING_PASSWORD_RULE}",
        f"  brokerCrmName: {BROKER_CRM_NAME}",
        f"  White Labels: {', '.join(WHITE_LABELS)}",
        f"  environments: {', '.join(ENVIRONMENTS)}",
        "",
        "start here (fresh seed, default --seed):",
        "  partner case: Emily Carter, emily.carter@example.com, user 1000001 (sandbox_main):",
        "    partnerId IB-1042 at user level but IB-2077 on the link of live account 5200001;",
        "    the busiest inviter in cTrader Invite; live account 5200002 is not linked yet.",
        "  client case: Daniel Okafor, daniel.okafor@example.com, user 1000004 (sandbox_main):",
        "    no partner code (a client); Invite and the CRM attribute him to IB-1042 (invited",
        "    20 days before the sandbox was seeded: inside a 90-day guaranteed period), but",
        "    introducingBroker1 on his live account 5200005 says AFF-EU-318 (Lukas Becker,",
        "    user 1000002).",
        "  elsewhere: a code registered on two partners, a partner whose CRM code differs, a",
        "    CRM partner without a code, a self-referral, re-attributions, and a client",
        f"    attributed to {ORPHAN_CODE}, a code no partner carries.",
        "",
        "--export-crm columns (one row per account link, one per user without a link):",
        "  userId, email, login, ctidTraderAccountId, brokerName, environment (the directory",
        "  import's columns); partnerCode (the person's own code in the CRM's partner programme,",
        "  empty: not a partner); referredByPartnerCode (the partner the CRM attributed the",
        "  client to, empty: direct); referredAt (ISO 8601 UTC). A few rows disagree with",
        "  cTrader on purpose.",
        "",
        "examples (with --tls: https:// and --cacert <the CA bundle printed at start>):",
        "",
        f'  curl "http://127.0.0.1:{DEFAULT_PORT}/v2/webserv/traders/5200001'
        f'?token={main_manager.token}"',
        "",
        f'  curl -X PUT "http://127.0.0.1:{DEFAULT_PORT}/cid/oauth2/ctid/referral'
        f'?token={main_manager.token}" \\',
        '       -H "Content-Type: application/json" \\',
        f'       -d \'{{"brokerCrmName": "{BROKER_CRM_NAME}", "userId": 1000001, '
        '"partnerId": "IB-2077"}\'',
        "",
        f'  curl -H "Authorization: Bearer {main_manager.token}" \\',
        f'       "http://127.0.0.1:{DEFAULT_PORT}/v1/social/invitedUsers?createdFrom=0&limit=100"',
        "",
        "sandbox-only endpoints (not Spotware's API): GET /_sandbox/health,",
        'GET|DELETE /_sandbox/log, GET|POST /_sandbox/knobs ({"invite_enabled": false} = 404',
        'on /v1/*), POST /_sandbox/invitations ({"count": N, "partnerUserId": P} adds N new',
        'users invited by P, else by the partners in turn; or {"invitations": [{"invitedUserId",',
        '"partnerUserId", "brokerPartnerId"?, "createTimestamp"?}]}), stamped after every',
        "existing invitation.",
        'GET|POST|DELETE /_sandbox/faults/script ({"writes": ["stall_after", "error"]}: the',
        "faults of the next writes, in order: error, drop, stall_before, stall_after,",
        "rate_limited, ignored (answered as a success, nothing changed: a read-back shows the",
        "old value, e.g. to train on a partner code that does not read back), none).",
    ]
    return "\n".join(lines)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "sandbox",
        help="serve the embedded sandbox (a Spotware-like backend) on loopback",
        description="Serve the embedded sandbox, a stand-in for Spotware's broker backend, "
        "on this machine only.",
        epilog=training_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="loopback address (default %(default)s)"
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="default %(default)s")
    parser.add_argument(
        "--tls", action="store_true", help="serve HTTPS with a freshly generated self-signed CA"
    )
    parser.add_argument(
        "--cert-dir", type=Path, default=None, help="where --tls writes its files (default: temp)"
    )
    parser.add_argument(
        "--db", default=":memory:", help="SQLite file to keep state across restarts"
    )
    parser.add_argument("--seed", type=int, default=20260101, help="seed data and fault draws")
    parser.add_argument("--users", type=_non_negative_int, default=300, help="seeded users")
    parser.add_argument(
        "--latency-ms", type=_non_negative_float, default=0.0, help="added to every answer"
    )
    parser.add_argument(
        "--jitter-ms", type=_non_negative_float, default=0.0, help="random extra latency, up to"
    )
    parser.add_argument(
        "--write-cap",
        type=_non_negative_int,
        default=1000,
        help="accepted writes per rolling hour (0 = no cap; default %(default)s)",
    )
    parser.add_argument(
        "--dialect",
        choices=sorted(DIALECTS),
        default="default",
        help="which of the backend's error and response shapes to speak (default %(default)s)",
    )
    parser.add_argument(
        "--no-invite",
        action="store_true",
        help="answer 404 on /v1/* as a broker without cTrader Invite (overrides --dialect)",
    )
    parser.add_argument(
        "--invite-every",
        metavar="SECONDS",
        type=_non_negative_float,
        default=0.0,
        help="while serving, add one new Invite attribution every SECONDS (0 = never; "
        "to show incremental pulls)",
    )
    parser.add_argument("--error-rate", type=_rate, default=0.0, help="share of 500 answers")
    parser.add_argument("--drop-rate", type=_rate, default=0.0, help="share of cut connections")
    parser.add_argument(
        "--stall-before-rate", type=_rate, default=0.0, help="share stalled before applying"
    )
    parser.add_argument(
        "--stall-after-rate", type=_rate, default=0.0, help="share stalled after applying"
    )
    parser.add_argument(
        "--stall-seconds",
        type=_non_negative_float,
        default=30.0,
        help="how long a stall lasts (default %(default)s)",
    )
    parser.add_argument("--quiet", action="store_true", help="no line per request")
    parser.add_argument(
        "--export-crm",
        metavar="FILE",
        type=Path,
        help="write the broker CRM's export CSV (users, links, partner codes, attributions; "
        "columns below) and exit",
    )


def main(args: argparse.Namespace) -> int:
    from .app import Sandbox
    from .config import Faults, SandboxConfig
    from .server import NonLoopbackHostError, check_loopback, make_self_signed, run

    try:
        check_loopback(args.host)
    except NonLoopbackHostError as error:
        print(f"ctrader-admin sandbox: {error}", file=sys.stderr)
        return 2
    config = SandboxConfig(
        db_path=args.db,
        seed=args.seed,
        users=args.users,
        latency_ms=args.latency_ms,
        jitter_ms=args.jitter_ms,
        write_cap_per_hour=args.write_cap or None,
        dialect=dataclasses.replace(
            DIALECTS[args.dialect],
            invite_enabled=DIALECTS[args.dialect].invite_enabled and not args.no_invite,
        ),
        faults=Faults(
            error_rate=args.error_rate,
            drop_rate=args.drop_rate,
            stall_before_rate=args.stall_before_rate,
            stall_after_rate=args.stall_after_rate,
            stall_seconds=args.stall_seconds,
        ),
    )
    tls = None
    if args.tls:
        cert_dir = args.cert_dir or Path(tempfile.mkdtemp(prefix="ctrader-sandbox-tls-"))
        tls = make_self_signed(cert_dir)
    if not args.quiet:
        _log_requests_to_stdout()

    def announce(url: str) -> None:
        trust = f" (CA bundle: {tls.ca})" if tls else ""
        print(f"ctrader-admin sandbox listening on {url}{trust}", flush=True)

    sandbox = Sandbox(config)
    if args.export_crm is not None:
        args.export_crm.write_text(sandbox.crm_export_csv(), encoding="utf-8")
        print(f"CRM export of the sandbox written to {args.export_crm}")
        sandbox.close()
        return 0
    stop_inviting = _invite_periodically(sandbox, args.invite_every)
    try:
        run(sandbox, host=args.host, port=args.port, tls=tls, on_ready=announce)
    except OSError as error:  # typically: the port is taken
        print(
            f"ctrader-admin sandbox: cannot listen on {args.host}:{args.port}: {error}",
            file=sys.stderr,
        )
        return 1
    finally:
        stop_inviting()
        sandbox.close()
    return 0


def _invite_periodically(sandbox: Sandbox, every_seconds: float) -> Callable[[], None]:
    """Add one invitation per period on a daemon thread; the returned function stops it and
    waits, so the database is never closed under the thread's feet."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every_seconds):
            sandbox.add_invitations(1)

    if every_seconds <= 0:
        return stop.set
    thread = threading.Thread(target=loop, name="sandbox-invitations", daemon=True)
    thread.start()

    def stop_and_wait() -> None:
        stop.set()
        thread.join()

    return stop_and_wait


def _log_requests_to_stdout() -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    request_logger = logging.getLogger("ctrader_admin.sandbox.requests")
    request_logger.addHandler(handler)
    request_logger.setLevel(logging.INFO)
    request_logger.propagate = False


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not within [0, 1]")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value
