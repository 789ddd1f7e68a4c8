"""Where an imported journal entry came from (issue 13: a workstation's history in the team chain).

An imported entry is chained into the team's journal like any other (new id, the team's previous
hash), and its body carries ``origin``: the workstation's file, the entry's original id, hash and
previous hash, the id it reverted there, and who imported it when. The origin is inside the
hashed body, so it cannot be changed without the team chain showing it; and with it the
original body can be rebuilt exactly (``original_body``), so ``Journal.verify`` also checks each
imported entry against its original hash and the original chain's links (``OriginCheck``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

GENESIS = "0" * 64  # store/journal_engine.py GENESIS_HASH (not imported: that module imports us)


@dataclass(frozen=True, slots=True)
class ImportOrigin:
    workstation: str  # host name of the computer whose file was imported
    source: str  # that file's path there
    id: int  # the entry's id in that file's chain
    hash: str  # its hash there
    prev_hash: str  # the hash before it there
    reverts_id: int | None  # the id it reverted, in that file's numbering
    imported_by: str  # the team database role that imported it (checked by the server)
    imported_at: str  # the server's time of the import (UTC, ISO 8601)

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> ImportOrigin:
        return cls(**value)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        """One line for the details pane and exports."""
        return (
            f"Imported from {self.workstation}, #{self.id} ({self.source}); "
            f"by {self.imported_by} at {self.imported_at}"
        )


def original_record(record: dict[str, Any]) -> dict[str, Any]:
    """The entry as its workstation's chain held it: the team's id, previous hash and revert
    link swapped back for the original ones, the origin removed."""
    origin = record["origin"]
    original = {key: value for key, value in record.items() if key != "origin"}
    original.update(id=origin["id"], prev_hash=origin["prev_hash"], reverts_id=origin["reverts_id"])
    return original


class OriginCheck:
    """Checks, entry by entry in the team's order, that each imported entry rebuilds to its
    original hash and follows the entry before it in its own workstation's chain. Keeps the
    original hashes of imported entries seen (imports are workstation histories: thousands of
    entries, not millions)."""

    def __init__(self, record_hash: Callable[[dict[str, Any]], str]) -> None:
        self._record_hash = record_hash  # store/journal.py's hash rule
        self._seen: dict[str, int] = {GENESIS: 0}

    def problem(self, entry_id: int, body: str) -> str | None:
        if '"origin":{' not in body:  # cheap: entries that were not imported are not parsed
            return None
        record = json.loads(body)
        origin = record.get("origin")
        if origin is None:
            return None
        if self._record_hash(original_record(record)) != origin["hash"]:
            return (
                f"Entry {entry_id} (imported from {origin['workstation']}, "
                f"#{origin['id']}) no longer matches its original hash."
            )
        if self._seen.get(origin["prev_hash"]) != origin["id"] - 1:
            return (
                f"Entry {entry_id} (imported from {origin['workstation']}, #{origin['id']}) "
                "does not follow the entry before it in its workstation's journal."
            )
        self._seen[origin["hash"]] = origin["id"]
        return None
