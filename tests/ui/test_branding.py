"""The app's branding resources (app.py): a missing one is logged and the app runs on without
it, except in the smoke test (strict), which exists to catch exactly that in a built artefact."""

from __future__ import annotations

import logging

import pytest
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from ctrader_admin import app as app_module
from ctrader_admin import resources


def _missing() -> dict[int, object]:
    raise resources.ResourceMissingError("ctrader-admin resource missing: icons/x.png")


@pytest.fixture
def no_icon(qapp: QApplication) -> None:
    QApplication.setWindowIcon(QIcon())


def test_a_missing_icon_is_logged_and_the_app_runs_on_without_it(
    no_icon: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(resources, "icon_files", _missing)
    with caplog.at_level(logging.WARNING):
        app_module.set_application_icon()
    assert QApplication.windowIcon().isNull()
    assert "Running without the application icon: ctrader-admin resource missing" in caplog.text


def test_the_smoke_test_fails_on_a_missing_icon(
    no_icon: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resources, "icon_files", _missing)
    with pytest.raises(resources.ResourceMissingError, match=r"icons/x\.png"):
        app_module.set_application_icon(strict=True)


def test_the_icon_carries_every_rendering(no_icon: None) -> None:
    app_module.set_application_icon(strict=True)
    assert len(QApplication.windowIcon().availableSizes()) == len(resources.ICON_SIZES)
