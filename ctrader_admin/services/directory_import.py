"""Import a CRM export (CSV) into the local directory of the current profile.

Two steps, so the operator sees what will happen before anything is written: ``preview_file``
reads and checks the file (nothing written), ``import_preview`` writes the rows that passed.
Only the local directory changes; nothing is sent to the backend and nothing is journaled.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from ctrader_admin.services.errors import ServiceError
from ctrader_admin.services.session import Session
from ctrader_admin.store.directory import ImportCounts
from ctrader_admin.store.directory_csv import ImportPreview, preview_csv

# A CRM export of a large broker is a few MB; far beyond this is the wrong file.
MAX_FILE_BYTES = 200 * 1024 * 1024


class ImportFileError(ServiceError):
    """The file cannot be read as a CSV export; the message says why and what to do."""


@dataclass(frozen=True)
class FilePreview:
    path: Path
    profile_id: str
    preview: ImportPreview

    @property
    def importable(self) -> bool:
        return bool(self.preview.rows_ok)


def read_export(path: Path | str) -> str:
    """The text of a CSV export: UTF-8 (a BOM is fine), or ImportFileError in words."""
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ImportFileError(
                f"{file.name} is {size / 1e6:,.0f} MB: too big for a CRM export "
                f"(at most {MAX_FILE_BYTES / 1e6:,.0f} MB). Is it the right file?"
            )
        data = file.read_bytes()
    except IsADirectoryError:
        raise ImportFileError(f"{file} is a folder, not a CSV file.") from None
    except FileNotFoundError:
        raise ImportFileError(f"{file} does not exist (any more).") from None
    except PermissionError:
        raise ImportFileError(f"{file} cannot be read: permission denied.") from None
    except OSError as exc:
        raise ImportFileError(f"{file} cannot be read: {exc.strerror or exc}.") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ImportFileError(
            f"{file.name} is not UTF-8 text (first bad byte on line {line}). Save it again as "
            "“CSV UTF-8” from the spreadsheet or CRM, then choose it again."
        ) from None


def preview_text(
    session: Session, text: str, *, default_environment: str | None = None
) -> ImportPreview:
    """Check an export against the current profile; nothing is written."""
    return preview_csv(
        text,
        default_environment=default_environment,
        known_environments=session.profile.environments,
    )


async def preview_file(
    session: Session, path: Path | str, *, default_environment: str | None = None
) -> FilePreview:
    """Read and check the file on a worker thread; nothing is written."""
    profile_id = session.profile.id
    environments = list(session.profile.environments)

    def work() -> ImportPreview:
        text = read_export(path)
        return preview_csv(
            text, default_environment=default_environment, known_environments=environments
        )

    preview = await asyncio.to_thread(work)
    return FilePreview(Path(path), profile_id, preview)


async def import_preview(session: Session, checked: FilePreview) -> ImportCounts:
    """Write the rows that passed the preview into the current profile's directory."""
    if checked.profile_id != session.profile.id:
        raise ImportFileError(
            "The connection changed since the file was checked; choose the file again."
        )
    rows = list(checked.preview.rows_ok)
    if not rows:
        raise ImportFileError("The file has no row that can be imported.")
    return await asyncio.to_thread(session.directory.import_rows, session.profile.id, rows)
