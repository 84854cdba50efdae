"""FW009 unknown-option: reported by the iptables-save reader (fwc/parse/rules_save.py)."""

from __future__ import annotations

from ..diagnostics import Severity
from .base import Check


class UnknownOption(Check):
    """An option that neither iptables nor the rule's match modules and target have.

    What it does
        Reports an option no loaded module, target or iptables itself defines, and an
        unknown match module, with the closest known spelling as a suggestion.

    Why is this bad?
        iptables refuses the rule ("unknown option", "Couldn't load match"), usually
        because of a typo or an option of a module the rule did not load with `-m`.

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -p tcp -m tcp --dprot 22 -j ACCEPT
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
        COMMIT

    Exceptions
        Match modules fwc does not know are kept verbatim and not checked.
    """

    code = "FW009"
    name = "unknown-option"
    severity = Severity.ERROR
    applies_to = frozenset({"rules", "cloud-config", "butane", "policy"})
    emitted_by_reader = True
