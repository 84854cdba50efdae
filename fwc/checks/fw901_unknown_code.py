"""FW901 unknown-code: produced by the suppression stage (fwc/suppress.py)."""

from __future__ import annotations

from ..diagnostics import Severity
from .base import Check


class UnknownCode(Check):
    """An ignore directive names a code that does not exist.

    What it does
        Reports every code in a `fwc: ignore=` / `fwc: ignore-file=` directive (or in
        a rule's `-m comment` directive) that is not a check fwc has, with the
        closest existing code when there is one.

    Why is this bad?
        A mistyped code suppresses nothing, so the finding the author meant to
        silence is still reported, or, worse, the directive looks like it documents
        a decision that fwc never applied.

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -i lo -j ACCEPT
        # fwc: ignore=FW999 -- typo for a real code
        -A INPUT -p tcp --dport 22 -j ACCEPT
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -i lo -j ACCEPT
        -A INPUT -p tcp --dport 22 -j ACCEPT
        COMMIT
    """

    code = "FW901"
    name = "unknown-code"
    severity = Severity.ERROR
