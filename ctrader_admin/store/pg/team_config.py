"""Where this workstation finds its team database: ``<config>/team.json`` (no password: that is
in the keyring). Absent file: no team database, the SQLite path as always."""

from __future__ import annotations

import json
from pathlib import Path

from ctrader_admin.store.atomic import write_private_text
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.pg.settings import (
    CONNECT_TIMEOUT_SECONDS,
    DEFAULT_PORT,
    TeamSettings,
    TeamSettingsError,
)

TEAM_FILE_NAME = "team.json"


def team_file(paths: AppPaths) -> Path:
    return paths.config_dir / TEAM_FILE_NAME


def load_team_settings(paths: AppPaths) -> TeamSettings | None:
    path = team_file(paths)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise TeamSettingsError(f"The team settings {path} cannot be read ({exc}).") from None
    try:
        ca_bundle = data.get("ca_bundle")
        return TeamSettings(
            host=str(data["host"]),
            port=int(data.get("port", DEFAULT_PORT)),
            database=str(data["database"]),
            user=str(data["user"]),
            ca_bundle=Path(ca_bundle) if ca_bundle else None,
            tls=bool(data.get("tls", True)),
            connect_timeout=int(data.get("connect_timeout", CONNECT_TIMEOUT_SECONDS)),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise TeamSettingsError(
            f"The team settings {path} are incomplete or damaged ({exc!r} is wrong or missing); "
            "run `ctrader-admin team connect` again."
        ) from None


def save_team_settings(paths: AppPaths, settings: TeamSettings) -> None:
    paths.ensure_config_dir()
    data = {
        "host": settings.host,
        "port": settings.port,
        "database": settings.database,
        "user": settings.user,
        "ca_bundle": str(settings.ca_bundle) if settings.ca_bundle else None,
        "tls": settings.tls,
        "connect_timeout": settings.connect_timeout,
    }
    write_private_text(team_file(paths), json.dumps(data, indent=2) + "\n")
