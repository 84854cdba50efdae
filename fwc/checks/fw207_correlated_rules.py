"""FW207 correlated-rules: two rules with different verdicts partly overlap."""

from __future__ import annotations

from ..diagnostics import Severity
from ._analysis import AnomalyCheck, rule_list, verdict


class CorrelatedRules(AnomalyCheck):
    """Two rules with different verdicts partly overlap, so their order decides.

    What it does
        Reports a rule that shares some packets, but not all, with an earlier rule
        of the same chain that has another verdict (Al-Shaer's "correlation"). The
        example packet is one both match: the earlier rule decides it.

    Why is this bad?
        Swapping the two rules changes what happens to the shared packets. That is
        often deliberate, but a reader has to know, and a reorder by a tool or a
        colleague silently changes the policy.

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -s 192.0.2.0/24 -j ACCEPT
        -A INPUT -p tcp -m tcp --dport 23 -j DROP
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -s 192.0.2.0/24 -p tcp -m tcp ! --dport 23 -j ACCEPT
        -A INPUT -p tcp -m tcp --dport 23 -j DROP
        COMMIT

    Exceptions
        Earlier rules that only name an interface or a conntrack state (`-i lo`,
        `--ctstate RELATED,ESTABLISHED`) admit a class of traffic and are not
        reported. At most 64 earlier rules are compared with each rule and 10 are
        listed per finding, so very large chains stay fast.
    """

    code = "FW207"
    name = "correlated-rules"
    severity = Severity.INFO
    kind = "correlated"
    related_label = "overlaps it with another verdict"

    def message(self, anomaly):
        return (f"this rule ({verdict(anomaly.ref.rule)}) partly overlaps earlier rules with "
                f"another verdict, so their order decides: {rule_list(anomaly)}")
