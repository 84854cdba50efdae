"""FW208 generalization: a later, wider rule with another verdict covers an exception."""

from __future__ import annotations

from ..diagnostics import Severity
from ._analysis import AnomalyCheck, rule_list, verdict


class Generalization(AnomalyCheck):
    """A later, wider rule with another verdict covers an earlier exception.

    What it does
        Reports a rule that matches every packet of an earlier rule of the same
        chain, and more, with another verdict: the earlier rule is an exception to
        it. The example packet is one the exception decides.

    Why is this bad?
        Usually it is intended ("allow this host, drop the rest of the network").
        It is reported so that a reader knows the wider rule is not the whole
        story, and so that moving the exception below it is seen as a change.

    Example
        # kind: rules
        *filter
        :INPUT ACCEPT [0:0]
        -A INPUT -s 10.1.2.3/32 -p tcp -m tcp --dport 22 -j ACCEPT
        -A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 22 -j DROP
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT ACCEPT [0:0]
        -A INPUT -s 10.1.2.3/32 -p tcp -m tcp --dport 22 -j ACCEPT
        -A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 80 -j DROP
        COMMIT

    Exceptions
        A chain's unconditional last rule (`-A INPUT -j DROP`) generalizes every
        earlier accept by design and is not reported. Rules that only name an
        interface or a conntrack state do not count as exceptions. At most 64
        earlier rules are compared with each rule.
    """

    code = "FW208"
    name = "generalization"
    severity = Severity.INFO
    kind = "generalization"
    related_label = "an exception it covers"

    def message(self, anomaly):
        return (f"this rule ({verdict(anomaly.ref.rule)}) covers earlier exceptions with "
                f"another verdict: {rule_list(anomaly)}")
