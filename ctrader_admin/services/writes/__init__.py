"""One model for every write (single, bulk, revert): a typed target with one journal codec
(``targets``), the change asked for (``changes``), ``prepare`` → ``Prepared`` (checked, current
value read once, verdict, rows to confirm, exact request) and ``apply`` → ``Applied`` (sent only
if the target still has the value the operator confirmed)."""

from ctrader_admin.services.writes.apply import Applied, WriteDrift, apply
from ctrader_admin.services.writes.changes import (
    Change,
    LinkAccount,
    NewUser,
    PartnerCode,
    ValueChange,
    WhiteLabel,
    inverse,
)
from ctrader_admin.services.writes.prepare import (
    judged,
    new_user_request,
    prepare,
    validate_partner_id,
)
from ctrader_admin.services.writes.prepared import Prepared, Problem, Verdict, show
from ctrader_admin.services.writes.reading import Current, link_owner, read_current, read_referral
from ctrader_admin.services.writes.requests import Call, WriteRequest
from ctrader_admin.services.writes.targets import (
    AccountTarget,
    Action,
    EmailTarget,
    LinkTarget,
    PartnerTarget,
    Target,
    UnknownTarget,
    UserTarget,
    lookup_query,
    parse_target,
    target_key,
)

__all__ = [
    "AccountTarget",
    "Action",
    "Applied",
    "Call",
    "Change",
    "Current",
    "EmailTarget",
    "LinkAccount",
    "LinkTarget",
    "NewUser",
    "PartnerCode",
    "PartnerTarget",
    "Prepared",
    "Problem",
    "Target",
    "UnknownTarget",
    "UserTarget",
    "ValueChange",
    "Verdict",
    "WhiteLabel",
    "WriteDrift",
    "WriteRequest",
    "apply",
    "inverse",
    "judged",
    "link_owner",
    "lookup_query",
    "new_user_request",
    "parse_target",
    "prepare",
    "read_current",
    "read_referral",
    "show",
    "target_key",
    "validate_partner_id",
]
