"""The CLI as an operator runs it: ``python -m ctrader_admin …`` in a subprocess, with its own
CTRADER_ADMIN_HOME, a profile pointing at a sandbox the test serves on loopback, a manager token
in CTRADER_ADMIN_TOKEN, and no keyring (the null backend: nothing is stored)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ctrader_admin.sandbox import TRAINING_MANAGERS, Sandbox, SandboxConfig
from ctrader_admin.sandbox.server import serve_in_thread
from ctrader_admin.services.session import Session
from ctrader_admin.store.checkpoints import CheckpointStore
from ctrader_admin.store.database import Database
from ctrader_admin.store.journal import Journal
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.profiles import Profile, ProfileStore
from ctrader_admin.wiring import SandboxHost, build_backoffice

T = TypeVar("T")
MANAGER = TRAINING_MANAGERS[0]
PROFILE = "loop"


@dataclass
class Cli:
    home: Path
    sandbox: Sandbox
    url: str

    @property
    def paths(self) -> AppPaths:
        return AppPaths.under(self.home)

    def environ(self, **extra: str) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("CTRADER_ADMIN", "PYTHON_KEYRING"))
        }
        env.update(
            CTRADER_ADMIN_HOME=str(self.home),
            CTRADER_ADMIN_TOKEN=MANAGER.token,
            PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "ctrader_admin", *args]

    def run(
        self, *args: str, input_text: str | None = None, **extra_env: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args),
            env=self.environ(**extra_env),
            capture_output=True,
            text=True,
            input=input_text,
            timeout=120,
            check=False,
            cwd=self.home,
        )

    def json(self, *args: str, **extra_env: str) -> tuple[int, dict[str, Any]]:
        done = self.run(*args, "--json", **extra_env)
        return done.returncode, json.loads(done.stdout)

    def spawn(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(*args),
            env=self.environ(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self.home,
        )

    def write(self, name: str, text: str) -> Path:
        path = self.home / name
        path.write_text(text, encoding="utf-8")
        return path

    # In-process access to the same stores, for setting up and checking.

    def store(self) -> tuple[Database, CheckpointStore, Journal]:
        database = Database.open(self.paths)
        return database, CheckpointStore(database), Journal(database)

    def in_session(self, scenario: Callable[[Session], Awaitable[T]]) -> T:
        async def main() -> T:
            host = SandboxHost(self.paths)
            office = build_backoffice(self.paths, host)
            session = await office.open(PROFILE)
            session.client.token = MANAGER.token
            try:
                return await scenario(session)
            finally:
                await office.shutdown()
                host.close()

        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, main()).result()


def add_profile(home: Path, url: str, **changes: Any) -> None:
    fields: dict[str, Any] = {
        "id": PROFILE,
        "name": "Loopback sandbox",
        "base_url": url,
        "broker_names": list(MANAGER.broker_names),
        "broker_crm_name": "sandbox_crm",
        "manager_login": MANAGER.login,
        "write_budget_per_hour": 100_000,
        "timeout_seconds": 5.0,
    }
    fields.update(changes)
    store = ProfileStore(AppPaths.under(home))
    store.add(Profile.model_validate(fields))
    store.set_last_profile(str(fields["id"]))


@contextmanager
def serve_cli(tmp_path: Path, *, users: int = 60) -> Iterator[Cli]:
    """A fresh sandbox (no write cap) on loopback and an app home with a profile for it."""
    sandbox = Sandbox(SandboxConfig(users=users, write_cap_per_hour=None))
    home = tmp_path / "home"
    with serve_in_thread(sandbox) as url:
        add_profile(home, url)
        yield Cli(home, sandbox, url)
    sandbox.close()
