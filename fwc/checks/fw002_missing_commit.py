"""FW002 missing-commit: reported by the iptables-save reader (fwc/parse/rules_save.py)."""

from __future__ import annotations

from ..diagnostics import Severity
from .base import Check


class MissingCommit(Check):
    """A `*table` section that never reaches `COMMIT`.

    What it does
        Reports a table header whose section ends (at the next `*table` line or at the end
        of the file) without a `COMMIT` line.

    Why is this bad?
        iptables-restore only applies a table when it reads `COMMIT`: without it the whole
        table is silently not loaded (or the restore fails), so the rules you wrote are
        not the rules that run.

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -i lo -j ACCEPT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -i lo -j ACCEPT
        COMMIT

    Exceptions
        None.
    """

    code = "FW002"
    name = "missing-commit"
    severity = Severity.ERROR
    applies_to = frozenset({"rules", "cloud-config", "butane", "policy"})
    emitted_by_reader = True
