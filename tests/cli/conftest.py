"""Fixtures for the CLI tests: a fresh sandbox on loopback and an app home with a profile
for it (see cli_env.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_env import Cli, add_profile

from ctrader_admin.sandbox import Sandbox, SandboxConfig
from ctrader_admin.sandbox.server import serve_in_thread


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    sandbox = Sandbox(SandboxConfig(users=60, write_cap_per_hour=None))
    home = tmp_path / "home"
    with serve_in_thread(sandbox) as url:
        add_profile(home, url)
        yield Cli(home, sandbox, url)
    sandbox.close()
