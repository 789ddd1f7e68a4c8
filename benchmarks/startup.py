"""Start-up of the desktop app against a bare PySide6 window, measured in the same run.

    python benchmarks/startup.py [--runs 5]

Each run is a fresh process (offscreen Qt, a throw-away CTRADER_ADMIN_HOME, the null keyring),
with the package's bytecode compiled first, as in any install.
Times are from the kernel's start time of the process to:
- interactive: the first event-loop turn after the main window's first paint (it is on screen,
  and the loop is free for the user's first click). The same probe, an event filter on the main
  window alone, serves all three scripts: Qt's first zero-timer turn comes *before* the window
  is exposed and painted, so stopping the clock there would leave out the first paint and
  whatever the app runs at that turn;
- ready: the sandbox profile is open and logged in (ours only: the bare window has no work).
Between the two, a 2 ms timer on the Qt loop measures the longest stall while the back office
loads behind the window. RSS is read 1.5 s after that, with the app idle.
A third script, "stack", is the bare window plus the libraries the product is built on (asyncio
with qasync, httpx, pydantic with one model, sqlite3) and none of our code: the floor under
our RSS. Runs alternate bare/stack/ours; medians are shown.
Goals (issue 3): interactive ÷ bare ≤ 1.5×, idle RSS ÷ bare ≤ 1.5×.
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
def shown():
    marks["interactive_ms"] = since_start() * 1000
    QTimer.singleShot(1500, lambda: report_and_quit(app))
when_painted(window, shown)
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
def shown():
    import sqlite3, sys
    marks["interactive_ms"] = since_start() * 1000
    sys.modules.setdefault("httpx._main", None)
    import httpx, pydantic
    class Probe(pydantic.BaseModel):
        x: int
    Probe(x=1)
    QTimer.singleShot(1500, lambda: report_and_quit(app))
when_painted(window, shown)
with loop:
    loop.run_forever()
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
    marks["interactive_ms"] = since_start() * 1000
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
    probe["timer"].stop()
    marks["stall_ms"] = probe["worst"] * 1000
    QTimer.singleShot(1500, lambda: report_and_quit(QApplication.instance()))
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
    for code in (BARE, STACK, OURS):  # warm the file cache for all three
        run_child(code)
    bare: list[dict[str, float]] = []
    stack: list[dict[str, float]] = []
    ours: list[dict[str, float]] = []
    for _ in range(args.runs):
        bare.append(run_child(BARE))
        stack.append(run_child(STACK))
        ours.append(run_child(OURS))

    def median(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(row[key] for row in rows)

    b_int, o_int = median(bare, "interactive_ms"), median(ours, "interactive_ms")
    b_rss, o_rss = median(bare, "rss_mb"), median(ours, "rss_mb")
    s_int, s_rss = median(stack, "interactive_ms"), median(stack, "rss_mb")
    o_ready, o_stall = median(ours, "ready_ms"), median(ours, "stall_ms")
    print(f"start-up, median of {args.runs} runs each (offscreen, fresh processes)")
    print(f"  bare QMainWindow: interactive {b_int:.0f} ms, idle RSS {b_rss:.0f} MB")
    print(f"  + the stack:      interactive {s_int:.0f} ms, idle RSS {s_rss:.0f} MB")
    print(
        f"  ctrader-admin:    interactive {o_int:.0f} ms, ready on the sandbox {o_ready:.0f} ms, "
        f"idle RSS {o_rss:.0f} MB"
    )
    print(f"  interactive ÷ bare: {o_int / b_int:.2f}× (goal ≤ 1.50×)")
    print(f"  interactive ÷ stack: {o_int / s_int:.2f}× (stack ÷ bare: {s_int / b_int:.2f}×)")
    print(f"  ready ÷ bare:       {o_ready / b_int:.2f}×")
    print(f"  longest UI stall between interactive and ready: {o_stall:.0f} ms")
    print(f"  idle RSS ÷ bare:    {o_rss / b_rss:.2f}× (goal ≤ 1.50×)")
    print(
        f"  idle RSS ÷ stack:   {o_rss / s_rss:.2f}× (goal ≤ 1.25×; stack ÷ bare: "
        f"{s_rss / b_rss:.2f}×)"
    )


if __name__ == "__main__":
    main()
