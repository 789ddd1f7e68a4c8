"""Start-up of the desktop app against a bare PySide6 window, measured in the same run.

    python benchmarks/startup.py [--runs 5]

Each run is a fresh process (offscreen Qt, a throw-away CTRADER_ADMIN_HOME, the null keyring),
with the package's bytecode compiled first, as in any install.
Times are from the kernel's start time of the process to:
- interactive: the first event-loop turn after the main window's first paint (it is on screen,
  and the loop is free for the user's first click). The same probe, an event filter on the main
  window alone, serves every script: Qt's first zero-timer turn comes *before* the window is
  exposed and painted, so stopping the clock there would leave out the first paint and
  whatever the app runs at that turn;
- ready: the sandbox profile is open and logged in (ours only: the bare window has no work).
From interactive until idle, a 2 ms timer on the Qt loop measures the longest stall while the
back office loads behind the window and settles. RSS is read 1.5 s after ready, the app idle.
The scripts, alternating, all on the same Qt platform with default window flags:
- "bare": QApplication and an empty QMainWindow of the app's size, shown (the issue's baseline);
- "stack": the bare window on qasync, importing after it is shown what the product is built on
  (httpx, pydantic with one model, sqlite3), none of our code: the floor under our RSS;
- "Qt-only screen": our first frame's widgets (menu bar, band, seven tabs, the Lookup form)
  made of Qt alone, with the Qt namespace the desktop's colour scheme is read through: what
  PySide6 itself costs for this screen, the floor under our interactive time;
- "ctrader-admin": the app's own start path (run_gui, after what the ctrader-admin script
  imports).
Medians and (min–max) are shown; ratios are of medians of the same run. The CPU time the process
had used by then (all its threads) is shown too: on a machine others are using, wall times
swing with their load, CPU times much less.
Goals (issue 12): interactive ÷ bare ≤ 1.5×, idle RSS ÷ stack ≤ 1.25×.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

# Time since the process started, shared by both children so they are measured alike.
_PRELUDE = r"""
import json, os, time
def since_start():
    # The kernel's start time of this process in clock ticks since boot, against the boot clock
    # (/proc/stat's btime has whole-second resolution).
    with open("/proc/self/stat") as f:
        ticks = int(f.read().rsplit(")", 1)[1].split()[19])
    return time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
def rss_mb():
    with open("/proc/self/status") as f:
        kb = next(int(l.split()[1]) for l in f if l.startswith("VmRSS"))
    return kb / 1024
marks = {}
def when_painted(window, then):
    # then() at the first loop turn after window's first paint (the whole frame is drawn by then).
    from PySide6.QtCore import QEvent, QObject, QTimer
    class FirstPaint(QObject):
        def eventFilter(self, watched, event):
            if event.type() == QEvent.Type.Paint:
                window.removeEventFilter(self)
                QTimer.singleShot(0, then)
            return False
    marks["_probe"] = probe = FirstPaint(window)
    window.installEventFilter(probe)
def mark_interactive():
    marks["interactive_ms"] = since_start() * 1000
    marks["interactive_cpu_ms"] = time.process_time() * 1000
def measure_until_idle(app, window, then=lambda: None):
    # Interactive at the first turn after window's first paint; then(); idle RSS 1.5 s later.
    from PySide6.QtCore import QTimer
    def shown():
        mark_interactive()
        then()
        QTimer.singleShot(1500, lambda: report_and_quit(app))
    when_painted(window, shown)
def report_and_quit(app):
    marks.pop("_probe", None)
    marks["rss_mb"] = rss_mb()
    print("RESULT " + json.dumps(marks), flush=True)
    app.quit()
"""

BARE = (
    _PRELUDE
    + r"""
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(["bare"])
window = QMainWindow()
window.resize(1180, 760)
window.show()
measure_until_idle(app, window)
app.exec()
"""
)

# The same window on an asyncio loop (qasync, as ours), importing after it is shown what the
# product is built on (httpx without its optional CLI, as ctrader_admin.api does; pydantic with
# one model; sqlite3): the floor under our figures, with none of our code.
STACK = (
    _PRELUDE
    + r"""
