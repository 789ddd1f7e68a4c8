"""The one root of every failure the operator is meant to read (docs/design.md rule 6).

An ``ExpectedError`` is a failure the app anticipates — bad input, a refused write, a backend
answer, a busy or too-new database, a job another process runs — and its ``message`` is a
sentence for the operator: the desktop app shows it in a message bar, the command line prints it
as one stderr line with exit code 2 (a command may choose another code). Anything else is a bug:
the crash dialog, or a traceback in the log. Every layer may raise one (this module imports
nothing), so the UI and the CLI need to know only this class to tell the two apart."""

from __future__ import annotations


class ExpectedError(Exception):
    # A write's failure names the journal entry that records it (None: none does).
    journal_id: int | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
