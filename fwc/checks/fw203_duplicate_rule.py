"""FW203 duplicate-rule: an identical rule appears earlier in the chain."""

from __future__ import annotations

from ..diagnostics import Severity
from ._analysis import AnomalyCheck


class DuplicateRule(AnomalyCheck):
    """An identical rule appears earlier in the chain.

    What it does
        Reports a rule with the same target as an earlier rule of the same chain that
        matches exactly the same packets, however the two are spelled (`-s 10.0.0.0/8`
        and `-m iprange --src-range 10.0.0.0-10.255.255.255` are the same rule), with
        the same unmodelled matches; comments and counters aside.

    Why is this bad?
        A terminal duplicate can never match; a non-terminal one (LOG, MARK, a jump)
        runs twice. Either way it is usually a rule added twice by a script that
        does not check what is already there.

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
        -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
        COMMIT
    """

    code = "FW203"
    name = "duplicate-rule"
    severity = Severity.WARNING
    kind = "duplicate"
    related_label = "the same rule"

    def message(self, anomaly):
        first = anomaly.related[0]
        return f"this rule repeats rule {first.index} of {first.chain.name} exactly"

    def help_text(self, anomaly):
        return "delete the copy"
