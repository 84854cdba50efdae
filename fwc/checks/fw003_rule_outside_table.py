"""FW003 rule-outside-table: reported by the iptables-save reader (fwc/parse/rules_save.py)."""

from __future__ import annotations

from ..diagnostics import Severity
from .base import Check


class RuleOutsideTable(Check):
    """A chain declaration or rule before any `*table` line.

    What it does
        Reports chain lines and commands that appear before the first `*table` header or
        after a `COMMIT` without a new header.

    Why is this bad?
        iptables-restore does not know which table the line belongs to and fails on it.

    Example
        # kind: rules
        -A INPUT -i lo -j ACCEPT
        *filter
        :INPUT DROP [0:0]
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -i lo -j ACCEPT
        COMMIT

    Exceptions
        None.
    """

    code = "FW003"
    name = "rule-outside-table"
    severity = Severity.ERROR
    applies_to = frozenset({"rules", "cloud-config", "butane", "policy"})
    emitted_by_reader = True
