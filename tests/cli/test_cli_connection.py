"""``ctrader-admin connection test`` as an operator runs it, against a loopback sandbox."""

from __future__ import annotations

from cli_env import MANAGER, Cli


def test_the_server_answers_without_a_password(cli: Cli) -> None:
    done = cli.run("connection", "test")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Loopback sandbox: The server answers.")


def test_the_manager_password_from_the_environment_checks_the_log_in(cli: Cli) -> None:
    code, result = cli.json(
        "connection", "test", "--login", CTRADER_ADMIN_MANAGER_PASSWORD=MANAGER.password
    )
    assert (code, result["ok"], result["headline"]) == (0, True, "Connected and logged in")

    code, result = cli.json(
        "connection", "test", "--login", CTRADER_ADMIN_MANAGER_PASSWORD="not-it"
    )
    assert (code, result["ok"]) == (2, False)
    assert result["headline"] == "Wrong manager login or password"


def test_a_refusing_gateway_is_reported_as_not_whitelisted(cli: Cli) -> None:
    cli.sandbox.config.refuse_as_not_whitelisted = True
    done = cli.run("connection", "test")
    assert done.returncode == 2
    assert "This computer is not whitelisted" in done.stdout
    assert "Traceback" not in done.stderr
