"""What the CLI tells about its surroundings: profiles set aside from a broken settings file
(a stderr line; the command runs with the others) and its own log file."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import select
import signal
import sys

import pytest
from cli_env import MANAGER, PROFILE, Cli

EMILY = 1000001  # sandbox seed: IB-1042 at user level


def test_a_broken_profile_is_named_on_stderr_and_the_command_runs(cli: Cli) -> None:
    settings_file = cli.paths.settings_file
    data = json.loads(settings_file.read_text("utf-8"))
    broken = {"id": "acme", "name": "Acme", "base_url": "ftp://acme", "broker_names": ["a"]}
    data["profiles"].append(broken)
    settings_file.write_text(json.dumps(data), encoding="utf-8")

    done = cli.run("referral", "get", "--user", str(EMILY), "--profile", PROFILE, "--json")

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["partnerId"] == "IB-1042"
    (kept,) = cli.paths.config_dir.glob("settings.broken-*.json")
    (line,) = [line for line in done.stderr.splitlines() if "'Acme'" in line]
    assert line.startswith("ctrader-admin: The profile 'Acme' could not be loaded: ")
    assert "The server address must look like https://host:port" in line
    assert "Missing: broker_crm_name." in line
    assert f"It is kept in {kept}; the other profiles are loaded." in line
    assert json.loads(kept.read_text("utf-8"))["profiles"] == [broken]
    # Told once: the next command is quiet.
    again = cli.run("referral", "get", "--user", str(EMILY), "--profile", PROFILE, "--json")
    assert (again.returncode, again.stderr) == (0, "")


def _cli_log(cli: Cli) -> str:
    return (cli.paths.log_dir / "ctrader-admin-cli.log").read_text("utf-8")


def test_the_cli_writes_its_log_file_at_the_chosen_level_with_the_token_masked(cli: Cli) -> None:
    done = cli.run("referral", "get", "--user", str(EMILY), "--log-level", "debug")

    assert done.returncode == 0, done.stderr
    text = _cli_log(cli)
    assert "INFO ctrader_admin.cli_commands.runner: ctrader-admin " in text
    assert "referral get" in text
    assert "DEBUG ctrader_admin.api.client: GET /cid/oauth2/ctid/referral -> 200" in text
    assert "/cid/oauth2/ctid/referral?" in text  # httpx's request line, at debug only
    assert "token=***" in text
    assert MANAGER.token not in text
    assert done.stderr == ""  # the log goes to its file, not to the terminal


def test_the_level_comes_from_the_option_else_the_environment_else_info(cli: Cli) -> None:
    get = ("referral", "get", "--user", str(EMILY))
    assert cli.run(*get).returncode == 0
    assert " INFO " in _cli_log(cli)
    assert " DEBUG " not in _cli_log(cli)

    assert cli.run(*get, CTRADER_ADMIN_LOG_LEVEL="DEBUG").returncode == 0
    assert " DEBUG " in _cli_log(cli)

    size = len(_cli_log(cli))
    assert cli.run("--log-level", "warning", *get, CTRADER_ADMIN_LOG_LEVEL="debug").returncode == 0
    assert len(_cli_log(cli)) == size  # nothing at warning or above happened


def test_a_wrong_log_level_is_said_in_words(cli: Cli) -> None:
    get = ("referral", "get", "--user", str(EMILY))
    done = cli.run(*get, CTRADER_ADMIN_LOG_LEVEL="loud")
    assert done.returncode == 0
    assert done.stderr == (
        "ctrader-admin: CTRADER_ADMIN_LOG_LEVEL='loud' is not a log level "
        "(debug, info, warning, error); logging at info.\n"
    )
    refused = cli.run(*get, "--log-level", "loud")
    assert refused.returncode == 2
    assert "invalid choice: 'loud'" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_failures_are_logged_too(cli: Cli) -> None:
    done = cli.run("referral", "get", "--user", "1", "--profile", "nope")
    assert done.returncode == 2
    assert "WARNING ctrader_admin.cli_commands.runner: ctrader-admin referral get: " in _cli_log(
        cli
    )


@pytest.mark.parametrize("password", ["password", "manager", "is wrong."])
def test_a_wrong_password_typed_at_the_prompt_is_refused_in_the_apps_words(
    cli: Cli, password: str
) -> None:
    """On a terminal, without a token, the command asks for the manager's password. A wrong one
    that is an ordinary word leaves the app's sentence whole."""
    env = cli.environ(CTRADER_ADMIN_TOKEN="")
    argv = cli.command("referral", "get", "--user", str(EMILY))
    pid, terminal = pty.fork()
    if pid == 0:  # the child (of a process with threads: nothing but exec)
        os.chdir(cli.home)
        os.execve(sys.executable, argv, env)  # noqa: S606 - the CLI, as an operator starts it
    seen = b""
    try:
        while b"Password of manager" not in seen:
            seen += _read(terminal)
        os.write(terminal, password.encode() + b"\n")
        with contextlib.suppress(OSError):  # EIO once the child has closed the terminal
            while chunk := _read(terminal):
                seen += chunk
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        raise
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(terminal)
    text = seen.decode("utf-8", "replace")

    assert os.waitstatus_to_exitcode(status) == 2
    wanted = "ctrader-admin referral get: Log-in failed: The manager login or password is wrong."
    assert wanted in text
    assert "***" not in text


def _read(terminal: int) -> bytes:
    """What the terminal has; a command that says nothing for a minute is a failure, not a hang."""
    ready, _, _ = select.select([terminal], [], [], 60)
    assert ready, "the command printed nothing for 60 s"
    return os.read(terminal, 1024)
