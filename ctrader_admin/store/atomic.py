"""Write a private file so that readers see either the old or the new content, never half."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

PRIVATE_FILE_MODE = 0o600


def write_private_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) atomically; the file is readable by its owner only."""
    write_private_chunks(path, (text,))


def write_private_chunks(path: Path, chunks: Iterable[str]) -> None:
    """``write_private_text`` of the concatenated ``chunks``, written as they come: a large file
    (a bulk plan) never has to exist as one string in memory."""
    # The temporary file must live in the same folder: os.replace is atomic only within a volume.
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, PRIVATE_FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
