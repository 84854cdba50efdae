"""FW202 redundant-rule: earlier rules with the same verdict already take every packet."""

from __future__ import annotations

from ..diagnostics import Severity
from ._analysis import AnomalyCheck, rule_list, verdict


class RedundantRule(AnomalyCheck):
    """Earlier rules with the same verdict cover this rule: deleting it changes nothing.

    What it does
        Reports a rule whose packets are all taken by earlier rules of the chain (one
        rule, or several together, such as two port ranges that cover a third) that
        all have the same verdict. Every rule that takes some of its packets is
        listed as related.

    Why is this bad?
        A rule that can never match costs a comparison on every packet that gets to
        it and misleads the reader: editing it changes nothing, which is how
        "I changed the rule but nothing happened" starts.

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -s 10.0.0.0/9 -p tcp -m tcp --dport 22 -j ACCEPT
        -A INPUT -s 10.128.0.0/9 -p tcp -m tcp --dport 22 -j ACCEPT
        -A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 22 -j ACCEPT
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -s 10.0.0.0/9 -p tcp -m tcp --dport 22 -j ACCEPT
        -A INPUT -s 10.128.0.0/9 -p tcp -m tcp --dport 22 -j ACCEPT
        COMMIT

    Exceptions
        Exact copies of an earlier rule are reported by FW203 instead. Rules with a
        match fwc does not model never count as covering another rule.
    """

    code = "FW202"
    name = "redundant-rule"
    severity = Severity.WARNING
    kind = "redundant"
    related_label = "already takes its packets"

    def message(self, anomaly):
        return (f"this rule ({verdict(anomaly.ref.rule)}) never matches: earlier rules with the "
                f"same verdict take every packet it matches: {rule_list(anomaly)}")

    def help_text(self, anomaly):
        return "delete it; the earlier rules already do what it says"
