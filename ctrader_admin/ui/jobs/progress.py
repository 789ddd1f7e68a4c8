"""A running job's progress: done/total, ETA, the write budget, the outcomes so far, and Stop."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QSizePolicy, QWidget

from ctrader_admin.services.bulk import Progress
from ctrader_admin.services.job_summary import progress_text


class JobProgressPanel(QWidget):
    """A job's progress: done/total, ETA, the write budget, the outcomes so far, and Stop."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobProgress")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 4)
        self.bar = QProgressBar()
        self.bar.setObjectName("jobProgressBar")
        self.bar.setMinimumWidth(220)
        self.bar.setFormat("%v / %m")
        self.label = QLabel()
        self.label.setObjectName("jobProgressLabel")
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.stop_button = QPushButton("Cancel")
        self.stop_button.setObjectName("jobStop")
        self.stop_button.setToolTip(
            "Stop the job: writes in flight finish, no new one starts; it can be resumed"
        )
        layout.addWidget(self.bar)
        layout.addWidget(_OneLine(self.label), 1)
        layout.addWidget(self.stop_button)
        self.hide()

    def start(self, total: int, what: str) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(0)
        self.label.setText(f"{what}…")
        self.stop_button.setText("Cancel")
        self.stop_button.setEnabled(True)
        self.stop_button.show()
        self.show()

    def show_progress(self, progress: Progress) -> None:
        if self.bar.maximum() != max(progress.total, 1):
            self.bar.setRange(0, max(progress.total, 1))
        self.bar.setValue(progress.done)
        text = progress_text(progress)
        self.label.setText(text)
        self.label.setToolTip(text)  # in full, should the window be too narrow for it

    def ended(self) -> None:
        self.stop_button.hide()


class _OneLine(QWidget):
    """Holds a one-line label out of any layout, in the width the row leaves it.

    A label in a layout asks every layout up to the window to recompute at each new text (Qt
    activates them one by one, and the tab widget then repaints itself whole): ~4 ms of the
    window's thread for each progress report, every 0.2 s of a job. Here a new text repaints
    the label only; the row is laid out again only if the line's height changes (a new font).
    """

    def __init__(self, label: QLabel) -> None:
        super().__init__()
        self._label = label
        label.setParent(self)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(0, self._label.sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def event(self, event: QEvent) -> bool:
        # The label's own request to be laid out again: ours to answer, not the window's.
        if event.type() == QEvent.Type.LayoutRequest:
            if self._label.sizeHint().height() != self.height():
                self.updateGeometry()
            return True
        return super().event(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._label.setGeometry(self.rect())
