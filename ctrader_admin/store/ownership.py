"""Which journal sessions are alive, told by the operating system rather than guessed.

Each journal session (one per ``Journal`` object, so one per process in the app and the CLI)
holds an exclusive lock on its own small file, ``<folder>/<session>.lock``, for its whole life.
The OS releases that lock when the process ends in any way (exit, crash, SIGKILL, power cut), so
"the lock can be taken" means exactly "the owner is gone", with no timestamps and no pid reuse.

- POSIX: ``flock``, not ``fcntl``/``lockf`` locks: a flock belongs to the open file, so another
  descriptor of the same file being closed (a probe by this very process) does not drop it, and
  two sessions in one process exclude each other like two processes do.
- Windows: ``msvcrt.locking`` on the file's first byte, released when the handle closes.

A file whose lock is free is removed by whoever notices (its owner is gone). The creator of a
lock file checks, once it holds the lock, that the path still names the file it locked, so a
sweep racing with its creation cannot leave a live session without a file.

An in-memory database is seen by one process only: there, sessions are tracked in memory.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

from ctrader_admin.store.paths import ensure_private_dir

LOCK_SUFFIX = ".lock"
_SESSION_NAME = re.compile(r"[0-9a-f]{32}")  # uuid4().hex

# Sessions of in-memory databases (no folder): alive while their owner is not released.
_live_in_memory: set[str] = set()
_live_lock = threading.Lock()


def _try_lock(fd: int, *, wait: bool) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_LOCK if wait else msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (made if missing) for a short read-modify-write that
    several processes share. The OS drops it if the process dies while holding it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if not _try_lock(fd, wait=True):  # Windows gives up after ~10 s
            raise OSError(f"{path} stayed locked by another process")
        yield
    finally:
        os.close(fd)  # closing drops the lock


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = path.stat()
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (on_disk.st_dev, on_disk.st_ino) == (held.st_dev, held.st_ino)


class SessionOwner:
    """This process's claim on one session: held from ``claim`` to ``release`` (or death)."""

    def __init__(self, folder: Path | None, session: str, fd: int | None) -> None:
        self._folder = folder
        self.session = session
        self._fd = fd

    @classmethod
    def claim(cls, folder: Path | None) -> SessionOwner:
        """A new session, locked. ``folder`` None: an in-memory database's session."""
        session = uuid.uuid4().hex
        if folder is None:
            with _live_lock:
                _live_in_memory.add(session)
            return cls(None, session, None)
        ensure_private_dir(folder)
        path = folder / f"{session}{LOCK_SUFFIX}"
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            # Waiting is brief: only a sweep that found the file before we locked it holds it,
            # and it removes the file and lets go at once; then we start over on a new file.
            # (Windows' blocking lock gives up after ~10 s: then we also start over.)
            if _try_lock(fd, wait=True) and _same_file(fd, path):
                return cls(folder, session, fd)
            os.close(fd)

    def release(self) -> None:
        """Let go of the session (the process is done with it); removes its file."""
        if self._folder is None:
            with _live_lock:
                _live_in_memory.discard(self.session)
            return
        fd, self._fd = self._fd, None
        if fd is None:
            return
        if sys.platform != "win32":  # Windows cannot remove an open file: closed first there
            with contextlib.suppress(OSError):
                (self._folder / f"{self.session}{LOCK_SUFFIX}").unlink()
        os.close(fd)
        if sys.platform == "win32":
            with contextlib.suppress(OSError):
                (self._folder / f"{self.session}{LOCK_SUFFIX}").unlink()

    def is_gone(self, session: str) -> bool:
        """True when ``session``'s owner has ended (its lock was free, or it never had a lock
        file: intents written by versions before session locks). Removes its lock file."""
        if session == self.session:
            return False
        if self._folder is None:
            with _live_lock:
                return session not in _live_in_memory
        if not _SESSION_NAME.fullmatch(session):
            return True  # not one of ours (a name from the database never becomes a path)
        path = self._folder / f"{session}{LOCK_SUFFIX}"
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            return True
        try:
            if not _try_lock(fd, wait=False):
                return False
            # Removed while we hold the lock: a creator racing with us sees it and starts over.
            if sys.platform != "win32":
                with contextlib.suppress(OSError):
                    path.unlink()
        finally:
            os.close(fd)
        if sys.platform == "win32":
            with contextlib.suppress(OSError):
                path.unlink()
        return True

    def sweep(self) -> int:
        """Remove the lock files of ended sessions; returns how many were removed."""
        if self._folder is None:
            return 0
        removed = 0
        for path in self._folder.glob(f"*{LOCK_SUFFIX}"):
            session = path.name.removesuffix(LOCK_SUFFIX)
            if session != self.session and self.is_gone(session):
                removed += 1
        return removed

    def __del__(self) -> None:
        # An owner dropped without release (a stray Journal): the session ends with it, as it
        # would with the process.
        with contextlib.suppress(Exception):
            self.release()
