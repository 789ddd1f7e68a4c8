"""Reading a written PDF back as a reader would (imported as ``pdf_reading``: tests/ is on
sys.path), and the secrets no exported file may hold."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

from pypdf import PdfReader

from ctrader_admin.sandbox.training import TrainingManager


def pdf_text(path: Path) -> str:
    """The text of every page, as a reader would copy it (ligatures and tabs undone)."""
    text = "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text))


def manager_secrets(manager: TrainingManager) -> list[str]:
    """The manager's token, password and the password's MD5 (what the API's log-in sends)."""
    md5 = hashlib.md5(manager.password.encode()).hexdigest()
    return [manager.token, manager.password, md5]
