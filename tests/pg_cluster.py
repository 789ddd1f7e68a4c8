"""A throwaway PostgreSQL server for the tests that need one (team mode, issue 13).

One cluster per test session, in its own temporary folder, on a free loopback TCP port, with
trust authentication for loopback only; stopped and removed at the end. ``initdb`` refuses to run
as root, so as root every server command runs as the ``postgres`` system user (``runuser``).

Tests that need it are skipped, with the reason, only when no PostgreSQL server binaries exist on
the machine; ``.ci/run`` installs them, so in CI they always run.

The server also speaks TLS with a certificate for 127.0.0.1 from a throwaway CA (``ca_bundle``),
and members of ``PASSWORD_GROUP`` must log in with a password (SCRAM), so the tests can prove
certificate checks and the keyring's password end to end.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ctrader_admin.sandbox.tls import make_self_signed

_SKIP_REASON = (
    "PostgreSQL server binaries (initdb, pg_ctl) are not installed here; "
    "`apt-get install postgresql` (.ci/run does it) to run the team-database tests"
)
_HOST = "127.0.0.1"
PASSWORD_GROUP = "ctrader_password_login"


def bin_dir() -> Path | None:
    """Debian keeps the server binaries off PATH, per major version; the newest wins."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1].parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((_HOST, 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class PgServer:
    host: str
    port: int
    superuser: str
    ca_bundle: Path

    def conninfo(self, dbname: str = "postgres", user: str | None = None) -> str:
        return f"host={self.host} port={self.port} dbname={dbname} user={user or self.superuser}"

    def create_database(self) -> str:
        """A new empty database (the tests of one module share none of their data)."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name


class Cluster:
    """``durable``: fsync and synchronous commits on, as a real server (benchmarks); the tests
    turn them off (a throwaway cluster needs no crash safety)."""

    def __init__(self, bin_dir: Path, *, durable: bool = False) -> None:
        self._durable = durable
        self._bin = bin_dir
        self._as_postgres = os.geteuid() == 0
        # Not under pytest's tmp folder: as root that one is private to root, and the server
        # runs as postgres. Unique per run, so parallel runs never share a cluster.
        self.root = Path(tempfile.mkdtemp(prefix="ctrader-admin-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        if self._as_postgres:
            self.root.chmod(0o711)  # postgres must reach data/, nothing more
            self.data.mkdir(mode=0o700)
            self.log.touch()
            entry = pwd.getpwnam("postgres")
            for path in (self.data, self.log):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self.superuser = "postgres"
        self.tls = make_self_signed(self.root / "tls")
        if self._as_postgres:
            entry = pwd.getpwnam("postgres")
            (self.root / "tls").chmod(0o755)
            for path in (self.tls.cert, self.tls.key):
                os.chown(path, entry.pw_uid, entry.pw_gid)

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self._bin / tool), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)

    def _check(self, result: subprocess.CompletedProcess[str], what: str) -> None:
        if result.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(f"{what} failed: {result.stdout}{result.stderr}\n{log}")

    def init(self) -> None:
        result = self._run(
            "initdb",
            "-D", str(self.data),
            "-U", self.superuser,
            "--auth-host=trust",
            "--auth-local=trust",
            "--encoding=UTF8",
            "--no-sync",
            "--no-instructions",
        )  # fmt: skip
        self._check(result, "initdb")
        hba = self.data / "pg_hba.conf"
        lines = hba.read_text()
        # First match wins: this group's members need their password, everyone else is trusted.
        hba.write_text(f"host all +{PASSWORD_GROUP} {_HOST}/32 scram-sha-256\n{lines}")

    def start(self, port: int | None = None) -> int:
        """Start the server on ``port`` (again, after ``halt``), else on a free port."""
        # A port found free may be taken before the server binds it: then try another.
        last: subprocess.CompletedProcess[str] | None = None
        for _ in range(1 if port else 5):
            port = port or _free_port()
            options = (
                f"-c listen_addresses={_HOST} -c port={port} -c unix_socket_directories='' "
                "-c max_connections=200 -c ssl=on "
                f"-c ssl_cert_file={self.tls.cert} -c ssl_key_file={self.tls.key}"
            )
            if not self._durable:
                options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            # -w: pg_ctl waits until the server accepts connections (its own readiness probe).
            last = self._run(
                "pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data),
                "-l", str(self.log), "-o", options,
            )  # fmt: skip
            if last.returncode == 0:
                ready = self._run("pg_isready", "-h", _HOST, "-p", str(port), "-t", "30")
                self._check(ready, "pg_isready")
                return port
        assert last is not None
        self._check(last, "pg_ctl start")
        raise AssertionError("unreachable")

    def halt(self) -> None:
        """Stop the server as an outage would (its clients' connections end), keeping its data:
        ``start(port)`` brings it back."""
        self._check(
            self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.data)), "pg_ctl stop"
        )

    def stop(self) -> None:
        self._run("pg_ctl", "stop", "-w", "-m", "immediate", "-D", str(self.data))
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def _running_cluster() -> Iterator[tuple[Cluster, PgServer]]:
    """A new cluster, started; stopped and removed after. Skips where none is installed."""
    found = bin_dir()
    if found is None:
        pytest.skip(_SKIP_REASON)
    cluster = Cluster(found)
    try:
        cluster.init()
        port = cluster.start()
        yield cluster, PgServer(_HOST, port, cluster.superuser, cluster.tls.ca)
    finally:
        with contextlib.suppress(Exception):
            cluster.stop()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The session's PostgreSQL server; skips (with the reason) where none is installed."""
    with _running_cluster() as (_, server):
        yield server


@dataclass(frozen=True)
class Outage:
    """A PostgreSQL server of one test's own, which the test may stop and start again."""

    server: PgServer
    cluster: Cluster

    def halt(self) -> None:
        self.cluster.halt()

    def resume(self) -> None:
        self.cluster.start(self.server.port)


@pytest.fixture
def pg_outage() -> Iterator[Outage]:
    """A throwaway server for one test (a few seconds to make): stop it to play an outage."""
    with _running_cluster() as (cluster, server):
        yield Outage(server, cluster)


@pytest.fixture
def pg_database(pg_server: PgServer) -> str:
    """A fresh, empty database on the session's server; its name."""
    return pg_server.create_database()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port on 127.0.0.1 that takes connections and never answers: what a team server that
    drops packets (rather than refusing them) looks like to the client. The kernel completes
    the handshake into the listening queue; nothing ever reads or writes."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind((_HOST, 0))
        listener.listen(64)
        yield int(listener.getsockname()[1])
