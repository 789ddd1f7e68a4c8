"""Every subcommand, action, option and argument of ``ctrader-admin`` says what it is for, and a
group's --help names its actions (issue 12: ``referral --help`` named none)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from ctrader_admin.cli import build_parser


def walk(parser: argparse.ArgumentParser, path: str) -> Iterator[tuple[str, argparse.Action]]:
    for action in parser._actions:  # argparse has no public walk over its tree
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                yield f"{path} {choice.dest}", choice
            for name, sub in action.choices.items():
                yield from walk(sub, f"{path} {name}")
        else:
            yield path, action


def test_every_command_option_and_argument_has_help() -> None:
    missing = [
        f"{path}: {'/'.join(action.option_strings) or action.dest}"
        for path, action in walk(build_parser(), "ctrader-admin")
        if not (action.help or "").strip() or action.help == argparse.SUPPRESS
    ]
    assert missing == []


@pytest.mark.parametrize(
    ("group", "actions"),
    [
        ("referral", ("get", "set", "delete")),
        ("user", ("create",)),
        ("account", ("link", "move-wl")),
        ("journal", ("verify", "export")),
        ("connection", ("test",)),
        ("attribution", ("pull", "import", "conflicts", "export")),
        ("partner", ("show",)),
    ],
)
def test_a_groups_help_names_its_actions(
    group: str, actions: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([group, "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    listed = {line.split()[0] for line in text.splitlines() if line.startswith("    ")}
    assert set(actions) <= listed, f"{group} --help does not list its actions:\n{text}"
