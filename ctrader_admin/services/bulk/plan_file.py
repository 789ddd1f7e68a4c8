"""Plans on disk: JSON with a content hash over everything else in the file (rows, profile,
author, time). A file whose content no longer matches its hash was edited after planning and
is refused, whoever opens it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pydantic import ValidationError

from ctrader_admin.services.bulk.errors import PlanRefused, PlanTampered
from ctrader_admin.services.bulk.model import Plan
from ctrader_admin.store.atomic import write_private_text


def content_hash(plan: Plan) -> str:
    body = plan.model_dump(mode="json", exclude={"content_hash"})
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def seal(plan: Plan) -> Plan:
    """The plan with its content hash set."""
    return plan.model_copy(update={"content_hash": content_hash(plan)})


def plan_to_json(plan: Plan) -> str:
    return json.dumps(plan.model_dump(mode="json"), indent=1, ensure_ascii=False) + "\n"


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
        write_private_text(target, plan_to_json(plan))
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
