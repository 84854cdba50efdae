"""FW209 unmatchable-rule: the rule's own conditions contradict each other."""

from __future__ import annotations

from ..diagnostics import Severity
from ._analysis import AnomalyCheck


class UnmatchableRule(AnomalyCheck):
    """The rule's own conditions contradict each other: no packet can match it.

    What it does
        Reports a rule whose conditions, taken together, leave no packet: two port
        matches with no port in common, `-f` (later fragments carry no ports) with a
        port match, `--ctstate NEW` with `--state ESTABLISHED`, a source address and
        an address range that do not meet, TCP flags or an ICMP type with another
        protocol.

    Why is this bad?
        iptables accepts many such rules without a word, and they silently do
        nothing. The author meant something else, usually another protocol.

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -p tcp -m tcp --dport 22 -m multiport --dports 80,443 -j ACCEPT
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -p tcp -m multiport --dports 22,80,443 -j ACCEPT
        COMMIT
    """

    code = "FW209"
    name = "unmatchable-rule"
    severity = Severity.WARNING
    kind = "unmatchable"

    def message(self, anomaly):
        return "this rule's conditions contradict each other: no packet can match it"

    def help_text(self, anomaly):
        return "check the protocol and the match options; one of them is not what you meant"
