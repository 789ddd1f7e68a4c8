"""Command line: ``ctrader-admin`` with no subcommand opens the desktop app; subcommands serve
scripts and runbooks. Heavy modules are imported only by the subcommand that needs them."""

from __future__ import annotations

import argparse

from ctrader_admin import APP_NAME, __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=APP_NAME,
        description="Back-office console for cTrader brokers. With no command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    parser.add_argument(
        "--profile",
        metavar="ID_OR_NAME",
        help="open the app (or run the command) on this connection profile, id or name; for "
        "this start only: the saved default stays",
        default=None,
    )
    from ctrader_admin.logs import add_log_level_option

    add_log_level_option(parser, default=None)
    parser.add_argument(
        "--smoke-test",
        action="store_true",
        help="self-check of an install or build: show the main window on the sandbox, look up "
        "a user, print one line and exit (0 = ok); works with QT_QPA_PLATFORM=offscreen",
    )
    parser.epilog = (
        "Logs: the app writes ctrader-admin.log, the commands plan … account write "
        "ctrader-admin-cli.log, both in the log folder ($CTRADER_ADMIN_HOME/logs when that is "
        "set); each rotated at 2 MB, 3 old files kept; tokens and passwords are masked."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    from ctrader_admin.sandbox import cli as sandbox_cli

    sandbox_cli.add_parser(commands)
    from ctrader_admin import cli_commands

    cli_commands.add_parsers(commands)
    return parser


def opens_the_app(argv: list[str]) -> bool:
    """Plain ``ctrader-admin`` or ``ctrader-admin --profile X``: the window opens without
    importing every subcommand's parser first (they pull in the back office)."""
    if not argv:
        return True
    if argv[0] == "--profile" and len(argv) == 2:
        return not argv[1].startswith("-")
    return len(argv) == 1 and argv[0].startswith("--profile=")


def run(argv: list[str]) -> int:
    if opens_the_app(argv):
        from ctrader_admin.app import run_gui

        profile = argv[-1].removeprefix("--profile=") if argv else None
        return run_gui(profile=profile or None)
    args = build_parser().parse_args(argv)
    if args.smoke_test:
        from ctrader_admin.smoke import run_smoke_test

        return run_smoke_test()
    if args.command == "sandbox":
        from ctrader_admin.sandbox import cli as sandbox_cli

        return sandbox_cli.main(args)
    from ctrader_admin import cli_commands

    if args.command in cli_commands.COMMANDS:
        return cli_commands.main(args)
    from ctrader_admin.app import run_gui

    return run_gui(profile=args.profile, log_level=args.log_level)
