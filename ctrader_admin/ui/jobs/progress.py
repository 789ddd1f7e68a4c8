"""A running job's progress: done/total, ETA, the write budget, the outcomes so far, and Stop."""

from __future__ import annotations

from PySide6.QtCore import Qt
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
        # It takes the width the bar and the button leave: a new text (every 100 ms) then never
        # makes the whole tab lay itself out again (~10 ms with a big plan on screen).
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.stop_button = QPushButton("Cancel")
        self.stop_button.setObjectName("jobStop")
        self.stop_button.setToolTip(
            "Stop the job: writes in flight finish, no new one starts; it can be resumed"
        )
        layout.addWidget(self.bar)
        layout.addWidget(self.label, 1)
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
