"""FW014 duplicate-chain: reported by the iptables-save reader (fwc/parse/rules_save.py)."""

from __future__ import annotations

from ..diagnostics import Severity
from .base import Check


class DuplicateChain(Check):
    """The same chain declared twice in one table.

    What it does
        Reports a second `:CHAIN` line or `-N CHAIN` for a chain the table already has.

    Why is this bad?
        A repeated declaration usually comes from two generated files pasted together: the
        restore fails on the host ("Chain already exists"), or the second section silently
        replaces rules of the first.

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        :LOGDROP - [0:0]
        :LOGDROP - [0:0]
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        :LOGDROP - [0:0]
        COMMIT

    Exceptions
        None.
    """

    code = "FW014"
    name = "duplicate-chain"
    severity = Severity.ERROR
    applies_to = frozenset({"rules", "cloud-config", "butane", "policy"})
    emitted_by_reader = True
