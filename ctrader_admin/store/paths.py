"""Where the app keeps its files: platform folders, or one folder named by CTRADER_ADMIN_HOME."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

import platformdirs

from ctrader_admin import APP_NAME

HOME_ENV_VAR = "CTRADER_ADMIN_HOME"
SETTINGS_FILE_NAME = "settings.json"
DATABASE_FILE_NAME = "ctrader-admin.sqlite3"
PRIVATE_DIR_MODE = 0o700


class AppPaths(NamedTuple):
    """The three folders the app writes to. Nothing is created until ``ensure_*`` is called.
    (A NamedTuple: the first window imports no dataclasses, benchmarks/startup.py.)"""

    config_dir: Path
    data_dir: Path
    log_dir: Path

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> AppPaths:
        """``CTRADER_ADMIN_HOME`` when set (tests, portable use), else the platform's folders."""
        env = os.environ if environ is None else environ
        home = env.get(HOME_ENV_VAR, "").strip()
        if home:
            return cls.under(Path(home).expanduser())
        return cls(
            # appauthor=False: no extra vendor folder on Windows.
            config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
            data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
            log_dir=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
        )

    @classmethod
    def under(cls, home: Path) -> AppPaths:
        """Everything below one folder."""
        return cls(config_dir=home / "config", data_dir=home / "data", log_dir=home / "logs")

    @property
    def settings_file(self) -> Path:
        return self.config_dir / SETTINGS_FILE_NAME

    @property
    def database_file(self) -> Path:
        return self.data_dir / DATABASE_FILE_NAME

    def ensure_config_dir(self) -> Path:
        return ensure_private_dir(self.config_dir)

    def ensure_data_dir(self) -> Path:
        return ensure_private_dir(self.data_dir)

    def ensure_log_dir(self) -> Path:
        return ensure_private_dir(self.log_dir)


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if needed; the folder itself is readable by its owner only.

    Only the leaf is tightened: the parents may be shared folders such as ``~/.config``.
    """
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
        # mkdir's mode is filtered by the umask; chmod states the intent exactly.
        os.chmod(path, PRIVATE_DIR_MODE)
    return path
