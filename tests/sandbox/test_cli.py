"""`ctrader-admin sandbox`: the help text shows the training credentials; the command serves."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sandbox_helpers import MAIN_TOKEN, SHOWCASE_LIVE, Api

from ctrader_admin.sandbox import TRAINING_MANAGERS, cli
from ctrader_admin.sandbox.faults import SCRIPTED_FAULTS

_ROOT = Path(__file__).resolve().parents[2]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ctrader-admin")
    cli.add_parser(parser.add_subparsers(dest="command"))
    return parser


def test_help_shows_the_training_credentials(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _parser().parse_args(["sandbox", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for manager in TRAINING_MANAGERS:
        assert str(manager.login) in text
        assert manager.password in text
        assert manager.token in text
    assert "full rights on sandbox_main and sandbox_eu" in text
    assert "sandbox_main only" in text
    assert 'password is "trader-<login>"' in text
    assert "sandbox_crm" in text
    for name in ("sandbox_main", "sandbox_eu", "sandbox_offlimits", "demo", "live"):
        assert name in text
    curls = [line for line in text.splitlines() if "curl" in line]
    assert len(curls) == 3
    assert "/v2/webserv/traders/5200001?token=" in curls[0]
    assert "-X PUT" in curls[1]
    assert "/cid/oauth2/ctid/referral?token=" in curls[1]
    assert "Authorization: Bearer" in curls[2]
    assert "/v1/social/invitedUsers?createdFrom=0" in text
    # The starting cases (test_attribution_cases checks them against the seed).
    assert "partner case: Emily Carter, emily.carter@example.com, user 1000001" in text
    assert "client case: Daniel Okafor, daniel.okafor@example.com, user 1000004" in text
    assert "his live account 5200005 says AFF-EU-318" in text
    for column in ("partnerCode", "referredByPartnerCode", "referredAt"):
        assert column in text
    assert "POST /_sandbox/invitations" in text
    # Every scripted fault is named, "ignored" (no read-back) with what it is for.
    script_help = text[text.index("/_sandbox/faults/script") :]
    for fault in SCRIPTED_FAULTS:
        assert fault in script_help
    assert "ignored (answered as a success, nothing changed" in " ".join(script_help.split())


def test_options_reach_the_config(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}

    def fake_run(sandbox: object, **kwargs: object) -> None:
        from ctrader_admin.sandbox import Sandbox

        assert isinstance(sandbox, Sandbox)
        seen.update(kwargs, config=sandbox.config)

    monkeypatch.setattr("ctrader_admin.sandbox.server.run", fake_run)
    args = _parser().parse_args(
        [
            "sandbox", "--port", "0", "--users", "5", "--seed", "3", "--latency-ms", "2",
            "--jitter-ms", "1", "--write-cap", "0", "--dialect", "variant", "--error-rate", "0.1",
            "--drop-rate", "0.2", "--stall-before-rate", "0.05", "--stall-after-rate", "0.06",
            "--stall-seconds", "4", "--quiet",
        ]
    )  # fmt: skip
    assert cli.main(args) == 0
    config = seen["config"]
    from ctrader_admin.sandbox import SandboxConfig

    assert isinstance(config, SandboxConfig)
    assert (config.users, config.seed, config.latency_ms, config.jitter_ms) == (5, 3, 2, 1)
    assert config.write_cap_per_hour is None
    assert config.dialect.error_shape == "flat"
    faults = config.faults
    assert (faults.error_rate, faults.drop_rate, faults.stall_seconds) == (0.1, 0.2, 4)
    assert (faults.stall_before_rate, faults.stall_after_rate) == (0.05, 0.06)
    assert (seen["host"], seen["port"], seen["tls"]) == ("127.0.0.1", 0, None)


@pytest.mark.parametrize("argv", [["--error-rate", "1.5"], ["--users", "-1"], ["--dialect", "x"]])
def test_bad_options_are_refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["sandbox", *argv])
    capsys.readouterr()


def test_a_non_loopback_host_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    args = _parser().parse_args(["sandbox", "--host", "0.0.0.0"])  # noqa: S104
    assert cli.main(args) == 2
    assert "loopback" in capsys.readouterr().err


def test_the_command_serves_until_interrupted(tmp_path: Path) -> None:
    script = (
        "import argparse, sys\n"
        "from ctrader_admin.sandbox import cli\n"
        "parser = argparse.ArgumentParser()\n"
        "cli.add_parser(parser.add_subparsers(dest='command'))\n"
        "sys.exit(cli.main(parser.parse_args(sys.argv[1:])))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(_ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", script, "sandbox", "--port", "0", "--users", "10", "--tls",
         "--cert-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert banner.startswith("ctrader-admin sandbox listening on https://127.0.0.1:")
        url = banner.split()[4]
        ca = tmp_path / "sandbox-ca.pem"
        assert f"(CA bundle: {ca})" in banner
        import ssl

        verify = ssl.create_default_context(cafile=str(ca))
        with httpx.Client(base_url=url, verify=verify) as client:
            response = client.get(
                f"/v2/webserv/traders/{SHOWCASE_LIVE}", params={"token": MAIN_TOKEN}
            )
            assert response.status_code == 200
        request_line = process.stdout.readline()
        assert f"GET /v2/webserv/traders/{SHOWCASE_LIVE}?token=*** -> 200" in request_line
        assert MAIN_TOKEN not in request_line
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
        assert process.stderr is not None
        assert "Traceback" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_no_invite_turns_v1_off_whatever_the_dialect(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}
    monkeypatch.setattr(
        "ctrader_admin.sandbox.server.run",
        lambda sandbox, **kwargs: seen.update(config=sandbox.config),
    )
    args = _parser().parse_args(["sandbox", "--users", "5", "--dialect", "toplevel", "--no-invite"])
    assert cli.main(args) == 0
    from ctrader_admin.sandbox import SandboxConfig

    config = seen["config"]
    assert isinstance(config, SandboxConfig)
    assert config.dialect.error_shape == "toplevel"
    assert config.dialect.invite_enabled is False


def test_invite_every_adds_invitations_while_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    counts: list[int] = []

    def fake_run(sandbox: Any, **kwargs: object) -> None:
        # Serve until the periodic thread has added two rows (bounded: never hangs the suite).
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            rows = (
                Api(sandbox)
                .get(
                    "/v1/social/invitedUsers",
                    params={"limit": 1000},
                    headers={"Authorization": f"Bearer {MAIN_TOKEN}"},
                )
                .json()["invitedUsers"]
            )
            counts.append(len(rows))
            if counts[-1] >= counts[0] + 2:
                return
            time.sleep(0.02)

    monkeypatch.setattr("ctrader_admin.sandbox.server.run", fake_run)
    args = _parser().parse_args(["sandbox", "--users", "60", "--invite-every", "0.01"])
    assert cli.main(args) == 0
    assert counts[-1] >= counts[0] + 2
