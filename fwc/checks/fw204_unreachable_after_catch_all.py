"""FW204 unreachable-after-catch-all: a rule after an unconditional terminal rule."""

from __future__ import annotations

from ..diagnostics import Severity
from ._analysis import AnomalyCheck, verdict


class UnreachableAfterCatchAll(AnomalyCheck):
    """This rule follows an unconditional terminal rule, so nothing reaches it.

    What it does
        Reports every rule that comes after a rule that matches every packet and
        ends the walk (`-j DROP`, `-j ACCEPT`, `-j REJECT`, `-j RETURN`, a goto, or
        a jump to a chain that always decides, such as a LOG-then-DROP chain, with no
        condition) in the same chain.

    Why is this bad?
        Rules appended after a catch-all (often by `iptables -A` on a host whose
        chain already ends in a reject) are dead: the service they open stays closed
        and the block they add never happens.

    Example
        # kind: rules
        *filter
        :INPUT ACCEPT [0:0]
        -A INPUT -i lo -j ACCEPT
        -A INPUT -j REJECT --reject-with icmp-host-prohibited
        -A INPUT -p tcp -m tcp --dport 443 -j ACCEPT
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT ACCEPT [0:0]
        -A INPUT -i lo -j ACCEPT
        -A INPUT -p tcp -m tcp --dport 443 -j ACCEPT
        -A INPUT -j REJECT --reject-with icmp-host-prohibited
        COMMIT

    Exceptions
        A catch-all with a match fwc does not model (`-m limit -j DROP`) is not
        unconditional and does not count.
    """

    code = "FW204"
    name = "unreachable-after-catch-all"
    severity = Severity.WARNING
    kind = "after-catch-all"
    related_label = "matches every packet"

    def message(self, anomaly):
        catch_all = anomaly.related[0]
        return (f"never reached: rule {catch_all.index} of {catch_all.chain.name} "
                f"({verdict(catch_all.rule)}) matches every packet before it")

    def help_text(self, anomaly):
        return "move the rule above the catch-all"