import asyncio, qasync
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(["stack"])
loop = qasync.QEventLoop(app)
asyncio.set_event_loop(loop)
window = QMainWindow()
window.resize(1180, 760)
window.show()
def the_stack():
    import sqlite3, sys
    sys.modules.setdefault("httpx._main", None)
    import httpx, pydantic
    class Probe(pydantic.BaseModel):
        x: int
    Probe(x=1)
measure_until_idle(app, window, the_stack)
with loop:
    loop.run_forever()
"""
)

# The floor under ours: the same first frame (menu bar, band, seven tabs, the Lookup form) made
# of the same Qt widgets, with the Qt namespace the desktop's colour scheme is read through, and
# none of our code: what PySide6 itself costs for this screen.
QT_ONLY = (
    _PRELUDE
    + r"""
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication, QComboBox, QFrame, QHBoxLayout, QLabel, QLineEdit, QMainWindow, QPushButton,
    QTabWidget, QVBoxLayout, QWidget,
)
app = QApplication(["qt-only"])
dark = QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark
window = QMainWindow()
for title, actions in (("&File", 2), ("&Go", 8), ("&Connection", 2), ("&Help", 1)):
    menu = window.menuBar().addMenu(title)
    for i in range(actions):
        action = QAction(f"Action {i}", window)
        action.setShortcut(QKeySequence(f"Alt+{i + 1}"))
        menu.addAction(action)
central = QWidget()
column = QVBoxLayout(central)
band = QFrame()
row = QHBoxLayout(band)
for text in ("Starting…", "", "Writes left", "Not logged in"):
    row.addWidget(QLabel(text))
row.addStretch(1)
for widget in (QPushButton("Log in"), QComboBox(), QPushButton("Profiles…")):
    row.addWidget(widget)
column.addWidget(band)
tabs = QTabWidget()
tabs.setDocumentMode(True)
lookup = QWidget()
form = QVBoxLayout(lookup)
form.addWidget(QLabel("Lookup"))
form.addWidget(QLabel("Type an email, userId, login, ctidTraderAccountId or partner code."))
search = QHBoxLayout()
search.addWidget(QLineEdit(), 1)
kinds = QComboBox()
kinds.addItems(["Detect", "Email", "userId", "Login", "ctidTraderAccountId", "Partner code"])
search.addWidget(kinds)
search.addWidget(QPushButton("Look up"))
form.addLayout(search)
form.addWidget(QLabel("Tips: type an email, a userId, a login or a ctidTraderAccountId."))
form.addWidget(QLabel("Recent cases on this profile"))
form.addWidget(QLabel("No case looked up on this profile yet."))
form.addStretch(1)
tabs.addTab(lookup, "Lookup")
for title in ("Users", "Accounts", "White Label", "Partners", "Jobs", "Journal"):
    tabs.addTab(QWidget(), title)
column.addWidget(tabs, 1)
window.setCentralWidget(central)
window.resize(1180, 760)
window.show()
measure_until_idle(app, window)
app.exec()
"""
)

OURS = (
    _PRELUDE
    + r"""
import time
import ctrader_admin.__main__, ctrader_admin.cli  # what the ctrader-admin script imports first
from ctrader_admin.app import run_gui
probe = {"last": None, "worst": 0.0}
def tick():
    now = time.perf_counter()
    if probe["last"] is not None:
        probe["worst"] = max(probe["worst"], now - probe["last"] - 0.002)
    probe["last"] = now
def interactive(window):
    from PySide6.QtCore import Qt, QTimer
    mark_interactive()
    timer = QTimer(window)
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.timeout.connect(tick)
    timer.start(2)
    probe["timer"] = timer
def shown(window):
    when_painted(window, lambda: interactive(window))
def ready(window):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    marks["ready_ms"] = since_start() * 1000
    def idle():
        probe["timer"].stop()
        marks["stall_ms"] = probe["worst"] * 1000
        report_and_quit(QApplication.instance())
    QTimer.singleShot(1500, idle)
