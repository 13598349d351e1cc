"""What is wrong with a scenario, in words a marketer understands.

Errors block activation; warnings are shown on the canvas but let the scenario go live.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from app.graph.wording import about, quote
from app.i18n.text import _

Severity = Literal["error", "warning"]


class IssueCode(StrEnum):
    # The document cannot be read as a whole.
    invalid_document = "invalid_document"
    unsupported_schema = "unsupported_schema"
    # One block, link or setting cannot be read.
    invalid_block = "invalid_block"
    duplicate_id = "duplicate_id"
    unknown_block_type = "unknown_block_type"
    unknown_block_kind = "unknown_block_kind"
    unknown_field = "unknown_field"
    invalid_field = "invalid_field"
    invalid_edge = "invalid_edge"
    invalid_settings = "invalid_settings"
    # The graph's shape.
    no_trigger = "no_trigger"
    unreachable = "unreachable"
    cycle = "cycle"
    port_wired_twice = "port_wired_twice"
    edge_unknown_node = "edge_unknown_node"
    unknown_port = "unknown_port"
    edge_into_trigger = "edge_into_trigger"
    port_unwired = "port_unwired"
    trigger_leads_nowhere = "trigger_leads_nowhere"
    # A condition output no contact takes in practice ("Only once" and the trigger's event).
    branch_never_taken = "branch_never_taken"
    # A block's settings.
    missing_config = "missing_config"
    invalid_config = "invalid_config"
    unknown_message = "unknown_message"
    wrong_channel = "wrong_channel"
    unknown_list = "unknown_list"
    unknown_segment = "unknown_segment"
    # The linter (lint.py): warnings about a scenario that runs, but not as meant.
    condition_never_true = "condition_never_true"
    condition_always_true = "condition_always_true"
    messages_back_to_back = "messages_back_to_back"
    wait_not_matched = "wait_not_matched"
    no_goal = "no_goal"
    wait_never_left = "wait_never_left"
    webhook_refused = "webhook_refused"
    sms_too_long = "sms_too_long"
    field_mostly_missing = "field_mostly_missing"


class Issue(BaseModel):
    """One problem; ``node`` is the block the canvas shows it on (None: the whole scenario).

    ``message`` is in the speaker's language (English for the API); ``code`` is the same in all.

    ``field`` names the setting at fault (``"config.seconds"``, ``"settings.cooldown_seconds"``)
    so an editor can highlight it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    node: str | None
    code: IssueCode
    message: str
    severity: Severity = "error"
    field: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def has_errors(issues: list[Issue]) -> bool:
    return any(issue.is_error for issue in issues)


def block_label(node_id: str, title: str | None = None) -> str:
    """How every message names a block, so marketers can find it on the canvas: by its title in
    words ("Block 'Send an email'") when the caller gave the titles (the screens do), else by its
    id (documents written by hand, which name their blocks themselves)."""
    return _("Block %(block)s") % {"block": quote(title or node_id)}


def about_block(node_id: str, problem: str, title: str | None = None) -> str:
    """``Block 'x': no email chosen``: messages about one block's settings start with its name,
    then a colon (the canvas panel, which already names the block, strips both)."""
    return about(block_label(node_id, title), problem)
