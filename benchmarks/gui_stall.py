"""GUI stalls while a bulk job runs: the Jobs tab in a real QApplication on the qasync loop
applies a large partnerId job against the sandbox (its own process on loopback, as served by
``ctrader-admin sandbox --latency-ms 50 --write-cap 0 --quiet``; or in-process), while a probe
timer fires every --probe-ms on the Qt event loop and records when it actually ran.

The longest gap between two probe ticks, less the probe's own interval, is the longest time the
event loop could not turn: the longest the window would have been frozen (goal ≤ 16 ms, one
frame at 60 Hz). Prints that, the p99 and p99.9 stall, the number of stalls over 16 ms, the five
longest with where the job was, and the job's throughput. The probe goes on after the job until
the full collection the job put off has run (once the window is left alone, as nobody touches
it here), and that pass's stall is printed on its own line.

    .venv/bin/python benchmarks/gui_stall.py                    # 3 000 writes, ~1.5 min
    .venv/bin/python benchmarks/gui_stall.py --rows 10000       # ~4 min
    .venv/bin/python benchmarks/gui_stall.py --explain          # + what the loop was doing
    .venv/bin/python benchmarks/gui_stall.py --screenshots /tmp/jobs   # PNGs, no figures

--explain samples the main thread's Python stack from a watchdog thread whenever the probe is
late by more than 8 ms, and prints the innermost app frames seen most often during stalls.

(Over 500 lines on purpose: a benchmark is one script to run and read from top to bottom.)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import httpx
import keyring
import qasync
from keyring.backends import null
from PySide6.QtCore import QObject, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication

from ctrader_admin import resources
from ctrader_admin.runtime import settle_start_up_heap
from ctrader_admin.sandbox import TRAINING_MANAGERS, Sandbox, SandboxConfig
from ctrader_admin.sandbox.seed import generate
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.services.bulk import ApplyOptions
from ctrader_admin.store.database import Database
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.profiles import Profile, ProfileStore
from ctrader_admin.ui import theme
from ctrader_admin.ui.dialogs import ConfirmWriteDialog
from ctrader_admin.ui.jobs.tab import JobsTab
from ctrader_admin.ui.main_window import MainWindow
from ctrader_admin.wiring import compose_backoffice

SEED = 20260101
MANAGER = TRAINING_MANAGERS[0]
GOAL_MS = 16.0
BASELINE_S = 5.0
SETTLE_S = 1.0  # the plan just shown is laid out and painted before the idle floor is probed
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 5.0
AFTER_JOB_S = 90.0  # the app's at-latest for the put-off full collection is 60 s


# --- the sandbox process -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _command(port: int, users: int, latency_ms: float) -> list[str]:
    script = shutil.which("ctrader-admin", path=str(Path(sys.executable).parent))
    base = [script] if script else [sys.executable, "-m", "ctrader_admin"]
    options = ["--port", str(port), "--latency-ms", f"{latency_ms:g}", "--write-cap", "0"]
    return [*base, "sandbox", *options, "--quiet", "--seed", str(SEED), "--users", str(users)]


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise SystemExit(f"the sandbox exited:\n{log.read().decode(errors='replace')}")
        try:
            if httpx.get(f"{url}/_sandbox/health", timeout=1.0, trust_env=False).is_success:
                return
        except httpx.TransportError:
            pass  # not listening yet
        time.sleep(0.1)
    raise SystemExit(f"the sandbox did not start within {START_TIMEOUT_S:g} s")


@contextmanager
def sandbox_process(users: int, latency_ms: float) -> Iterator[tuple[str, list[str]]]:
    """The server in its own process (its own GIL); stopped on exit, also on Ctrl+C."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = _command(port, users, latency_ms)
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            _wait_healthy(url, process, log)
            yield url, command
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)  # the CLI's Ctrl+C: uvicorn drains
                try:
                    process.wait(STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


# --- the probe -----------------------------------------------------------------------------------


class Probe(QObject):
    """A precise Qt timer; each tick records when the event loop got round to it."""

    def __init__(self, interval_ms: int) -> None:
        super().__init__()
        self.interval_ms = interval_ms
        self.ticks: list[float] = []
        # The window's thread's CPU time at each tick: on a busy machine a gap may be time the
        # kernel gave to other processes, while the thread's own work is what the app costs.
        self.cpu: list[float] = []
        self.last = time.perf_counter()
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.ticks.clear()
        self.cpu.clear()
        self.last = time.perf_counter()
        self.ticks.append(self.last)
        self.cpu.append(time.thread_time())
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        self.last = time.perf_counter()
        self.ticks.append(self.last)
        self.cpu.append(time.thread_time())

    def stalls_ms(self) -> list[tuple[float, float]]:
        """(stall in ms, seconds since the start) for every gap between ticks."""
        start = self.ticks[0] if self.ticks else 0.0
        return [
            (max(0.0, (b - a) * 1000.0 - self.interval_ms), a - start)
            for a, b in zip(self.ticks, self.ticks[1:], strict=False)
        ]

    def work_ms(self) -> list[tuple[float, float]]:
        """(ms of the window's thread's CPU time, seconds since the start) between ticks."""
        start = self.ticks[0] if self.ticks else 0.0
        return [
            ((b - a) * 1000.0, at - start)
            for a, b, at in zip(self.cpu, self.cpu[1:], self.ticks, strict=False)
        ]


@dataclass
class GcWatch:
    """Collections of the cyclic garbage collector that took 2 ms or more, while watched."""

    since: float = 0.0
    slow: list[tuple[float, int, float]] = field(default_factory=list)  # (ms, generation, s)
    full: list[tuple[float, float, float]] = field(default_factory=list)  # (ms, CPU ms, s)
    _started: float = 0.0
    _started_cpu: float = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        now = time.perf_counter()
        if phase == "start":
            self._started = now
            self._started_cpu = time.thread_time()
            return
        if info["generation"] == 2:
            cpu_ms = (time.thread_time() - self._started_cpu) * 1000.0
            self.full.append(((now - self._started) * 1000.0, cpu_ms, now - self.since))
        if (now - self._started) * 1000.0 >= 2.0:
            self.slow.append(((now - self._started) * 1000.0, info["generation"], now - self.since))

    def start(self) -> None:
        self.since = time.perf_counter()
        gc.callbacks.append(self._callback)

    def stop(self) -> None:
        gc.callbacks.remove(self._callback)


@dataclass
class Explainer:
    """A watchdog thread: while the probe is late, sample the main thread's stack."""

    probe: Probe
    late_ms: float = 8.0
    samples: Counter[str] = field(default_factory=Counter)
    stacks: Counter[str] = field(default_factory=Counter)
    # The other threads at the same moments: one holding the GIL delays the main thread.
    others: Counter[str] = field(default_factory=Counter)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        main = threading.main_thread().ident
        assert main is not None

        def watch() -> None:
            while not self._stop.wait(0.002):
                if (time.perf_counter() - self.probe.last) * 1000.0 < self.late_ms:
                    continue
                frames = sys._current_frames()
                frame = frames.get(main)
                if frame is None:
                    continue
                for ident, other in frames.items():
                    if ident in (main, threading.get_ident()):
                        continue
                    where = traceback.extract_stack(other)
                    app_frames = [f for f in where if "ctrader_admin" in f.filename]
                    top = app_frames[-1] if app_frames else where[-1]
                    self.others[f"{Path(top.filename).name}:{top.lineno} {top.name}"] += 1
                stack = traceback.extract_stack(frame)
                ours = [f for f in stack if "ctrader_admin" in f.filename]
                inner = stack[-1]
                where = f"{Path(inner.filename).name}:{inner.lineno} {inner.name}"
                app = ours[-1] if ours else None
                mine = f"{Path(app.filename).name}:{app.lineno} {app.name}" if app else "-"
                self.samples[f"{mine}  ←  innermost {where}"] += 1
                self.stacks[
                    "\n".join(
                        f"    {f.name} ({Path(f.filename).name}:{f.lineno})" for f in stack[-12:]
                    )
                ] += 1

        self._thread = threading.Thread(target=watch, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


# --- the app -------------------------------------------------------------------------------------


def users_in_reach(users: int) -> list[int]:
    reach = set(MANAGER.broker_names)
    return [user.user_id for user in generate(SEED, users).users if user.broker_name in reach]


def backoffice_for(
    paths: AppPaths, url: str | None, sandbox: Sandbox | None, budget: int
) -> Backoffice:
    """The app's stores on a temporary home, and a profile for this server."""
    profiles = ProfileStore(paths)
    profiles.add(
        Profile(
            id="bench",
            name="Benchmark",
            base_url=url or "https://sandbox.local",
            broker_names=list(MANAGER.broker_names),
            broker_crm_name="sandbox_crm",
            manager_login=MANAGER.login,
            write_budget_per_hour=budget,
            timeout_seconds=30.0,
        )
    )
    # In-process through the sandbox's transport when one is given, else over loopback.
    return compose_backoffice(
        Database.open(paths),
        profiles,
        transport=(lambda _profile: sandbox.transport()) if sandbox is not None else None,
        workstation="benchmark",
    )


async def _dialog(name: str) -> ConfirmWriteDialog:
    while True:
        for widget in QApplication.topLevelWidgets():
            if not isinstance(widget, ConfirmWriteDialog):
                continue
            if widget.objectName() == name and widget.isVisible():
                return widget
        await asyncio.sleep(0.01)


async def _finished(tab: JobsTab) -> None:
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def finished() -> None:
        if not done.done():
            done.set_result(None)

    tab.finished.connect(finished)
    try:
        await done
    finally:
        tab.finished.disconnect(finished)


@dataclass
class Outcome:
    rows: int
    plan_s: float
    job_s: float
    counts: dict[str, int]
    stalls: list[tuple[float, float]]
    ticks: int
    explain: Explainer | None
    baseline: list[tuple[float, float]]
    slow_gc: list[tuple[float, int, float]] = field(default_factory=list)
    # After the job, until its put-off full collection ran: (stalls, seconds it waited or None)
    after: tuple[list[tuple[float, float]], float | None] = ([], None)
    full_gc: list[tuple[float, float, float]] = field(default_factory=list)  # GcWatch.full
    work: list[tuple[float, float]] = field(default_factory=list)  # the job's, as work_ms


async def drive(
    office: Backoffice,
    users: list[int],
    *,
    rows: int,
    options: ApplyOptions,
    probe_ms: int,
    explain: bool,
    screenshots: Path | None,
    home: Path,
) -> Outcome:
    session = await office.open("bench")
    await session.login(MANAGER.login, MANAGER.password, remember=False)
    settle_start_up_heap()  # as the app does once its first profile is open (app.py)
    # The app's own window (band, tabs, shortcuts), on its Jobs tab.
    settings = QSettings(str(home / "window.ini"), QSettings.Format.IniFormat)
    window = MainWindow(office, settings)
    window.resize(1280, 800)
    window.show()
    tab = window.show_tab("JobsTab")
    if not isinstance(tab, JobsTab):
        raise SystemExit("the Jobs tab is not a JobsTab")
    tab.apply_options = options
    tag = f"GUI-{int(time.time()) % 100000}"
    source = home / "attributions.csv"
    lines = ["level,userId,ctidTraderAccountId,partnerId"]
    lines += [f"user,{user},,{tag}-{n}" for n, user in enumerate(users[:rows])]
    if screenshots is not None:  # a few bad lines and an already-equal one, for the pictures
        lines[4:4] = ["user,not-a-number,,IB-1", "team,1000001,,IB-1", "account,1000003,,IB-2"]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")

    started = time.perf_counter()
    await tab.plan_csv_file(source)
    plan_s = time.perf_counter() - started
    plan = tab.plan
    if plan is None:
        raise SystemExit(f"planning failed: {tab.bar.label.text()}")
    if screenshots is not None:
        await asyncio.sleep(0.2)
        _save(tab, screenshots / "jobs-1-plan.png")

    probe = Probe(probe_ms)
    # The floor: the same probe with the window idle (what the machine itself costs). Once the
    # plan on screen has been laid out and painted: that first paint (a full repaint of the
    # window, 11-17 ms) was the floor's longest gap in every run, not the idle window's.
    await asyncio.sleep(SETTLE_S)
    probe.start()
    await asyncio.sleep(BASELINE_S)
    probe.stop()
    baseline = probe.stalls_ms()
    explainer = Explainer(probe) if explain else None
    finished = asyncio.ensure_future(_finished(tab))
    tab.plan_view.apply_button.click()
    dialog = await _dialog("confirmWriteDialog")
    dialog.reason.setText("GUI stall benchmark")
    dialog.ticket.setText("BENCH-1")
    if screenshots is not None:
        _save(dialog, screenshots / "jobs-2-confirm.png")
    probe.start()
    if explainer is not None:
        explainer.start()
    job_started = time.perf_counter()
    gc_watch = GcWatch()
    gc_watch.start()
    dialog.accept()
    if screenshots is not None:
        while tab.plan_view.progress.bar.value() < plan.to_write // 2:  # noqa: ASYNC110 - a Qt widget
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.25)
        _save(tab, screenshots / "jobs-3-running.png")
    await finished
    job_s = time.perf_counter() - job_started
    if explainer is not None:
        explainer.stop()
    job_ticks = len(probe.ticks)
    after_s = await _full_pass_after_job(gc_watch, job_started + job_s)
    gc_watch.stop()
    probe.stop()
    stalls = probe.stalls_ms()
    work = probe.work_ms()
    result = tab.last_result
    counts: dict[str, int] = {k: v for k, v in (result.counts if result else {}).items() if v}
    if screenshots is not None:
        await asyncio.sleep(0.2)
        _save(tab, screenshots / "jobs-4-finished.png")
    window.close()
    await office.close()
    return Outcome(
        rows,
        plan_s,
        job_s,
        counts,
        stalls[: job_ticks - 1],
        job_ticks,
        explainer,
        baseline,
        gc_watch.slow,
        after=(stalls[job_ticks - 1 :], after_s),
        work=work[: job_ticks - 1],
        full_gc=gc_watch.full,
    )


async def _full_pass_after_job(gc_watch: GcWatch, ended: float) -> float | None:
    """Seconds from the job's end until the full collection it put off ran (None: not within
    AFTER_JOB_S); the probe goes on meanwhile."""
    seen = len(gc_watch.full)
    while len(gc_watch.full) == seen:
        if time.perf_counter() - ended > AFTER_JOB_S:
            return None
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.1)  # a few probe ticks after it
    return time.perf_counter() - ended


