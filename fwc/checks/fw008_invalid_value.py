"""FW008 invalid-value: reported by the iptables-save reader (fwc/parse/rules_save.py)."""

from __future__ import annotations

from ..diagnostics import Severity
from .base import Check


class InvalidValue(Check):
    """An option value that iptables rejects.

    What it does
        Validates every option value the way iptables 1.8.9 does: addresses and masks,
        ports and port ranges (`10:5` is refused), ICMP types by name or number,
        connection states, interface names (at most 15 characters), MAC addresses,
        marks, rates, numbers and their ranges for every known match and target.

    Why is this bad?
        iptables refuses the rule and with it the whole restore. Values that look right
        to a human (`--ctstate ESTABLISH`, `--icmp-type echo`) are the usual cause.

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -m conntrack --ctstate ESTABLISH -j ACCEPT
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT
        COMMIT

    Exceptions
        Values only the kernel can check (that an ipset exists, that a helper module is
        loaded) are not reported.
    """

    code = "FW008"
    name = "invalid-value"
    severity = Severity.ERROR
    applies_to = frozenset({"rules", "cloud-config", "butane", "policy"})
    emitted_by_reader = True