run_gui("sandbox", on_shown=shown, on_ready=ready)
"""
)


def run_child(code: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="ctrader-admin-startup-") as home:
        env = {
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "CTRADER_ADMIN_HOME": home,
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        }
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
        )
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, float] = json.loads(line[len("RESULT ") :])
            return result
    raise RuntimeError(f"no result (exit {done.returncode}):\n{done.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    # An installed app has its modules' bytecode (pip, the .deb and PyInstaller compile it). A
    # checkout run with PYTHONDONTWRITEBYTECODE=1, as on the CI machines, would compile every
    # module of ours at every start instead; compile them once, as an install does.
    import ctrader_admin

    package = os.path.dirname(ctrader_admin.__file__)
    subprocess.run([sys.executable, "-m", "compileall", "-q", package], check=True)
    for code in (BARE, STACK, QT_ONLY, OURS):  # warm the file cache for all four
        run_child(code)
    bare: list[dict[str, float]] = []
    stack: list[dict[str, float]] = []
    qt_only: list[dict[str, float]] = []
    ours: list[dict[str, float]] = []
    for _ in range(args.runs):
        bare.append(run_child(BARE))
        stack.append(run_child(STACK))
        qt_only.append(run_child(QT_ONLY))
        ours.append(run_child(OURS))

    def median(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(row[key] for row in rows)

    def spread(rows: list[dict[str, float]], key: str) -> str:
        values = [row[key] for row in rows]
        return f"{min(values):.0f}–{max(values):.0f}"

    def line(label: str, rows: list[dict[str, float]], extra: str = "") -> None:
        print(
            f"  {label:<18}interactive {median(rows, 'interactive_ms'):.0f} ms "
            f"({spread(rows, 'interactive_ms')}; CPU {median(rows, 'interactive_cpu_ms'):.0f} ms),"
            f"{extra} idle RSS {median(rows, 'rss_mb'):.0f} MB ({spread(rows, 'rss_mb')})"
        )

    b_int, o_int = median(bare, "interactive_ms"), median(ours, "interactive_ms")
    b_rss, o_rss = median(bare, "rss_mb"), median(ours, "rss_mb")
    s_int, s_rss = median(stack, "interactive_ms"), median(stack, "rss_mb")
    q_int = median(qt_only, "interactive_ms")
    o_ready, o_stall = median(ours, "ready_ms"), median(ours, "stall_ms")
    print(f"start-up, median (min–max) of {args.runs} runs each (offscreen, fresh processes)")
    line("bare QMainWindow:", bare)
    line("+ the stack:", stack)
    line("Qt-only screen:", qt_only)
    line(
        "ctrader-admin:",
        ours,
        f" ready on the sandbox {o_ready:.0f} ms ({spread(ours, 'ready_ms')}),",
    )
    b_cpu, o_cpu = median(bare, "interactive_cpu_ms"), median(ours, "interactive_cpu_ms")
    q_cpu = median(qt_only, "interactive_cpu_ms")
    print(f"  interactive ÷ bare:  {o_int / b_int:.2f}× (goal ≤ 1.50×)")
    print(
        f"  the same in CPU time (less moved by other processes): {o_cpu / b_cpu:.2f}×; "
        f"ours ÷ Qt-only screen {o_cpu / q_cpu:.2f}×, Qt-only screen ÷ bare {q_cpu / b_cpu:.2f}×"
    )
    print(f"  interactive ÷ stack: {o_int / s_int:.2f}× (stack ÷ bare: {s_int / b_int:.2f}×)")
    print(
        f"  interactive ÷ Qt-only screen: {o_int / q_int:.2f}× "
        f"(Qt-only screen ÷ bare: {q_int / b_int:.2f}×)"
    )
    print(f"  ready ÷ bare:        {o_ready / b_int:.2f}×")
    print(f"  longest UI stall, interactive to idle: {o_stall:.0f} ms ({spread(ours, 'stall_ms')})")
    print(f"  idle RSS ÷ bare:     {o_rss / b_rss:.2f}× (goal ≤ 1.50×)")
    print(
        f"  idle RSS ÷ stack:    {o_rss / s_rss:.2f}× (goal ≤ 1.25×; stack ÷ bare: "
        f"{s_rss / b_rss:.2f}×)"
    )


if __name__ == "__main__":
    main()
