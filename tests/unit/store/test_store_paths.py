from __future__ import annotations

import stat
from pathlib import Path

from ctrader_admin.store.paths import HOME_ENV_VAR, AppPaths, ensure_private_dir


def test_home_env_var_puts_everything_under_one_folder(app_home: Path) -> None:
    paths = AppPaths.from_environment()
    for folder in (paths.config_dir, paths.data_dir, paths.log_dir):
        assert folder.is_relative_to(app_home)
    assert paths.settings_file.parent == paths.config_dir
    assert paths.database_file.parent == paths.data_dir


def test_platform_folders_without_env_var(tmp_path: Path) -> None:
    paths = AppPaths.from_environment({})
    for folder in (paths.config_dir, paths.data_dir, paths.log_dir):
        assert "ctrader-admin" in str(folder)


def test_blank_env_var_is_ignored() -> None:
    assert AppPaths.from_environment({HOME_ENV_VAR: "  "}) == AppPaths.from_environment({})


def test_nothing_is_created_until_asked(app_home: Path) -> None:
    paths = AppPaths.from_environment()
    _ = paths.settings_file, paths.database_file
    assert not app_home.exists()


def test_directories_are_created_owner_only(app_home: Path) -> None:
    paths = AppPaths.from_environment()
    for created in (paths.ensure_config_dir(), paths.ensure_data_dir(), paths.ensure_log_dir()):
        assert created.is_dir()
        assert stat.S_IMODE(created.stat().st_mode) == 0o700


def test_ensure_private_dir_is_idempotent(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b"
    assert ensure_private_dir(target) == target
    assert ensure_private_dir(target) == target
