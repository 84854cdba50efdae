"""FW007 port-without-protocol: reported by the iptables-save reader (fwc/parse/rules_save.py)."""

from __future__ import annotations

from ..diagnostics import Severity
from .base import Check


class PortWithoutProtocol(Check):
    """A port match (or a port mapping) without the protocol it needs.

    What it does
        Reports `--dport` / `--sport` without `-p tcp` / `-p udp`, `-m tcp`, `-m udp` or
        `-m multiport` without a matching `-p`, and NAT targets with ports (`--to-ports`,
        `--to-destination ADDR:PORT`) in a rule without a port protocol.

    Why is this bad?
        Ports only exist for TCP, UDP, SCTP and DCCP: iptables refuses such a rule
        ("unknown option --dport", "TCP match requires -p tcp"). Writing `-p tcp` also
        makes the intent explicit.

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT --dport 22 -j ACCEPT
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -p tcp --dport 22 -j ACCEPT
        COMMIT

    Exceptions
        None.
    """

    code = "FW007"
    name = "port-without-protocol"
    severity = Severity.ERROR
    applies_to = frozenset({"rules", "cloud-config", "butane", "policy"})
    emitted_by_reader = True