def _save(widget: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(path))
    print(f"screenshot: {path}")


def report(outcome: Outcome, probe_ms: int) -> None:
    stalls = [s for s, _ in outcome.stalls]
    worst = sorted(outcome.stalls, reverse=True)[:5]
    longest = worst[0][0] if worst else 0.0
    verdict = "ok" if longest <= GOAL_MS else "OVER"
    writes = outcome.counts.get("ok", 0)
    print(
        f"longest Qt event-loop stall: {longest:.1f} ms (goal ≤ {GOAL_MS:g} ms) {verdict}; "
        f"p99 {_percentile(stalls, 0.99):.2f} ms, p99.9 {_percentile(stalls, 0.999):.2f} ms, "
        f"median {statistics.median(stalls) if stalls else 0.0:.2f} ms; "
        f"{sum(s > GOAL_MS for s in stalls)} stalls > {GOAL_MS:g} ms "
        f"in {outcome.job_s:.1f} s ({outcome.ticks:,} probe ticks of {probe_ms} ms)"
    )
    idle = [s for s, _ in outcome.baseline]
    print(
        f"baseline, window idle for {BASELINE_S:g} s before the job: longest "
        f"{max(idle, default=0.0):.1f} ms, p99 {_percentile(idle, 0.99):.2f} ms, "
        f"{sum(s > GOAL_MS for s in idle)} stalls > {GOAL_MS:g} ms; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print(
        f"job: {writes:,} writes in {outcome.job_s:.1f} s = {writes / outcome.job_s:.1f} writes/s "
        f"(outcomes {outcome.counts}); plan (dry run) of {outcome.rows:,} rows "
        f"{outcome.plan_s:.1f} s = {outcome.rows / outcome.plan_s:.0f} rows/s"
    )
    print(
        "longest stalls (ms @ s into the job): " + ", ".join(f"{s:.1f} @ {t:.2f}" for s, t in worst)
    )
    work = sorted(outcome.work, reverse=True)[:5]
    print(
        "the window's thread's own CPU time in the longest gaps (ms @ s; what the app costs "
        "whatever the machine's load): " + ", ".join(f"{s:.1f} @ {t:.2f}" for s, t in work)
    )
    after, waited = outcome.after
    longest_after = max(after, default=(0.0, 0.0))
    if waited is None:
        print(f"no full collection within {AFTER_JOB_S:g} s of the job's end")
    else:
        print(
            f"after the job, the window left alone: the put-off full collection ran "
            f"{waited:.1f} s after its end; longest stall until then {longest_after[0]:.1f} ms "
            f"@ {longest_after[1]:.2f} s (from the job's start)"
        )
    for ms, cpu_ms, at in outcome.full_gc:
        print(f"full collection (gen 2) @ {at:.2f} s: {ms:.1f} ms, {cpu_ms:.1f} ms of CPU")
    slow_gc = sorted(outcome.slow_gc, reverse=True)
    print(
        f"garbage collections of ≥ 2 ms during the job and after it: {len(slow_gc)}"
        + (
            "; longest (ms gen N @ s): "
            + ", ".join(f"{ms:.1f} gen {gen} @ {at:.2f}" for ms, gen, at in slow_gc[:5])
            if slow_gc
            else ""
        )
    )
    explainer = outcome.explain
    if explainer is not None:
        total = sum(explainer.samples.values())
        print(f"main thread while the probe was > {explainer.late_ms:g} ms late ({total} samples):")
        for where, count in explainer.samples.most_common(12):
            print(f"  {count:5d}  {where}")
        for stack, count in explainer.stacks.most_common(3):
            print(f"  --- {count} samples:\n{stack}")
        print("other threads at those moments (innermost app frame):")
        for where, count in explainer.others.most_common(8):
            print(f"  {count:5d}  {where}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=3000, help="partnerId writes (3000)")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="sandbox latency (50)")
    parser.add_argument("--concurrency", type=int, default=ApplyOptions().concurrency)
    parser.add_argument("--probe-ms", type=int, default=2, help="probe timer interval (2)")
    parser.add_argument("--in-process", action="store_true", help="sandbox in this process")
    parser.add_argument("--explain", action="store_true", help="sample stacks during stalls")
    parser.add_argument("--screenshots", type=Path, help="save PNGs of the tab (no figures)")
    args = parser.parse_args()
    if args.screenshots is not None:
        args.rows = min(args.rows, 400)
    keyring.set_keyring(null.Keyring())  # type: ignore[no-untyped-call]  # never the real one
    user_count = math.ceil(args.rows / 0.9) + 50
    users = users_in_reach(user_count)[: args.rows]
    if len(users) < args.rows:
        raise SystemExit(f"only {len(users)} users in reach; raise the sandbox's --users")
    options = ApplyOptions(concurrency=args.concurrency)
    app = QApplication(["gui_stall"])
    app.setQuitOnLastWindowClosed(False)  # closing the window must not stop the loop
    # The app's look, as the app has it: Fusion, the palette and the style sheet (the style
    # sheet's style lays out and paints every widget, so it is part of what a stall costs).
    style_sheet = resources.style_sheet()
    theme.use_theme(app, style_sheet)
    theme.apply_style_sheet(app, style_sheet)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory(prefix="gui-stall-") as home_dir:
        home = Path(home_dir)
        paths = AppPaths.under(home / "app")
        budget = max(1000, args.rows * 2)
        with _server(args, user_count) as (url, sandbox, described):
            print(
                f"sandbox: {described}; {args.rows:,} writes, concurrency {args.concurrency}, "
                f"probe every {args.probe_ms} ms, {os.cpu_count()} CPUs"
            )
            office = backoffice_for(paths, url, sandbox, budget)
            with loop:
                outcome = loop.run_until_complete(
                    drive(
                        office,
                        users,
                        rows=args.rows,
                        options=options,
                        probe_ms=args.probe_ms,
                        explain=args.explain,
                        screenshots=args.screenshots,
                        home=home,
                    )
                )
    if args.screenshots is None:
        report(outcome, args.probe_ms)


@contextmanager
def _server(
    args: argparse.Namespace, users: int
) -> Iterator[tuple[str | None, Sandbox | None, str]]:
    if args.in_process:
        sandbox = Sandbox(
            SandboxConfig(
                seed=SEED, users=users, latency_ms=args.latency_ms, write_cap_per_hour=None
            )
        )
        try:
            yield None, sandbox, f"in-process, latency {args.latency_ms:g} ms, {users} users"
        finally:
            sandbox.close()
        return
    with sandbox_process(users, args.latency_ms) as (url, command):
        shown = " ".join([Path(command[0]).name, *command[1:]])
        yield url, None, f"{shown} (own process, loopback)"


if __name__ == "__main__":
    main()
