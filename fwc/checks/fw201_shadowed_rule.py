"""FW201 shadowed-rule: earlier rules with another verdict take every packet of a rule."""

from __future__ import annotations

from ..diagnostics import Severity
from ._analysis import AnomalyCheck, rule_list, verdict


class ShadowedRule(AnomalyCheck):
    """No packet can reach this rule: earlier rules with another verdict cover it.

    What it does
        Works out, field by field (addresses, protocol, ports, interfaces, conntrack
        state, ICMP type, TCP flags, fragments), which packets each earlier rule of
        the chain ends the walk for, and reports a rule whose packets are all taken
        by earlier rules, one rule or several together, when at least one of them
        has another verdict. Every rule that takes some of its packets is listed,
        and an example packet shows one that gets the other verdict.

    Why is this bad?
        The rule says what should happen to these packets, but something else
        happens: the author's intent is silently overridden. A rule meant to block
        an address after a wide accept, or to open a port after a catch-all reject,
        is the classic case.

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -p tcp -m tcp --dport 1:1023 -j ACCEPT
        -A INPUT -p tcp -m tcp --dport 1024:65535 -j ACCEPT
        -A INPUT -s 198.51.100.0/24 -p tcp -m tcp --dport 22 -j DROP
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -s 198.51.100.0/24 -p tcp -m tcp --dport 22 -j DROP
        -A INPUT -p tcp -m tcp --dport 1:1023 -j ACCEPT
        -A INPUT -p tcp -m tcp --dport 1024:65535 -j ACCEPT
        COMMIT

    Exceptions
        Rules with a match fwc does not model (`-m recent`, `-m mark`, a rate limit)
        never count as covering another rule, so they can hide a real shadowing but
        never cause a false one. Rules after an unconditional terminal rule are
        reported by FW204 instead, exact duplicates by FW203.
    """

    code = "FW201"
    name = "shadowed-rule"
    severity = Severity.WARNING
    kind = "shadowed"
    related_label = "takes its packets first"

    def message(self, anomaly):
        return (f"this rule ({verdict(anomaly.ref.rule)}) is never reached: earlier rules take "
                f"every packet it matches, some with another verdict: {rule_list(anomaly)}")

    def help_text(self, anomaly):
        return "move it above the rules that cover it, or delete it if they say what you mean"
