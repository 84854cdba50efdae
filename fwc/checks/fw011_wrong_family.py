"""FW011 wrong-family: reported by the iptables-save reader (fwc/parse/rules_save.py)."""

from __future__ import annotations

from ..diagnostics import Severity
from .base import Check


class WrongFamily(Check):
    """An IPv6 address or protocol in an IPv4 ruleset, or the reverse.

    What it does
        Reports addresses of the other family, `-p icmp` in ip6tables rules and
        `-p icmpv6` in iptables rules, and matches or targets that exist in one family
        only (`-m icmp6` in IPv4, `-j TTL` in IPv6, `-f` in IPv6).

    Why is this bad?
        iptables refuses the other family's addresses and modules; `-p icmp` in IPv6 is
        accepted but matches ICMPv4 carried in IPv6, never ICMPv6, so ping and neighbour
        discovery rules silently match nothing.

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -s 2001:db8::1 -j ACCEPT
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -s 192.0.2.1 -j ACCEPT
        COMMIT

    Exceptions
        None: split the rules into the IPv4 and IPv6 files.
    """

    code = "FW011"
    name = "wrong-family"
    severity = Severity.ERROR
    applies_to = frozenset({"rules", "cloud-config", "butane", "policy"})
    emitted_by_reader = True
