"""The work order for cTrader Admin, offered where the API cannot do what was asked (moving an
account that is already linked to another cTID, services/work_orders.py): the reason, the
ticket and the text, to copy into a request or save as a file. Nothing is sent from here."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ctrader_admin.services.work_orders import AlreadyLinked, WorkOrder
from ctrader_admin.store.atomic import write_private_text
from ctrader_admin.ui import theme
from ctrader_admin.ui.dialogs import FittedDialog, choose_save_path
from ctrader_admin.ui.notify import Level, MessageBar
from ctrader_admin.ui.slots import async_slot
from ctrader_admin.ui.widgets import form, hint

TEXT_FILTER = "Text files (*.txt);;All files (*)"


class WorkOrderDialog(FittedDialog):
    def __init__(self, parent: QWidget | None, refused: AlreadyLinked) -> None:
        super().__init__(parent, min_width=720)
        self.setObjectName("workOrderDialog")
        self.setWindowTitle("Work order for cTrader Admin")
        self._order = refused.order
        layout = QVBoxLayout(self)
        self.why = hint(refused.message)
        self.why.setObjectName("workOrderWhy")
        theme.set_tone(self.why, theme.Tone.WARNING)
        layout.addWidget(self.why)
        fields = form()
        self.reason = QLineEdit(self._order.reason)
        self.reason.setObjectName("workOrderReason")
        self.reason.setPlaceholderText("Why the account must move (goes into the work order)")
        self.ticket = QLineEdit(self._order.ticket)
        self.ticket.setObjectName("workOrderTicket")
        self.ticket.setPlaceholderText("Support ticket or CRM reference")
        fields.addRow("Reason:", self.reason)
        fields.addRow("Ticket:", self.ticket)
        layout.addLayout(fields)
        self.text = QPlainTextEdit()
        self.text.setObjectName("workOrderText")
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        # The whole order in view: 19 lines and the frame's margins.
        self.text.setMinimumHeight(self.text.fontMetrics().lineSpacing() * 21)
        layout.addWidget(self.text, 1)
        self.bar = MessageBar()
        layout.addWidget(self.bar)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("&Copy")
        self.copy_button.setObjectName("workOrderCopy")
        self.save_button = QPushButton("&Save…")
        self.save_button.setObjectName("workOrderSave")
        for button in (self.copy_button, self.save_button):
            self.buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.reason.textChanged.connect(self._refresh)
        self.ticket.textChanged.connect(self._refresh)
        self.copy_button.clicked.connect(self.copy)
        self.save_button.clicked.connect(self._save)
        self._refresh()
        self.reason.setFocus()
        self.resize(self._min_width, 1)
        self.fit()

    @property
    def order(self) -> WorkOrder:
        return self._order.with_why(self.reason.text(), self.ticket.text())

    def _refresh(self) -> None:
        self.text.setPlainText(self.order.text())

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.order.text())
        self.bar.show_message(Level.SUCCESS, "The work order is on the clipboard.")

    @async_slot()
    async def _save(self) -> None:
        order = self.order
        path = await choose_save_path(self, "Save the work order", order.file_name, TEXT_FILTER)
        if path is not None:
            await self.save_to(Path(path))

    async def save_to(self, path: Path) -> None:
        try:
            await asyncio.to_thread(write_private_text, path, self.order.text())
        except OSError as exc:
            self.bar.show_message(Level.ERROR, f"Cannot write {path}: {exc.strerror or exc}.")
            return
        self.bar.show_message(Level.SUCCESS, f"Work order saved to {path.name}.")
