"""Fixtures for the CLI tests: a fresh sandbox on loopback and an app home with a profile
for it (see cli_env.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_env import Cli, serve_cli


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    with serve_cli(tmp_path) as served:
        yield served
