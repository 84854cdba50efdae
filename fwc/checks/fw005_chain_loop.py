"""FW005 chain-loop: reported by the iptables-save reader (fwc/parse/rules_save.py)."""

from __future__ import annotations

from ..diagnostics import Severity
from .base import Check


class ChainLoop(Check):
    """User chains jump into each other in a circle.

    What it does
        Reports the jump (`-j` or `-g`) that closes a cycle of user chains, naming the
        chains of the cycle.

    Why is this bad?
        The kernel refuses a ruleset with a loop (a packet could never leave it), so the
        whole restore fails.

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        :A - [0:0]
        :B - [0:0]
        -A INPUT -j A
        -A A -j B
        -A B -j A
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        :A - [0:0]
        :B - [0:0]
        -A INPUT -j A
        -A A -j B
        -A B -j RETURN
        COMMIT

    Exceptions
        None.
    """

    code = "FW005"
    name = "chain-loop"
    severity = Severity.ERROR
    applies_to = frozenset({"rules", "cloud-config", "butane", "policy"})
    emitted_by_reader = True
