"""FW012 target-not-allowed-here: reported by the iptables-save reader (fwc/parse/rules_save.py)."""

from __future__ import annotations

from ..diagnostics import Severity
from .base import Check


class TargetNotAllowedHere(Check):
    """A target used in a table or chain where the kernel does not allow it.

    What it does
        Reports targets outside the tables and built-in chains they work in: MASQUERADE
        outside nat POSTROUTING, DNAT and REDIRECT outside nat PREROUTING/OUTPUT, SNAT
        outside nat POSTROUTING/INPUT, REJECT in the nat table, CT outside raw, TTL/DSCP/
        TOS outside mangle. For a rule in a user chain, the built-in chains that jump to
        it are considered.

    Why is this bad?
        `iptables-restore --test` accepts such a rule on the nf_tables backend, but the
        kernel refuses it when the rules are loaded, so the firewall fails on the host.

    Example
        # kind: rules
        *nat
        :PREROUTING ACCEPT [0:0]
        -A PREROUTING -o eth0 -j MASQUERADE
        COMMIT

    Use instead
        # kind: rules
        *nat
        :POSTROUTING ACCEPT [0:0]
        -A POSTROUTING -o eth0 -j MASQUERADE
        COMMIT

    Exceptions
        None.
    """

    code = "FW012"
    name = "target-not-allowed-here"
    severity = Severity.ERROR
    applies_to = frozenset({"rules", "cloud-config", "butane", "policy"})
    emitted_by_reader = True
