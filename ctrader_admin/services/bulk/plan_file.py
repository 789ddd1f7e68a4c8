"""Plans on disk: JSON with a content hash over everything else in the file (rows, profile,
author, time). A file whose content no longer matches its hash was edited after planning and
is refused, whoever opens it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from ctrader_admin.services.bulk.errors import PlanRefused, PlanTampered
from ctrader_admin.services.bulk.model import Plan
from ctrader_admin.store.atomic import write_private_chunks


def content_hash(plan: Plan) -> str:
    """SHA-256 of the plan's canonical JSON (sorted keys, no spaces), ``content_hash`` left out.

    Fed to the hash piece by piece, one row at a time: the same bytes as one ``json.dumps`` of
    the whole plan, but no single call holds the GIL for long (a 10 000-row plan dumped at once
    held it ~120 ms, a frozen window when a job started from the GUI)."""
    head = plan.model_dump(mode="json", exclude={"content_hash", "rows"})
    digest = hashlib.sha256()
    digest.update(b"{")
    for i, key in enumerate(sorted([*head, "rows"])):
        digest.update(f"{',' if i else ''}{_canonical(key)}:".encode())
        if key != "rows":
            digest.update(_canonical(head[key]).encode())
            continue
        digest.update(b"[")
        for n, row in enumerate(plan.rows):
            digest.update(f"{',' if n else ''}{_canonical(row.model_dump(mode='json'))}".encode())
        digest.update(b"]")
    digest.update(b"}")
    return digest.hexdigest()


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def seal(plan: Plan) -> Plan:
    """The plan with its content hash set."""
    return plan.model_copy(update={"content_hash": content_hash(plan)})


def _plan_chunks(plan: Plan) -> Iterator[str]:
    """The text of ``json.dumps(plan.model_dump(mode="json"), indent=1)``, made one row at a time
    (see content_hash): a plan of 100 000 rows never exists as one dict or one string."""
    head = plan.model_dump(mode="json", exclude={"rows"})
    names = list(Plan.model_fields)
    yield "{"
    for i, name in enumerate(names):
        yield f"{',' if i else ''}\n {json.dumps(name)}: "
        if name != "rows":
            yield _indented(head[name], 1)
            continue
        if not plan.rows:
            yield "[]"
            continue
        yield "["
        for n, row in enumerate(plan.rows):
            yield f"{',' if n else ''}\n  {_indented(row.model_dump(mode='json'), 2)}"
        yield "\n ]"
    yield "\n}\n"


def _indented(value: object, depth: int) -> str:
    """``value`` as json.dumps(indent=1) writes it ``depth`` levels deep."""
    text = json.dumps(value, indent=1, ensure_ascii=False)
    return text.replace("\n", "\n" + " " * depth)


def plan_to_json(plan: Plan) -> str:
    """The plan file's text (indented, for people)."""
    return "".join(_plan_chunks(plan))


def plan_record_json(plan: Plan) -> str:
    """The plan as a job records it: the same data as ``plan_to_json``, one row per line,
    rows last, encoded one row at a time by the C encoder (the indented text is made by pure
    Python, ~0.3 s for 10 000 rows)."""
    head = plan.model_dump(mode="json", exclude={"rows"})
    text = json.dumps(head, ensure_ascii=False, separators=(", ", ": "))
    rows = ",\n".join(
        json.dumps(row.model_dump(mode="json"), ensure_ascii=False, separators=(", ", ": "))
        for row in plan.rows
    )
    return f'{text[:-1]}, "rows": [\n{rows}\n]}}\n'


def plan_from_json(text: str, *, where: str = "The plan") -> Plan:
    """Parse and check a plan; PlanRefused if it is not one, PlanTampered if it was edited."""
    try:
        data = json.loads(text)
    except ValueError:
        raise PlanRefused(f"{where} is not a JSON file.") from None
    if not isinstance(data, dict) or data.get("format") != "ctrader-admin.bulk-plan":
        raise PlanRefused(f"{where} is not a ctrader-admin bulk plan.")
    stated = data.get("content_hash")
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        at = ".".join(str(part) for part in first["loc"])
        # A file that no longer validates was most likely edited: say so when the hash agrees.
        raise PlanRefused(f"{where} is damaged or was edited ({at}: {first['msg']}).") from None
    if not stated or stated != content_hash(plan):
        raise PlanTampered(
            f"{where} was changed after it was made (its content hash does not match); "
            "it is refused. Make a new plan from the CSV."
        )
    return plan


def save_plan(plan: Plan, path: Path | str) -> Path:
    """Write the sealed plan atomically, readable by its owner only."""
    target = Path(path)
    if plan.content_hash != content_hash(plan):
        plan = seal(plan)
    try:
        write_private_chunks(target, _plan_chunks(plan))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise PlanRefused(f"The plan could not be written to {target}: {reason}.") from None
    return target


def load_plan(path: Path | str) -> Plan:
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise PlanRefused(f"The plan {source} cannot be read: {reason}.") from None
    return plan_from_json(text, where=f"The plan {source.name}")
