"""Which batch to revert, and optionally which of its rows."""

from __future__ import annotations

from PySide6.QtWidgets import QDialogButtonBox, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from ctrader_admin.ui.dialogs import FittedDialog
from ctrader_admin.ui.widgets import hint


class RevertDialog(FittedDialog):
    """Which batch to revert, and optionally which of its rows."""

    def __init__(self, parent: QWidget | None, *, batch: str = "", rows: str = "") -> None:
        super().__init__(parent, min_width=440)
        self.setObjectName("revertBatchDialog")
        self.setWindowTitle("Revert a batch")
        layout = QVBoxLayout(self)
        layout.addWidget(
            hint(
                "Plans the writes that put back the values the batch replaced. Nothing is sent "
                "until you apply the plan; a target changed since the batch is not overwritten."
            )
        )
        self.batch = QLineEdit(batch)
        self.batch.setObjectName("revertBatchId")
        self.batch.setPlaceholderText("Batch id (the job id), or its first characters")
        self.rows = QLineEdit(rows)
        self.rows.setObjectName("revertRows")
        self.rows.setPlaceholderText("All rows — or e.g. 1,3,5-9 or user:1000001")
        for label, field in (("Batch:", self.batch), ("Rows:", self.rows)):
            line = QHBoxLayout()
            caption = QLabel(label)
            caption.setMinimumWidth(50)
            line.addWidget(caption)
            line.addWidget(field, 1)
            layout.addLayout(line)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Plan the revert")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.batch.textChanged.connect(self._refresh)
        self._refresh()
        (self.rows if batch else self.batch).setFocus()

    def _refresh(self) -> None:
        ok = bool(self.batch.text().strip())
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)
