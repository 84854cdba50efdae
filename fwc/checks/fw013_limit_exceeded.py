"""FW013 limit-exceeded: reported by the iptables-save reader (fwc/parse/rules_save.py)."""

from __future__ import annotations

from ..diagnostics import Severity
from .base import Check


class LimitExceeded(Check):
    """A value longer or larger than iptables allows.

    What it does
        Reports multiport lists of more than 15 ports (a range counts 2), comments over 255
        characters, LOG prefixes over 29 characters and chain names over 28 characters.

    Why is this bad?
        iptables refuses lists and names over its limits; a longer LOG prefix is cut (or
        refused, depending on the backend), so log lines lose the text meant to identify
        them.

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16 -j ACCEPT
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -p tcp -m multiport --dports 1:15,16 -j ACCEPT
        COMMIT

    Exceptions
        None.
    """

    code = "FW013"
    name = "limit-exceeded"
    severity = Severity.ERROR
    applies_to = frozenset({"rules", "cloud-config", "butane", "policy"})
    emitted_by_reader = True
