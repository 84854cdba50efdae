"""FW010 host-bits-set: reported by the iptables-save reader (fwc/parse/rules_save.py)."""

from __future__ import annotations

from ..diagnostics import Severity
from .base import Check


class HostBitsSet(Check):
    """An address with a prefix whose host bits are set.

    What it does
        Reports `10.0.0.5/8`-style values and shows the network iptables turns them into.

    Why is this bad?
        iptables silently masks the address: `-s 10.0.0.5/8` matches all of 10.0.0.0/8,
        which is rarely what the author meant (usually a single host, `/32`).

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -s 10.0.0.5/8 -j ACCEPT
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -s 10.0.0.5/32 -j ACCEPT
        COMMIT

    Exceptions
        When the whole network is meant, write its network address to make that clear.
    """

    code = "FW010"
    name = "host-bits-set"
    severity = Severity.WARNING
    applies_to = frozenset({"rules", "cloud-config", "butane", "policy"})
    emitted_by_reader = True
