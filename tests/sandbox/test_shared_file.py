"""Two sandboxes on one file (the app and a CLI command on the training profile): two
read-then-write transactions that overlap both succeed, one after the other — neither is
refused with "database is locked"."""

from __future__ import annotations

import threading
from pathlib import Path

from ctrader_admin.sandbox.storage import Storage


def test_overlapping_read_then_write_transactions_of_two_processes_both_succeed(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "sandbox.sqlite3")
    first, second = Storage(path), Storage(path)
    with first.transaction() as tx:
        tx.add_white_label("wl", "crm")
    first_read = threading.Event()
    errors: list[BaseException] = []

    def read_then_write(storage: Storage, name: str, after: threading.Event | None) -> None:
        try:
            with storage.transaction() as tx:
                tx.white_label_exists("wl")  # a read first…
                first_read.set()
                if after is not None:
                    after.wait(2)
                tx.add_white_label(name, "crm")  # …then a write
        except BaseException as exc:
            errors.append(exc)

    one = threading.Thread(target=read_then_write, args=(first, "one", None))
    gate = threading.Event()
    two = threading.Thread(target=read_then_write, args=(second, "two", gate))
    two.start()
    first_read.wait(5)
    one.start()
    threading.Timer(0.2, gate.set).start()
    one.join(15)
    two.join(15)
    try:
        assert errors == []
        with first.transaction() as tx:
            assert tx.white_label_exists("one")
            assert tx.white_label_exists("two")
    finally:
        first.close()
        second.close()
